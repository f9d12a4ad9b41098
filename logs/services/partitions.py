"""PostgreSQL: the call table partitioned by billing month of created_at (declarative, by range).

Bounds are billing months (NBAUDIT_BILLING_TZ, Asia/Shanghai), not UTC months: a tally reads
exactly one partition, and retention drops exactly one billing month. A partition is named
`logs_call_pYYYY_MM`; `logs_call_default` takes a call of a month without one (a clock error in
the data, a month before NBAUDIT_PARTITIONS_FROM, or one already dropped by retention) and is
reported by `manage.py partitions`, the staff banner and the beat task's log.

A new partition is made as a plain table, filled with its month's rows moved out of the default
partition, then ATTACHed: ATTACH takes only a SHARE UPDATE EXCLUSIVE lock on the call table (reads
and inserts go on), where CREATE TABLE ... PARTITION OF would take an ACCESS EXCLUSIVE one.
SQLite keeps one plain table: every function here does nothing there.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import zlib

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from logs.timeutil import billing_tz, month_first, month_range, next_month

log = logging.getLogger(__name__)

TABLE = "logs_call"
DEFAULT = f"{TABLE}_default"
_NAME = re.compile(rf"^{TABLE}_p(\d{{4}})_(\d{{2}})$")
_LOCK = zlib.crc32(b"nbaudit.logs.partitions")  # one advisory lock: partitions are made one at a time


def partition_name(month: dt.date) -> str:
    return f"{TABLE}_p{month.year:04d}_{month.month:02d}"


def partition_month(name: str) -> dt.date | None:
    m = _NAME.match(name)
    return dt.date(int(m[1]), int(m[2]), 1) if m else None


def is_partitioned(using=None) -> bool:
    conn = connection if using is None else using
    if conn.vendor != "postgresql":
        return False
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [TABLE])
        return cur.fetchone() is not None


def current_month(now: dt.datetime | None = None) -> dt.date:
    return (now or timezone.now()).astimezone(billing_tz()).date().replace(day=1)


def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def attached(cur) -> dict[str, dt.date | None]:
    """The call table's partitions: name -> month (None for the default partition)."""
    cur.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = %s::regclass", [TABLE])
    return {name: partition_month(name) for (name,) in cur.fetchall()}


def partition_ensure(month: dt.date, *, cur=None) -> bool:
    """The partition of a billing month, made if missing; True when it was made now.

    Runs in the caller's transaction (the ingest's chunk, a migration): made or not with it.
    """
    month = month_first(month)
    if cur is None:
        with connection.cursor() as cur:
            return partition_ensure(month, cur=cur)
    name = partition_name(month)
    cur.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
    if cur.fetchone()[0]:
        return False
    with transaction.atomic():
        cur.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
        # Made by another meanwhile: read from pg_class with this statement's snapshot
        # (to_regclass reads the session's catalog cache, which waiting on an advisory lock does not
        # refresh: it missed a partition another ingest had just made, and CREATE TABLE failed).
        cur.execute("SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE c.relname = %s AND n.nspname = current_schema())", [name])
        if cur.fetchone()[0]:
            return False
        start, end = month_range(month)
        cur.execute(f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS)")
        indexes_create(name, cur=cur)
        # Rows of this month that landed in the default partition move to their own.
        cur.execute(f"WITH moved AS (DELETE FROM {DEFAULT} WHERE created_at >= %s AND created_at < %s "
                    f"RETURNING *) INSERT INTO {name} SELECT * FROM moved", [start, end])
        if cur.rowcount:
            log.warning("partition %s: %s calls moved out of the default partition", name, cur.rowcount)
        # The bounds as a check first: ATTACH then skips scanning the new table.
        cur.execute(f"ALTER TABLE {name} ADD CONSTRAINT {name}_bounds "
                    f"CHECK (created_at IS NOT NULL AND created_at >= %s AND created_at < %s)", [start, end])
        cur.execute(f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)", [start, end])
        cur.execute(f"ALTER TABLE {name} DROP CONSTRAINT {name}_bounds")
    log.info("partition %s made for %s .. %s", name, start, end)
    return True


def indexes_create(name: str, *, cur) -> None:
    """The call table's indexes on a table about to be attached, named `<table>_<index>` (a plan
    then names the index it uses: `logs_call_p2026_05_call_cust_time_idx`). ATTACH adopts them;
    the primary key's it makes itself (`<table>_pkey`)."""
    cur.execute("SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass AND NOT i.indisprimary",
                [TABLE])
    for index, definition in cur.fetchall():
        head, sep, tail = definition.partition(f" ON ONLY public.{TABLE} ")
        if not sep:
            head, sep, tail = definition.partition(f" ON ONLY {TABLE} ")
        if not sep:
            continue  # not of the form expected: ATTACH makes this one, under its own name
        kind = head.rsplit(" ", 1)[0]  # CREATE [UNIQUE] INDEX
        full = f"{name}_{index}"
        label = f'"{full}" ' if len(full) <= 63 else ""  # else PostgreSQL names it
        cur.execute(f"{kind} {label}ON {name} {tail}")


def partition_indexes_name(index: str, *, cur) -> None:
    """Each partition's copy of the partitioned index `index` named `<partition>_<index>`, as
    `indexes_create` names those of partitions made later (CREATE INDEX on the partitioned table
    names the copies after their columns). For the migrations that add a call index."""
    cur.execute("SELECT to_regclass(%s)", [index])
    if cur.fetchone()[0] is None:
        return
    cur.execute("SELECT t.relname, i.relname FROM pg_inherits h JOIN pg_class i ON i.oid = h.inhrelid "
                "JOIN pg_index x ON x.indexrelid = i.oid JOIN pg_class t ON t.oid = x.indrelid "
                "WHERE h.inhparent = %s::regclass", [index])
    for table, name in cur.fetchall():
        wanted = f"{table}_{index}"
        if name != wanted and len(wanted) <= 63:
            cur.execute(f'ALTER INDEX "{name}" RENAME TO "{wanted}"')


def months_wanted(now: dt.datetime | None = None) -> tuple[dt.date, dt.date]:
    """The months a partition is made for on demand: [first, last] (NBAUDIT_PARTITIONS_FROM or
    the retention's first kept month, whichever is later, to NBAUDIT_PARTITIONS_AHEAD ahead)."""
    current = current_month(now)
    first = month_first(settings.NBAUDIT_PARTITIONS_FROM)
    keep = settings.NBAUDIT_RETENTION_MONTHS
    if keep is not None:
        first = max(first, add_months(current, -keep))
    return first, add_months(current, settings.NBAUDIT_PARTITIONS_AHEAD)


def partitions_ensure(*, now: dt.datetime | None = None) -> list[str]:
    """The partitions of last month, this month and NBAUDIT_PARTITIONS_AHEAD months ahead (beat,
    `migrate`): an insert never waits for one. Returns the names made."""
    if not is_partitioned():
        return []
    first, last = months_wanted(now)
    month, made = max(first, add_months(current_month(now), -1)), []
    while month <= last:
        if partition_ensure(month):
            made.append(partition_name(month))
        month = next_month(month)
    return made


def partitions_for(times, *, cur, known: set[dt.date]) -> None:
    """Before inserting calls of these times: their months' partitions, where wanted (the ingest).

    `known` (the caller's, per run) holds months already seen to have one.
    """
    times = list(times)
    if not times:
        return
    tz = billing_tz()
    # Every month from the earliest call's to the latest's (a superset, without a look at each row).
    month, last_month = (min(times).astimezone(tz).date().replace(day=1),
                         max(times).astimezone(tz).date().replace(day=1))
    months = set()
    while month <= last_month:
        months.add(month)
        month = next_month(month)
    months -= known
    if not months:
        return
    # Only a partition seen committed is remembered: one made now may roll back with the chunk.
    known.update(m for m in attached(cur).values() if m)
    first, last = months_wanted()
    for month in sorted(months - known):
        if first <= month <= last:
            partition_ensure(month, cur=cur)
