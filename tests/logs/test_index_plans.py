"""PostgreSQL: each main query of the call table is served by an index and sorts nothing.

The queries are the ones the code runs (captured from the Logs page's paging, the tally's and the
reconciliation's selections, the ingest's key look-up, a call's page), explained with
EXPLAIN (FORMAT JSON) over a partitioned table of 3 months x 3 customers, ANALYZEd. Which index
serves which query is the table in docs/scaling.md (Index set).
"""
import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from billing.services.tally import covered_calls, month_spend
from logs.models import Call
from logs.pagination import Key, keyset_page
from logs.selectors.calls import calls_filter
from logs.services.calls_copy import calls_by_key_sql
from logs.services.partitions import add_months, current_month, partition_ensure, partition_name
from logs.timeutil import month_range
from tests import factories
from tests.plans import plan_nodes

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

PER_CUSTOMER_MONTH = 6000


@pytest.fixture(scope="module")
def table(django_db_setup, django_db_blocker):
    """Built once for the module in a transaction rolled back at its end (each test's own
    transaction is a savepoint inside it, as in Django's TestCase.setUpTestData)."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _build()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _build():
    """3 customers x 3 past billing months x PER_CUSTOMER_MONTH calls, with their keys, analyzed."""
    customers = [factories.customer(s) for s in ("acme", "globex", "initech")]
    months = [add_months(current_month(), -n) for n in (3, 2, 1)]
    cats = ["success"] * 14 + ["no_image", "prompt_blocked", "rate_limited", "image_blocked", "overloaded",
                                 "text_refusal"]
    with connection.cursor() as cur:
        for month in months:
            partition_ensure(month, cur=cur)
            start, end = month_range(month)
            for cust in customers:
                cur.execute(f"""
                    INSERT INTO logs_call (customer_id, request_id, request_id_synthetic, created_at, model, family,
                        token_name, route, "group", source, log_type, http_status, finish_reason, block_reason,
                        finish_message, error_text, images, drafts, image_size, billing_mode, category, reason,
                        channel_id, prompt_fingerprint, prompt, charged_usd, ingested_at)
                    SELECT %(c)s, 'r-' || %(c)s || '-' || %(m)s || '-' || g, false,
                        %(start)s::timestamptz + (g * (%(end)s::timestamptz - %(start)s::timestamptz) / %(n)s),
                        CASE WHEN g %% 3 = 0 THEN 'gemini-3.1-flash-image' ELSE 'gemini-3-pro-image-preview' END,
                        CASE WHEN g %% 3 = 0 THEN 'nb2' ELSE 'pro' END,
                        'tok-' || (g %% 4), 'gateway', 'default', 'gateway', '',
                        CASE WHEN (ARRAY{cats!r})[1 + g %% 20] = 'rate_limited' THEN 429 ELSE 200 END,
                        '', '', '', '', 0, 0, '1K', 'per_request', (ARRAY{cats!r})[1 + g %% 20], 'test',
                        g %% 7, '', '', 0.05, now()
                    FROM generate_series(1, %(n)s - 1) g""",
                            {"c": cust.pk, "m": month.month, "start": start, "end": end, "n": PER_CUSTOMER_MONTH})
        cur.execute("INSERT INTO logs_callkey (request_id, customer_id, call_id, created_at) "
                    "SELECT request_id, customer_id, id, created_at FROM logs_call")
        cur.execute("ANALYZE logs_call")
        cur.execute("ANALYZE logs_callkey")
    return {"customers": customers, "months": months}


def _plan(sql: str, params) -> dict:
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        raw = cur.fetchone()[0]
    return (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]


def _empty() -> set[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "WHERE i.inhparent = 'logs_call'::regclass AND c.reltuples <= 0")
        return {r[0] for r in cur.fetchall()}


def _check(plan: dict, *, partitions: int | None = None) -> set[str]:
    """Uses an index, sorts nothing, scans no partition with data sequentially; the indexes used."""
    nodes = list(plan_nodes(plan))
    types = {n["Node Type"] for n in nodes}
    assert not types & {"Sort", "Incremental Sort"}, types
    seq = {n.get("Relation Name") for n in nodes if n["Node Type"] == "Seq Scan"}
    assert not seq - _empty(), seq  # an empty partition (the default, months to come) may be read whole
    used = {n["Index Name"] for n in nodes if "Index Name" in n}
    assert used, types
    if partitions is not None:
        tables = {n["Relation Name"] for n in nodes if n.get("Relation Name", "").startswith("logs_call_p")}
        assert len(tables) == partitions, tables
    return used


def _page_queries(qs, **kw) -> list[tuple[str, tuple]]:
    with CaptureQueriesContext(connection) as ctx:
        keyset_page(qs, per_page=50, **kw)
    sqls = [q["sql"] for q in ctx.captured_queries if "logs_call" in q["sql"]]
    assert sqls
    return sqls


def _explain_captured(sql: str) -> dict:
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (FORMAT JSON) " + sql)
        raw = cur.fetchone()[0]
    return (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]


FILTERS = {
    "none": ({}, "call_cust_time_idx"),
    "category": ({"categories": ["no_image"]}, "call_cust_cat_idx"),  # failures only: a partial index
    "categories": ({"categories": ["no_image", "rate_limited"]}, "call_cust_failed_idx"),  # in time order
    "success": ({"categories": ["success"]}, "call_cust_time_idx"),  # most calls: walked in time order
    "failed": ({"failed": True}, "call_cust_failed_idx"),
    "family": ({"model": "pro"}, "call_cust_fam_idx"),
    "model": ({"model": "gemini-3.1-flash-image"}, "call_cust_model_idx"),
    "token": ({"token_name": "tok-1"}, "call_cust_tok_idx"),
    "status": ({"http_status": 429}, "call_cust_status_idx"),  # statuses other than 200: a partial index
    "status 200": ({"http_status": 200}, "call_cust_time_idx"),
    "channel": ({"channel_id": 3}, "call_cust_time_idx"),  # no index of its own: see docs/scaling.md
}


def _partition_index_of(name: str, used: set[str]) -> bool:
    """Each partition's copy of an index is named `<partition>_<index>` (logs.services.partitions)."""
    return any(u.endswith(f"_{name}") for u in used)


@pytest.mark.parametrize("name", list(FILTERS))
def test_logs_first_page_with_each_single_filter(table, name):
    kw, index = FILTERS[name]
    qs = calls_filter(Call.objects.filter(customer=table["customers"][0]), **kw)
    [sql] = _page_queries(qs)
    used = _check(_explain_captured(sql))
    assert _partition_index_of(index, used), used


@pytest.mark.parametrize("name", ["none", "category", "failed", "token"])
def test_logs_next_page_is_one_index_seek(table, name):
    kw, index = FILTERS[name]
    qs = calls_filter(Call.objects.filter(customer=table["customers"][1]), **kw)
    middle = table["months"][1]
    row = qs.filter(created_at__lt=month_range(middle)[0] + dt.timedelta(days=10)).order_by("-created_at", "-id").first()
    page, exists = _split(_page_queries(qs, after=Key(row.created_at, row.pk)))
    used = _check(_explain_captured(page))
    assert _partition_index_of(index, used), used
    _no_sort(exists)


def _split(sqls: list[str]) -> tuple[str, str]:
    """The page's rows (ordered) and the "is there a page before" check (EXISTS, LIMIT 1): the
    check may read a partition in any order, since it stops at its first row."""
    [page] = [s for s in sqls if 'SELECT 1 AS "a"' not in s]
    [exists] = [s for s in sqls if 'SELECT 1 AS "a"' in s]
    return page, exists


def _no_sort(sql: str) -> None:
    types = {n["Node Type"] for n in plan_nodes(_explain_captured(sql))}
    assert not types & {"Sort", "Incremental Sort"}, types


def test_staff_all_customers_first_and_next_page(table):
    qs = Call.objects.all()
    [sql] = _page_queries(qs)
    assert _partition_index_of("call_time_idx", _check(_explain_captured(sql)))
    row = qs.order_by("-created_at", "-id")[500]
    page, exists = _split(_page_queries(qs, after=Key(row.created_at, row.pk)))
    assert _partition_index_of("call_time_idx", _check(_explain_captured(page)))
    _no_sort(exists)


def test_logs_filter_by_request_id_goes_through_the_key(table):
    cust = table["customers"][2]
    rid = f"r-{cust.pk}-{table['months'][0].month}-77"
    qs = calls_filter(Call.objects.filter(customer=cust), request_id=rid)
    [sql] = _page_queries(qs)
    plan = _explain_captured(sql)
    used = {n.get("Index Name") for n in plan_nodes(plan)}
    assert "logs_callkey_pkey" in used, used
    assert not {n.get("Relation Name") for n in plan_nodes(plan) if n["Node Type"] == "Seq Scan"} - _empty()
    found = [c.request_id for c in qs]  # a prefix: the ID itself and the longer ones it starts
    assert rid in found and all(r.startswith(rid) for r in found), found


def test_tally_selection_reads_one_partition_by_index(table):
    cust, month = table["customers"][0], table["months"][1]
    qs = covered_calls(customer=cust, month=month)
    sql, params = qs.query.sql_with_params()
    plan = _plan(sql, params)
    _check(plan, partitions=1)
    assert any(n.get("Relation Name") == partition_name(month) for n in plan_nodes(plan))
    assert qs.count() > 0


def test_tally_spend_is_an_index_only_scan_of_the_customers_month(table):
    """The spend of a customer-month reads that customer's entries of one partition's time index
    (which carries charged_usd), not the partition's rows: the cost of a tally follows the
    customer's calls, not every customer's."""
    cust, month = table["customers"][0], table["months"][1]
    with CaptureQueriesContext(connection) as ctx:
        spend = month_spend(customer=cust, month=month)
    (query,) = [q["sql"] for q in ctx.captured_queries if "logs_call" in q["sql"]]
    with connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")  # tiny tables here; the bench shows the big ones
        cur.execute("SET LOCAL enable_bitmapscan = off")
        plan = _explain_captured(query)
    used = _check(plan, partitions=1)
    assert _partition_index_of("call_cust_time_idx", used), used
    assert {n["Node Type"] for n in plan_nodes(plan) if "Index Name" in n} == {"Index Only Scan"}
    assert spend == Decimal("0.05") * (PER_CUSTOMER_MONTH - 1)


def test_reconciliation_period_reads_its_partitions_by_index(table):
    cust, month = table["customers"][1], table["months"][2]
    start, end = month_range(month)
    sql = ("SELECT id, request_id, category, charged_usd, expected_usd FROM logs_call "
           "WHERE customer_id = %s AND created_at >= %s AND created_at < %s")
    with connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")  # a period is a whole month here: prefer what scales
        _check(_plan(sql, [cust.pk, start, end]), partitions=1)


def test_ingest_and_reconciliation_match_by_request_id(table):
    cust = table["customers"][0]
    ids = [f"r-{cust.pk}-{m.month}-{g}" for m in table["months"] for g in (5, 500, 5000)] + ["new-1", "new-2"]
    plan = _plan(calls_by_key_sql("id, request_id, category"), [cust.pk, ids])
    used = _check(plan)
    assert "logs_callkey_pkey" in used, used
    with connection.cursor() as cur:
        cur.execute(calls_by_key_sql("request_id"), [cust.pk, ids])
        assert len(cur.fetchall()) == 9


def test_call_detail_by_id(table):
    call = Call.objects.filter(customer=table["customers"][2]).order_by("id")[1000]
    sql, params = Call.objects.filter(pk=call.pk).query.sql_with_params()
    used = _check(_plan(sql, params))
    assert any(u.endswith("_pkey") for u in used), used
