"""PostgreSQL: the Overview's reads of the coarse rollups are index-only scans of their covering
indexes: (customer, hour) for a customer; for staff's "all customers", the all-customers
rollups' (hour) and, for the hours marked since the last fold, the coarse rollups' (hour)
(docs/scaling.md, Index set). Over whole billing days, the daily rows through their indexes on
(customer, day) and (day): a few dozen rows a day, not covered. Sequential and bitmap scans are turned off, so the plan shows whether the index
covers every column a read needs (it is an Index Scan, with heap reads, when one is missing)."""
import datetime as dt
import json

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from logs.models import (
    AllCustomersChannelRollup,
    AllCustomersDailyChannelRollup,
    AllCustomersDailyRollup,
    AllCustomersRollup,
    AllCustomersStale,
    CoarseChannelRollup,
    CoarseDailyChannelRollup,
    CoarseDailyRollup,
    CoarseRollup,
)
from logs.selectors.rollups import all_customers_parts, overview_sums
from logs.services.partitions import add_months, current_month, partition_ensure
from logs.services.rollups import all_customers_fold, rollups_rebuild
from logs.timeutil import billing_tz
from tests import factories
from tests.plans import plan_nodes

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


def _scans(sql: str, params) -> list[tuple[str, str, str]]:
    """(node type, index, table) of each scan of a rollup table in the plan of `sql`."""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("SET LOCAL enable_bitmapscan = off")
        cur.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        raw = cur.fetchone()[0]
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    tables = {m._meta.db_table for m in (CoarseRollup, CoarseChannelRollup, AllCustomersRollup,
                                         AllCustomersChannelRollup, AllCustomersDailyRollup,
                                         AllCustomersDailyChannelRollup, CoarseDailyRollup, CoarseDailyChannelRollup)}
    return [(n["Node Type"], n.get("Index Name"), n["Relation Name"]) for n in plan_nodes(plan)
            if n.get("Relation Name") in tables]


@pytest.mark.parametrize("staff,daily", [(False, False), (False, True), (True, False), (True, True)],
                         ids=["customer", "customer per day", "staff", "staff per day"])
def test_overview_reads_are_index_only_scans(staff, daily):
    customers = [factories.customer("acme"), factories.customer("globex")]
    _calls(customers)
    rollups_rebuild()
    all_customers_fold()
    with connection.cursor() as cur:
        cur.execute("ANALYZE logs_coarserollup")
        cur.execute("ANALYZE logs_coarsechannelrollup")
        cur.execute("ANALYZE logs_allcustomersrollup")
        cur.execute("ANALYZE logs_allcustomerschannelrollup")
        cur.execute("ANALYZE logs_allcustomersdailyrollup")
        cur.execute("ANALYZE logs_allcustomersdailychannelrollup")
        cur.execute("ANALYZE logs_coarsedailyrollup")
        cur.execute("ANALYZE logs_coarsedailychannelrollup")
    since = dt.datetime.now(UTC) - dt.timedelta(days=30)
    tz = billing_tz()
    if staff:
        (qs, *also), channel_parts = all_customers_parts(lambda q: q.filter(hour__gte=since), daily=daily)
        expected = [("Index Only Scan", "allcust_chan_hour_idx", "logs_allcustomerschannelrollup"),
                    ("Index Only Scan", "allcust_hour_idx", "logs_allcustomersrollup"),
                    ("Index Only Scan", "coarse_chan_hour_idx", "logs_coarsechannelrollup"),
                    ("Index Only Scan", "coarse_hour_idx", "logs_coarserollup")]
        if daily:  # a day's rows: a few dozen, read through the index on the day (no covering needed)
            expected += [("Index Scan", "allcust_chan_day_idx", "logs_allcustomersdailychannelrollup"),
                         ("Index Scan", "allcust_day_idx", "logs_allcustomersdailyrollup")]
    elif daily:
        qs, also = CoarseDailyRollup.objects.filter(hour__gte=since, customer=customers[0]), ()
        channel_parts = [CoarseDailyChannelRollup.objects.filter(hour__gte=since, customer=customers[0])]
        expected = [("Index Scan", "coarse_chan_day_cust_idx", "logs_coarsedailychannelrollup"),
                    ("Index Scan", "coarse_day_cust_idx", "logs_coarsedailyrollup")]
    else:
        qs, also = CoarseRollup.objects.filter(hour__gte=since, customer=customers[0]), ()
        channel_parts = [CoarseChannelRollup.objects.filter(hour__gte=since, customer=customers[0])]
        expected = [("Index Only Scan", "coarse_chan_cust_hour_idx", "logs_coarsechannelrollup"),
                    ("Index Only Scan", "coarse_cust_hour_idx", "logs_coarserollup")]
    with CaptureQueriesContext(connection) as ctx:
        sums = overview_sums(qs, tz=tz, hourly=False, heat_tz=tz, channels=True, also=also,
                             channel_parts=channel_parts)
    assert sum(r["calls"] for r in sums["periods"]) > 0 and sums["channels"]
    reads = [q["sql"] for q in ctx.captured_queries if "SUM(" in q["sql"]]
    # periods, heatmap and latency of each part, failures by channel of each channel part
    assert len(reads) == (12 if staff and daily else 8 if staff else 4)
    found = sorted({scan for sql in reads for scan in _scans(sql, None)})
    assert found == sorted(expected), found
    for sql in reads:
        assert {s[0] for s in _scans(sql, None) if "daily" not in s[2]} <= {"Index Only Scan"}, sql


def test_the_marked_hours_are_probed_in_the_hour_indexes_whatever_the_marks_statistics():
    """The reads of the marked hours (`hour__among`: logs.lookups) probe the hour indexes for
    them, with the marks' table never analyzed (the planner's default guess of its size) and
    every plan type allowed: `hour IN (SELECT ...)` took a scan of every row in the range."""
    _calls([factories.customer("acme"), factories.customer("globex")])
    rollups_rebuild()
    all_customers_fold()
    with connection.cursor() as cur:
        for table in ("logs_coarserollup", "logs_coarsechannelrollup", "logs_allcustomersrollup",
                      "logs_allcustomerschannelrollup"):
            cur.execute(f"ANALYZE {table}")
    hours = list(AllCustomersRollup.objects.order_by("-hour").values_list("hour", flat=True).distinct()[:30])
    AllCustomersStale.objects.bulk_create([AllCustomersStale(hour=h) for h in hours])
    since = dt.datetime.now(UTC) - dt.timedelta(days=30)
    (_daily, taken, marked), (_daily_ch, taken_ch, marked_ch) = all_customers_parts(
        lambda q: q.filter(hour__gte=since), daily=True)
    for qs in (taken.qs, marked, taken_ch.qs, marked_ch):
        sql, params = qs.values("category").annotate(n=Sum("calls")).order_by().query.sql_with_params()
        assert "= ANY(ARRAY(SELECT" in sql  # the marks read once, then probed
        with connection.cursor() as cur:
            cur.execute("EXPLAIN (FORMAT JSON) " + sql, params)
            raw = cur.fetchone()[0]
        plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
        scans = {n["Node Type"] for n in plan_nodes(plan) if n.get("Relation Name") == qs.model._meta.db_table}
        assert scans and "Seq Scan" not in scans, scans  # an index scan, or a bitmap scan of an index
        assert sum(r["n"] for r in qs.values("category").annotate(n=Sum("calls")).order_by()) > 0
