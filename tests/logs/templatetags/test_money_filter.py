"""The one money filter: US$ with thousands separators; totals and credits to cents; a call's
amount to as many places as it carries (2 to 6); the same text from templates and Python."""
from decimal import Decimal

import pytest
from django.template import Context, Template

from logs.money import usd, usd_total


def render(text, **ctx):
    return Template("{% load money %}" + text).render(Context(ctx))


@pytest.mark.parametrize("value, shown", [
    (Decimal("0.1"), "US$0.10"),
    (Decimal("0.067480"), "US$0.06748"),
    (Decimal("0.000000"), "US$0.00"),
    (Decimal("0.000001"), "US$0.000001"),
    (Decimal("1130.85"), "US$1,130.85"),
    (Decimal("37.100000"), "US$37.10"),
    (Decimal("1234567.5"), "US$1,234,567.50"),
    (Decimal("0.0000004"), "US$0.00"),       # below six places: rounded half up to 0
    (Decimal("0.0000005"), "US$0.000001"),
    (Decimal("-0.05"), "-US$0.05"),
    ("0.340000", "US$0.34"),                 # a figure kept as text (JSON)
    (None, "—"),
])
def test_a_calls_amount_carries_its_places(value, shown):
    assert usd(value) == shown
    assert render("{{ v|usd }}", v=value) == shown


@pytest.mark.parametrize("value, shown", [
    (Decimal("1130.845"), "US$1,130.85"),    # half up to cents
    (Decimal("0.06748"), "US$0.07"),
    (Decimal("0"), "US$0.00"),
    (Decimal("14.2"), "US$14.20"),
    ("37.100000", "US$37.10"),
    (None, "—"),
])
def test_a_total_is_to_cents(value, shown):
    assert usd_total(value) == shown
    assert render("{{ v|usd_total }}", v=value) == shown


def test_fixed_places():
    assert usd(Decimal("0.05"), places=6) == "US$0.050000"
    assert usd(Decimal("1000.005"), places=2) == "US$1,000.01"
