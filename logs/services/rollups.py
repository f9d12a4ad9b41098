"""Hourly rollups, kept current at ingest and merge: the charts read these, never the call table."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Count, IntegerField, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncHour

from logs.choices import Category
from logs.models import LATENCY_BUCKETS_MS, Call, HourlyRollup
from logs.timeutil import UTC


def hour_of(when: dt.datetime) -> dt.datetime:
    return when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _bucket_aggregates() -> dict:
    aggs, lower = {}, None
    for i, upper in enumerate(LATENCY_BUCKETS_MS):
        cond = Q(latency_ms__isnull=False)
        if lower is not None:
            cond &= Q(latency_ms__gte=lower)
        if upper is not None:
            cond &= Q(latency_ms__lt=upper)
        aggs[f"lat_{i:02d}"] = Count("id", filter=cond)
        lower = upper
    return aggs


def _spans(hours: list[dt.datetime]) -> list[tuple[dt.datetime, dt.datetime]]:
    """Consecutive hours merged into [start, end) spans, so a month of hours is one query."""
    spans: list[list[dt.datetime]] = []
    for h in sorted(set(hours)):
        if spans and h == spans[-1][1]:
            spans[-1][1] = h + dt.timedelta(hours=1)
        else:
            spans.append([h, h + dt.timedelta(hours=1)])
    return [(a, b) for a, b in spans]


def _insert_select(customer_id: int, rows) -> int:
    """Write the aggregate rows in the database (INSERT ... SELECT): no row passes through Python."""
    table = HourlyRollup._meta.db_table
    qn = connection.ops.quote_name
    sql, params = rows.query.sql_with_params()
    buckets = HourlyRollup.bucket_fields()
    columns = ["hour", "customer_id", "family", "model", "token_name", "image_size", "category", "http_status",
               "calls", "images", "charged_usd", "latency_count", "latency_sum_ms", *buckets]
    select = ["q.h", "%s", "q.family", "q.model", "q.token_name", "q.image_size", "q.category",
              "CASE WHEN q.category = %s THEN NULL ELSE q.http_status END", "q.n", "q.imgs",
              "COALESCE(q.charged, 0)", "q.lat_n", "COALESCE(q.lat_sum, 0)", *[f"q.{b}" for b in buckets]]
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in columns)}) "
            f"SELECT {', '.join(select)} FROM ({sql}) q",
            [customer_id, str(Category.SUCCESS), *params],
        )
        return max(cur.rowcount, 0)


@transaction.atomic
def rollups_refresh(*, customer_id: int, hours: Iterable[dt.datetime]) -> int:
    """Recompute the rollup rows of a customer's hours from its calls. Idempotent."""
    written = 0
    for start, end in _spans([hour_of(h) for h in hours]):
        HourlyRollup.objects.filter(customer_id=customer_id, hour__gte=start, hour__lt=end).delete()
        rows = (
            Call.objects.filter(customer_id=customer_id, created_at__gte=start, created_at__lt=end)
            .annotate(h=TruncHour("created_at", tzinfo=UTC))
            .values("h", "family", "model", "token_name", "image_size", "category", "http_status")
            .annotate(
                n=Count("id"),
                imgs=Coalesce(Sum("images"), Value(0), output_field=IntegerField()),
                charged=Sum("charged_usd"),
                lat_n=Count("latency_ms"),
                lat_sum=Sum("latency_ms"),
                **_bucket_aggregates(),
            )
            .order_by()
        )
        written += _insert_select(customer_id, rows)
    return written


def rollups_rebuild(*, customer_id: int | None = None) -> int:
    """Rebuild every rollup (of one customer) from the call table: repair, or after bulk loads."""
    from logs.models import Customer

    ids = [customer_id] if customer_id else list(Customer.objects.values_list("pk", flat=True))
    total = 0
    for cid in ids:
        hours = (Call.objects.filter(customer_id=cid).annotate(h=TruncHour("created_at", tzinfo=UTC))
                 .values_list("h", flat=True).distinct().order_by())
        total += rollups_refresh(customer_id=cid, hours=list(hours))
    return total
