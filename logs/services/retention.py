"""Retention: calls of a billing month past NBAUDIT_RETENTION_MONTHS are dropped as a whole.

NBAUDIT_RETENTION_MONTHS = N keeps the current billing month and the N before it; unset keeps
everything. On PostgreSQL a month goes as its partition: DETACHed in a short transaction of its own (waiting
at most DETACH_LOCK_TIMEOUT for the call table's lock), then its keys deleted from logs_callkey (so the request IDs can be ingested again,
into the default partition, where they are reported), then DROPped: never a DELETE of calls.
On SQLite (development, demo) the month's calls and keys are DELETEd, with the same effect.

Kept whatever happens: rollups, tallies and their tally calls (a tally keeps its own copy of
what counts), approvals and the audit trail, reconciliations and their items (their call ids
then point at nothing; each item keeps its own figures). No cascade runs: a dropped partition
fires no on_delete.

A month is held back while anything registered in HOLDS says so: billing registers "a tally
of the month is not credited yet" (billing.services.retention). `manage.py retention
--dry-run`, `manage.py partitions` and the staff banner say what is due to go and what is held
back, and why.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import translation

from logs.models import Call, CallKey
from logs.services.partitions import (
    TABLE,
    add_months,
    attached,
    current_month,
    is_partitioned,
    partition_month,
    partition_name,
)
from logs.timeutil import month_range, next_month

log = logging.getLogger(__name__)

DETACH_LOCK_TIMEOUT = "5s"

# Each: month -> why it must be kept, or None. Registered by apps that need calls kept. The reason
# is a sentence without a language (a lazy string, django.utils.functional.lazy over codes and
# params): plans and the cached storage facts keep it as is; str() words it in the active language.
HOLDS: list[Callable[[dt.date], str | None]] = []


def reasons_text(reasons) -> list[str]:
    """A month's hold-back reasons worded in the active language."""
    return [str(r) for r in reasons]


def retention_cutoff(now: dt.datetime | None = None) -> dt.date | None:
    """The first billing month kept, or None when everything is kept."""
    keep = settings.NBAUDIT_RETENTION_MONTHS
    if keep is None:
        return None
    return add_months(current_month(now), -keep)


def _months_before(cutoff: dt.date) -> list[dt.date]:
    """Months before the cutoff that still have calls (PostgreSQL: a partition)."""
    if is_partitioned():
        with connection.cursor() as cur:
            months = [m for m in attached(cur).values() if m and m < cutoff]
            # A partition left detached by an interrupted run is finished too.
            cur.execute("SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE %s AND NOT relispartition",
                        [f"{TABLE}\\_p%"])
            months += [m for (name,) in cur.fetchall() if (m := partition_month(name)) and m < cutoff]
        return sorted(set(months))
    first = Call.objects.order_by("created_at").values_list("created_at", flat=True).first()
    if first is None:
        return []
    month, months = current_month(first), []
    while month < cutoff:
        start, end = month_range(month)
        if Call.objects.filter(created_at__gte=start, created_at__lt=end).exists():
            months.append(month)
        month = next_month(month)
    return months


def retention_plan(*, now: dt.datetime | None = None) -> dict:
    """What retention would do now: {"keep_months", "cutoff", "due": [month], "held": [(month, [reasons])]}."""
    cutoff = retention_cutoff(now)
    plan = {"keep_months": settings.NBAUDIT_RETENTION_MONTHS, "cutoff": cutoff, "due": [], "held": []}
    if cutoff is None:
        return plan
    for month in _months_before(cutoff):
        reasons = [r for hold in HOLDS if (r := hold(month))]
        if reasons:
            plan["held"].append((month, reasons))
        else:
            plan["due"].append(month)
    return plan


def month_drop(month: dt.date) -> int | None:
    """Drop one billing month of calls; returns how many calls went."""
    if is_partitioned():
        name = partition_name(month)
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SELECT relispartition FROM pg_class WHERE oid = to_regclass(%s)", [name])
            row = cur.fetchone()
            if row is None:
                return 0
            if row[0]:
                # DETACH takes an ACCESS EXCLUSIVE lock on the call table (CONCURRENTLY is not
                # allowed with a default partition): wait at most DETACH_LOCK_TIMEOUT for running
                # queries (a long export) rather than queue every page behind them; the next run
                # tries again. Its own short transaction: the lock goes at its commit.
                cur.execute("SET LOCAL lock_timeout = %s", [DETACH_LOCK_TIMEOUT])
                # Deferred foreign-key checks of rows written earlier in this transaction run
                # now (a table with pending trigger events cannot be detached or dropped).
                cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cur.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {name}")
        # Detached: no lock on the call table from here. A run stopped here is finished by the
        # next one (the detached table is found by its name).
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"DELETE FROM {CallKey._meta.db_table} k USING {name} p "
                        f"WHERE k.request_id = p.request_id AND k.customer_id = p.customer_id AND k.call_id = p.id")
            dropped = cur.rowcount
            cur.execute(f"DROP TABLE {name}")
        log.warning("retention: partition %s dropped (%s calls)", name, dropped)
        return dropped
    start, end = month_range(month)
    with transaction.atomic():
        # Raw deletes, as a dropped partition: no on_delete cascades to tallies or reconciliations.
        CallKey.objects.filter(created_at__gte=start, created_at__lt=end)._raw_delete(CallKey.objects.db)
        dropped = Call.objects.filter(created_at__gte=start, created_at__lt=end)._raw_delete(Call.objects.db)
    log.warning("retention: %s calls of %s deleted (SQLite)", dropped, month.strftime("%Y-%m"))
    return dropped


def retention_run(*, dry_run: bool = False, now: dt.datetime | None = None) -> dict:
    """Drop every month due (never one held back); returns the plan with "dropped": {month: calls}."""
    plan = retention_plan(now=now)
    plan["dropped"] = {}
    for month, reasons in plan["held"]:
        with translation.override("en"):  # the log is the operators': English
            log.info("retention: %s held back: %s", month.strftime("%Y-%m"), "; ".join(reasons_text(reasons)))
    plan["failed"] = {}
    if not dry_run:
        for month in plan["due"]:
            try:
                plan["dropped"][month] = month_drop(month)
            except OperationalError as exc:  # the lock not had in time: the next run tries again
                log.warning("retention: %s not dropped now: %s", month.strftime("%Y-%m"), exc)
                plan["failed"][month] = str(exc).strip().splitlines()[0] if str(exc).strip() else "busy"
    return plan
