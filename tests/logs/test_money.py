"""logs.money: the one reader of amounts, used by the parsers and the tally approval."""
from __future__ import annotations

from decimal import Decimal

import pytest

from logs.money import parse_amount, parse_usd


@pytest.mark.parametrize("text, amount", [
    ("$0.050000", Decimal("0.050000")), ("＄0.05", Decimal("0.05")), ("US$1,000.00", Decimal("1000.00")),
    (" 5 ", Decimal("5")), ("0.0000004", Decimal("0.0000004")), (3, Decimal("3")), (0.1, Decimal("0.1")),
])
def test_parse_amount_reads_what_is_written_unrounded(text, amount):
    assert parse_amount(text) == amount
    assert str(parse_amount(text)) == str(amount)


def test_parse_usd_rounds_to_six_places():
    assert parse_usd("0.0000004") == Decimal("0.000000")
    assert parse_usd("$0.0500005") == Decimal("0.050001")


@pytest.mark.parametrize("bad", ["", "abc", "NaN", "inf", True, Decimal("NaN"), float("inf")])
def test_bad_amounts_are_a_value_error(bad):
    with pytest.raises(ValueError):
        parse_amount(bad)
    with pytest.raises(ValueError):
        parse_usd(bad)
