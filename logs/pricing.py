"""The expected charge of a call, from the dated catalog (billing.md, "What is charged").

`Catalog` loads the (small) price table once; `expected_charge` is pure given a catalog.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from logs.choices import GOOGLE_FREE, REQUEST_ERROR, BillingMode
from logs.families import image_tokens_for
from logs.money import ZERO, q6
from logs.timeutil import billing_tz

MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class Price:
    billing_mode: str
    per_request: Decimal | None
    input_per_m: Decimal | None
    image_per_m: Decimal | None
    text_per_m: Decimal | None
    row_id: int | None = None


class Catalog:
    """The price rows in force, looked up by (family or model, route, day in the billing zone)."""

    def __init__(self, rows):
        self._rows = list(rows)
        self._tz = billing_tz()
        self._cache: dict = {}

    @classmethod
    def load(cls) -> "Catalog":
        from logs.models import PriceRow

        return cls(PriceRow.objects.all())

    def find(self, *, family: str | None, model: str | None, route: str | None, at: dt.datetime) -> Price | None:
        day = at.astimezone(self._tz).date()
        key = (family, (model or "").lower(), route or "", day)
        if key in self._cache:
            return self._cache[key]
        best, best_rank = None, None
        for row in self._rows:
            if row.valid_from > day or (row.valid_to and row.valid_to < day):
                continue
            if row.model:
                if row.model.lower() != key[1]:
                    continue
                specificity = 2
            elif family and row.family == family:
                specificity = 1
            else:
                continue
            if row.route and row.route != key[2]:
                continue
            rank = (specificity, 1 if row.route else 0, row.valid_from)
            if best_rank is None or rank > best_rank:
                best, best_rank = row, rank
        price = None
        if best is not None:
            price = Price(best.billing_mode, best.per_request_usd, best.input_per_m_usd,
                          best.output_image_per_m_usd, best.output_text_per_m_usd, best.pk)
        self._cache[key] = price
        return price


def _per_m(tokens: int | None, rate: Decimal | None) -> Decimal:
    if not tokens or not rate:
        return Decimal(0)
    return Decimal(tokens) * rate / MILLION


def is_2xx(http_status: int | None, category: str) -> bool:
    if category in REQUEST_ERROR:
        return False
    return http_status is None or 200 <= http_status < 300


def expected_charge(
    price: Price | None,
    *,
    family: str | None,
    category: str,
    http_status: int | None = None,
    group_ratio: Decimal | None = None,
    prompt_tokens: int | None = None,
    output_tokens: int | None = None,
    thoughts_tokens: int | None = None,
    image_tokens: int | None = None,
    images: int = 0,
    image_size: str | None = None,
) -> Decimal | None:
    """What should have been charged, at 6 places; None where the model is unpriced."""
    terms = charge_terms(price, family=family, category=category, http_status=http_status,
                         group_ratio=group_ratio, output_tokens=output_tokens, thoughts_tokens=thoughts_tokens,
                         image_tokens=image_tokens, images=images, image_size=image_size)
    if terms is None:
        return None
    rate, rest = terms
    return q6(_per_m(prompt_tokens, rate) + rest)


def charge_terms(
    price: Price | None,
    *,
    family: str | None,
    category: str,
    http_status: int | None = None,
    group_ratio: Decimal | None = None,
    output_tokens: int | None = None,
    thoughts_tokens: int | None = None,
    image_tokens: int | None = None,
    images: int = 0,
    image_size: str | None = None,
) -> tuple[Decimal | None, Decimal] | None:
    """`expected_charge` as (rate per million prompt tokens, the rest): the charge is
    q6(prompt tokens x rate / 1,000,000 + rest) (no prompt tokens or no rate: the rest alone);
    None where the model is unpriced. The ingest's PostgreSQL path prices rows in SQL from these."""
    if price is None:
        return None
    if price.billing_mode == BillingMode.PER_REQUEST:
        if not is_2xx(http_status, category) or price.per_request is None:
            return None, ZERO
        return None, q6(price.per_request * (group_ratio if group_ratio is not None else Decimal(1)))
    # per token
    if category in GOOGLE_FREE or not is_2xx(http_status, category):
        return None, ZERO
    out_total = output_tokens or 0
    if image_tokens is None:
        if images:
            per_image = image_tokens_for(family, image_size) or 0
            image_tokens = min(per_image * images, out_total) if out_total else per_image * images
        else:
            image_tokens = 0
    text_tokens = max(out_total - image_tokens, 0) + (thoughts_tokens or 0)
    return price.input_per_m, _per_m(image_tokens, price.image_per_m) + _per_m(text_tokens, price.text_per_m)
