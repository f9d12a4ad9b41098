"""Reads of hourly rollups for the Overview: small aggregates, never the call table.

Each function takes an already scoped and filtered HourlyRollup queryset and returns plain
rows (dicts) for the pure chart functions of `logs.charts`.
"""
from __future__ import annotations

from django.core.cache import cache
from django.db.models import IntegerField, Q, Sum
from django.db.models.functions import Coalesce, TruncDay

from logs.choices import Category
from logs.models import HourlyRollup
from logs.scoping import is_staff, scope_by_customer_field
from logs.selectors.calls import days_model_key_filter
from logs.timeutil import billing_tz

FACETS_TTL = 300


def rollups_filter(qs, *, date_from=None, date_to=None, model=None, token_name=None, tz=None):
    """Rollups of the chosen days (in `tz`), model or family and API key: as calls are narrowed."""
    return days_model_key_filter(qs, time_field="hour", date_from=date_from, date_to=date_to,
                                 model=model, token_name=token_name, tz=tz)


def rollups_by_period(qs, *, tz, hourly: bool = False) -> list[dict]:
    """Rows of (period, category, calls, images, charged_usd); period is a day in `tz` or an hour."""
    if hourly:
        rows, key = qs.values("hour", "category"), "hour"
    else:
        rows, key = qs.annotate(period=TruncDay("hour", tzinfo=tz)).values("period", "category"), "period"
    rows = rows.annotate(
        n=Sum("calls"), imgs=Sum("images"), charged=Sum("charged_usd"),
    ).order_by()
    return [
        {"period": r[key], "category": r["category"], "calls": r["n"] or 0,
         "images": r["imgs"] or 0, "charged_usd": r["charged"] or 0}
        for r in rows
    ]


def rollups_heatmap(qs, *, tz=None) -> list[dict]:
    """Rows of (dow 1=Monday..7, hod 0..23, calls, failed) in `tz` (default: Beijing time).

    SQL sums per UTC hour (a few hundred rows for a month); the hours are placed in the
    week in Python, which spares the database a time-zone conversion per rollup row.
    """
    tz = tz or billing_tz()
    rows = (
        qs.values("hour")
        .annotate(n=Sum("calls"),
                  failed=Coalesce(Sum("calls", filter=~Q(category=Category.SUCCESS)), 0,
                                  output_field=IntegerField()))
        .order_by()
    )
    cells: dict[tuple[int, int], dict] = {}
    for r in rows:
        local = r["hour"].astimezone(tz)
        key = (local.isoweekday(), local.hour)
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = {"dow": key[0], "hod": key[1], "calls": 0, "failed": 0}
        cell["calls"] += r["n"] or 0
        cell["failed"] += r["failed"] or 0
    return list(cells.values())


def rollups_latency(qs) -> list[dict]:
    """Rows of (image_size, latency bucket counts) over delivered calls."""
    fields = HourlyRollup.bucket_fields()
    rows = (qs.filter(category=Category.SUCCESS).values("image_size")
            .annotate(**{f"s_{f}": Sum(f) for f in fields}).order_by())
    return [{"image_size": r["image_size"], "buckets": [r[f"s_{f}"] or 0 for f in fields]}
            for r in rows]


def rollup_facets(qs, *, key: str) -> tuple[list[str], list[str]]:
    """The models and token names seen in `qs` (for the filter lists), cached a few minutes."""
    cache_key = f"nbaudit:facets:{key}"
    hit = cache.get(cache_key)
    if hit is not None:
        return hit
    models = sorted({m for m in qs.values_list("model", flat=True).distinct().order_by() if m})
    tokens = sorted({t for t in qs.values_list("token_name", flat=True).distinct().order_by() if t})
    cache.set(cache_key, (models, tokens), FACETS_TTL)
    return models, tokens


def rollup_facets_for(*, user, customer) -> tuple[list[str], list[str]]:
    """Models and API keys seen by the customer (or all the user may see), from rollups."""
    qs = scope_by_customer_field(user, HourlyRollup.objects.all())
    if customer is not None:
        qs = qs.filter(customer=customer)
    key = f"c{customer.pk}" if customer is not None else (
        "all" if is_staff(user) else f"c{user.customer_id}")
    return rollup_facets(qs, key=key)
