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


# --- shown to people ------------------------------------------------------------------------
# One way to write money on every page, table and export Summary text: US$ with thousands
# separators; totals and credits to cents; a call's amount to as many places as it carries
# (at least 2, at most 6). The templates' filters are `usd` and `usd_total` (logs.templatetags.money).

def _as_decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return parse_amount(value)
    except ValueError:
        return None


def _written(d: Decimal, places: int) -> str:
    text = f"US${abs(d):,.{places}f}"
    return f"-{text}" if d < 0 and d != 0 else text


def usd(value, *, places: int | None = None) -> str:
    """A call's amount: `US$0.06748`, `US$0.10`, `US$1,130.85`, `US$0.00`; None is a dash.

    `places` fixes the decimals (2 for what is paid); by default as many as the amount carries
    at 6 places, never fewer than 2."""
    d = _as_decimal(value)
    if d is None:
        return "—"
    if places is None:
        d = q6(d)
        exponent = d.normalize().as_tuple().exponent if d else 0
        places = min(MONEY_PLACES, max(2, -int(exponent)))
    else:
        d = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return _written(d, places)


def usd_total(value) -> str:
    """A total or a credit, to cents: `US$1,130.85`; None is a dash."""
    d = _as_decimal(value)
    if d is None:
        return "—"
    return _written(cents(d), 2)
