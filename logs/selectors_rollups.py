"""Reads of hourly rollups for the Overview: small aggregates, never the call table.

Each function takes an already scoped and filtered HourlyRollup queryset and returns plain
rows (dicts) for the pure chart functions of `logs.charts`.
"""
from __future__ import annotations

from django.core.cache import cache
from django.db.models import Q, Sum

from logs.choices import Category
from logs.models import HourlyRollup
from logs.timeutil import billing_tz

FACETS_TTL = 300


def rollups_overview(qs, *, tz, hourly: bool = False, heat_tz=None) -> tuple[list, list, list]:
    """The three shapes the Overview needs, from ONE scan of the rollups.

    Groups by (hour, category, image size) in SQL, then folds those rows in Python into
    rows by period (a day in `tz`, or a UTC hour) and category; heatmap cells (ISO weekday,
    hour) in `heat_tz`, default Beijing time; latency buckets of delivered calls by image
    size. Days are cut at the hour: exact for whole-hour zones such as UTC+8.
    """
    heat_tz = heat_tz or billing_tz()
    fields = HourlyRollup.bucket_fields()
    success = Q(category=Category.SUCCESS)
    rows = (qs.values("hour", "category", "image_size")
            .annotate(n=Sum("calls"), imgs=Sum("images"), charged=Sum("charged_usd"),
                      **{f"s_{f}": Sum(f, filter=success) for f in fields})
            .order_by())
    periods: dict = {}
    heat: dict = {}
    latency: dict = {}
    local_of: dict = {}
    for r in rows:
        hour, category, n = r["hour"], r["category"], r["n"] or 0
        seen = local_of.get(hour)
        if seen is None:
            local = hour.astimezone(tz)
            period = hour if hourly else local.replace(hour=0, minute=0, second=0, microsecond=0)
            bj = hour.astimezone(heat_tz)
            seen = local_of[hour] = (period, (bj.isoweekday(), bj.hour))
        period, cell = seen
        p = periods.get((period, category))
        if p is None:
            p = periods[(period, category)] = {"period": period, "category": category, "calls": 0,
                                                "images": 0, "charged_usd": 0}
        p["calls"] += n
        p["images"] += r["imgs"] or 0
        p["charged_usd"] += r["charged"] or 0
        h = heat.get(cell)
        if h is None:
            h = heat[cell] = {"dow": cell[0], "hod": cell[1], "calls": 0, "failed": 0}
        h["calls"] += n
        if category != Category.SUCCESS:
            h["failed"] += n
        else:
            buckets = latency.setdefault(r["image_size"], [0] * len(fields))
            for i, f in enumerate(fields):
                buckets[i] += r[f"s_{f}"] or 0
    latency_rows = [{"image_size": size, "buckets": b} for size, b in latency.items()]
    return list(periods.values()), list(heat.values()), latency_rows


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
