"""PostgreSQL: writing a customer's rollups (an ingest's chunk) probes that customer's rows only,
whichever rollup index the planner takes.

The ingest's upsert takes the stored rows of its keys away (DELETE ... USING the new keys) and the
coarse recompute reads the fine rows of the customer's hours. Each probe must name the customer
(the upsert's, the customer and the hour of each key). Before logs migration 0011 the planner took the fine rollups' (hour) index for the
upsert's probe, and each probe then walked every customer's rows of that hour: at 20M calls,
155 s of a 233-s ingest of 1M rows (docs/scaling.md, Index set). Sequential scans are off here,
so that the plan shows which index each probe would use on a big table."""
import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from logs.models import Call, CoarseChannelRollup, CoarseRollup, HourlyRollup
from logs.services.rollups import rollups_add_calls, rollups_rebuild
from tests import factories
from tests.logs.rollups.test_coarse_plans import _calls
from tests.plans import plan_nodes

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
TABLES = {m._meta.db_table for m in (HourlyRollup, CoarseRollup, CoarseChannelRollup)}


def _probes(sql: str) -> list[tuple[str, str]]:
    """(table, index condition) of each scan of a rollup table in the plan of `sql` (a bitmap
    heap scan's condition is its index scan's)."""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("EXPLAIN (FORMAT JSON) " + sql)
        raw = cur.fetchone()[0]
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    found = []
    for node in plan_nodes(plan):
        table = node.get("Relation Name")
        if table not in TABLES or node["Node Type"] == "ModifyTable":
            continue
        cond = node.get("Index Cond") or node.get("Recheck Cond") or ""
        found.append((table, node["Node Type"], cond))
    return found


def test_a_customers_rollup_write_probes_by_customer_and_hour():
    # Many customers' rollups in the same hours (an hour holds ~12 times the rows of one
    # customer's hour), stored in hour order and analyzed.
    customers = [factories.customer(f"c{k:02d}") for k in range(12)]
    _calls(customers, days=20, n=2000)
    rollups_rebuild()
    new = factories.customer("newco")
    _calls([new], days=20, n=400)
    with connection.cursor() as cur:
        # in hour order, as ingests over time write them (the planner then finds an hour's rows together)
        cur.execute("CREATE TEMP TABLE _by_hour AS SELECT * FROM logs_hourlyrollup ORDER BY hour, customer_id")
        cur.execute("DELETE FROM logs_hourlyrollup")
        cur.execute("INSERT INTO logs_hourlyrollup SELECT * FROM _by_hour ORDER BY hour, customer_id")
        for table in sorted(TABLES):
            cur.execute(f"ANALYZE {table}")
    with CaptureQueriesContext(connection) as ctx, transaction.atomic():
        written = rollups_add_calls(customer_ids=[new.pk], calls=Call.objects.filter(customer=new))
    assert written > 0
    writes = [q["sql"] for q in ctx.captured_queries
              if any(t in q["sql"] for t in TABLES) and q["sql"].lstrip().upper().startswith(("WITH", "DELETE", "INSERT"))]
    probes = [p for sql in writes for p in _probes(sql)]
    # the upsert's probe of the fine rows, the coarse recompute's read of them and its deletes
    assert {table for table, _, _ in probes} == TABLES
    for table, node, cond in probes:
        assert "customer_id" in cond, (table, node, cond)
    upsert = [cond for table, _, cond in probes if "k.customer_id" in cond]
    assert upsert and all("hour" in cond for cond in upsert), probes
