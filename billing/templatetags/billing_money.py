"""A local money helper of billing's new panels: US$ with thousands separators, to cents.

Stand-in for the project's one money filter (logs' `usd_total`, in progress elsewhere): the
panels that use it switch to that filter when it lands.
"""
from decimal import Decimal, InvalidOperation

from django import template

from logs.money import cents

register = template.Library()


@register.filter
def usd_cents(value) -> str:
    """1234.5 -> "US$1,234.50"; None or not a number -> "—"."""
    if value is None or value == "":
        return "—"
    try:
        amount = cents(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return "—"
    sign = "-" if amount < 0 else ""
    return f"{sign}US${abs(amount):,.2f}"
