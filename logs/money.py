"""Money: Decimal only. 6 places per call and in sums; cents only for what is paid or shown as a bill."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import models

MONEY_DIGITS = 18
MONEY_PLACES = 6
SIX = Decimal("0.000001")
CENT = Decimal("0.01")
ZERO = Decimal("0.000000")
QUOTA_PER_USD = Decimal(500_000)


def money_field(*, places: int = MONEY_PLACES, **kw) -> models.DecimalField:
    """A model field for an amount in USD: MONEY_DIGITS digits, 6 places (2 for what is paid)."""
    return models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=places, **kw)


def q6(value) -> Decimal:
    return Decimal(value).quantize(SIX, rounding=ROUND_HALF_UP)


def cents(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(text) -> Decimal:
    """`$0.050000`, `＄0.05`, `0.05`, `US$1,000.00` -> the Decimal as written (not rounded).
    Raises ValueError."""
    if isinstance(text, Decimal):
        d = text
    elif isinstance(text, bool):
        raise ValueError(f"not an amount: {text!r}")
    elif isinstance(text, (int, float)):
        d = Decimal(str(text))
    else:
        s = str(text).strip().replace("＄", "").replace("US$", "").replace("$", "").replace(",", "").strip()
        if not s:
            raise ValueError("empty amount")
        try:
            d = Decimal(s)
        except InvalidOperation:
            raise ValueError(f"not an amount: {text!r}") from None
    if not d.is_finite():
        raise ValueError(f"not an amount: {text!r}")
    return d


def parse_usd(text) -> Decimal:
    """An amount as `parse_amount` reads it, at 6 places. Raises ValueError."""
    return q6(parse_amount(text))


def quota_to_usd(quota) -> Decimal:
    """Gateway quota units: 500,000 quota = US$1."""
    if isinstance(quota, bool):
        raise ValueError(f"not a quota: {quota!r}")
    s = str(quota).strip().replace(",", "")
    try:
        d = Decimal(s)
    except InvalidOperation:
        raise ValueError(f"not a quota: {quota!r}") from None
    if not d.is_finite():
        raise ValueError(f"not a quota: {quota!r}")
    return q6(d / QUOTA_PER_USD)


def fmt6(value: Decimal | None) -> str | None:
    return None if value is None else str(q6(value))
