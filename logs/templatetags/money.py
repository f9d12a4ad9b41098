"""Money on pages: `{% load money %}{{ call.charged_usd|usd }}` (a call's amount, as many places
as it carries, 2 to 6) and `{{ total|usd_total }}` (totals and credits, to cents). Both are
logs.money's, which tables and exports use too."""
from django import template

from logs.money import usd as _usd, usd_total as _usd_total

register = template.Library()


@register.filter
def usd(value):
    return _usd(value)


@register.filter
def usd_total(value):
    return _usd_total(value)
