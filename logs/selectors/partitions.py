"""Reads of the call table's storage: partitions, the default partition, retention's plan."""
from __future__ import annotations

from django.core.cache import cache
from django.db import connection
from django.utils.translation import gettext as _

from logs.services.partitions import DEFAULT, TABLE, is_partitioned

# The default partition is counted up to this many rows (it is meant to stay empty).
DEFAULT_COUNT_MAX = 1_000_000
WARNINGS_CACHE_SECONDS = 600


def partitions_status() -> dict:
    """{"partitioned", "partitions": [{"name", "month", "bounds", "rows"}], "default_rows"}.

    A partition's rows are the planner's estimate (no COUNT over months of calls); the default
    partition's are counted (up to DEFAULT_COUNT_MAX).
    """
    if not is_partitioned():
        return {"partitioned": False, "partitions": [], "default_rows": 0}
    from logs.services.partitions import partition_month

    with connection.cursor() as cur:
        cur.execute("SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), GREATEST(c.reltuples, 0)::bigint "
                    "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass "
                    "ORDER BY c.relname", [TABLE])
        parts = [{"name": name, "month": partition_month(name), "bounds": bounds, "rows": rows}
                 for name, bounds, rows in cur.fetchall()]
        cur.execute(f"SELECT COUNT(*) FROM (SELECT 1 FROM {DEFAULT} LIMIT {DEFAULT_COUNT_MAX}) s")
        default_rows = cur.fetchone()[0]
    for p in parts:
        if p["name"] == DEFAULT:
            p["rows"] = default_rows
    return {"partitioned": True, "partitions": parts, "default_rows": default_rows}


def storage_warnings(*, fresh: bool = False) -> list[str]:
    """What staff should know about the call table's storage (the banner): calls in the default
    partition, months retention will drop, months it holds back and why. The facts are cached 10
    minutes; the sentences are written in the reader's language each time."""
    key = "nbaudit:storage-facts"
    facts = None if fresh else cache.get(key)
    if facts is None:
        from logs.services.retention import retention_plan

        plan = retention_plan()
        facts = {"default_rows": partitions_status()["default_rows"], "keep_months": plan["keep_months"],
                 "due": [m.strftime("%Y-%m") for m in plan["due"]],
                 "held": [(f"{month:%Y-%m}", list(reasons)) for month, reasons in plan["held"]]}
        cache.set(key, facts, WARNINGS_CACHE_SECONDS)
    warnings = []
    if facts["default_rows"]:
        warnings.append(_("%(n)s calls are in the default partition (their month has no partition: a clock error "
                          "in the data?); see `manage.py partitions`.") % {"n": facts["default_rows"]})
    if facts["due"]:
        warnings.append(_("Retention (%(keep)s months) drops the calls of %(months)s at its next run.")
                        % {"keep": facts["keep_months"], "months": ", ".join(facts["due"])})
    for month, reasons in facts["held"]:
        warnings.append(_("Retention holds back the calls of %(month)s: %(reasons)s.")
                        % {"month": month, "reasons": "; ".join(map(str, reasons))})
    return warnings
