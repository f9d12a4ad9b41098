"""PostgreSQL: the Overview's reads of the coarse rollups are index-only scans of their covering
indexes: (customer, hour) for a customer, (hour) for staff's "all customers" (docs/scaling.md,
Index set). Sequential and bitmap scans are turned off, so the plan shows whether the index
covers every column a read needs (it is an Index Scan, with heap reads, when one is missing)."""
import datetime as dt
import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from logs.models import CoarseRollup
from logs.selectors.rollups import overview_sums
from logs.services.partitions import add_months, current_month, partition_ensure
from logs.services.rollups import rollups_rebuild
from logs.timeutil import billing_tz
from tests import factories

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
UTC = dt.timezone.utc


def _calls(customers, *, days: int = 120, n: int = 4000) -> None:
    end = dt.datetime.now(UTC).replace(microsecond=0)
    start = end - dt.timedelta(days=days)
    with connection.cursor() as cur:
        for k in range(-5, 1):
            partition_ensure(add_months(current_month(), k), cur=cur)
        for cust in customers:
            cur.execute("""
                INSERT INTO logs_call (customer_id, request_id, request_id_synthetic, created_at, model, family,
                    token_name, route, "group", source, log_type, http_status, finish_reason, block_reason,
                    finish_message, error_text, images, drafts, image_size, billing_mode, category, reason,
                    channel_id, prompt_fingerprint, prompt, charged_usd, latency_ms, ingested_at)
                SELECT %(c)s, 'r-' || %(c)s || '-' || g, false,
                    %(start)s::timestamptz + (g * (%(end)s::timestamptz - %(start)s::timestamptz) / %(n)s),
                    CASE WHEN g %% 3 = 0 THEN 'gemini-3.1-flash-image' ELSE 'gemini-3-pro-image-preview' END,
                    CASE WHEN g %% 3 = 0 THEN 'nb2' ELSE 'pro' END, 'tok-' || (g %% 4), 'gateway', 'default',
                    'gateway', '', CASE WHEN g %% 5 = 0 THEN 429 ELSE 200 END, '', '', '', '', 0, 0,
                    (ARRAY['1K', '2K', '4K'])[1 + g %% 3], 'per_request',
                    CASE WHEN g %% 5 = 0 THEN 'rate_limited' ELSE 'success' END, 'test', g %% 7, '', '', 0.05,
                    1000 + g %% 40000, now()
                FROM generate_series(1, %(n)s) g""", {"c": cust.pk, "start": start, "end": end, "n": n})


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _scans_of_coarse(sql: str, params) -> list[tuple[str, str]]:
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("SET LOCAL enable_bitmapscan = off")
        cur.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        raw = cur.fetchone()[0]
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    return [(n["Node Type"], n.get("Index Name")) for n in _nodes(plan)
            if n.get("Relation Name") == CoarseRollup._meta.db_table]


@pytest.mark.parametrize("staff", [False, True], ids=["customer", "staff"])
def test_overview_reads_are_index_only_scans(staff):
    customers = [factories.customer("acme"), factories.customer("globex")]
    _calls(customers)
    rollups_rebuild()
    with connection.cursor() as cur:
        cur.execute("ANALYZE logs_coarserollup")
    since = dt.datetime.now(UTC) - dt.timedelta(days=30)
    qs = CoarseRollup.objects.filter(hour__gte=since)
    if not staff:
        qs = qs.filter(customer=customers[0])
    tz = billing_tz()
    with CaptureQueriesContext(connection) as ctx:
        sums = overview_sums(qs, tz=tz, hourly=False, heat_tz=tz, channels=True)
    assert sum(r["calls"] for r in sums["periods"]) > 0 and sums["channels"]
    reads = [q["sql"] for q in ctx.captured_queries if '"logs_coarserollup"' in q["sql"]]
    assert len(reads) == 4  # periods, heatmap, latency, failures by channel
    index = "coarse_hour_idx" if staff else "coarse_cust_hour_idx"
    for sql in reads:
        assert _scans_of_coarse(sql, None) == [("Index Only Scan", index)], sql
