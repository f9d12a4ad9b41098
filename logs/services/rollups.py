"""Hourly rollups, exact whatever dies or runs at once: the charts read these, never the call table.

Every write of a customer's rollups happens inside the transaction of the calls it counts,
after `rollups_lock`, which updates the customer's RollupVersion row first. That row lock
serializes the writers of one customer (the second waits for the first one's commit, then
reads its rollups), and the version it bumps keys the Overview's cache.

Ingest adds the calls of each chunk as a delta (`RollupDelta`, `rollups_apply`) in the chunk's
own transaction: a worker killed after some chunks leaves rollups that count exactly the calls
it committed, and the upload again adds only the rest. `rollups_refresh` / `rollups_rebuild`
recompute hours from the calls (repairs, bulk loads); `manage.py rollups` checks and repairs.

The coarse rollups (`CoarseRollup`, `CoarseChannelRollup`: what the Overview reads) follow in
the same transaction: after any write of a customer's fine rows for some hours,
`_coarse_recompute` replaces its coarse rows of those hours by the projection of its fine rows
(DELETE, then INSERT ... SELECT ... GROUP BY, under the same lock), so they are exact whenever
the fine ones are. The same transaction marks those hours (`AllCustomersStale`) for staff's
all-customers rollups (`AllCustomersRollup`, `AllCustomersChannelRollup`), which
`all_customers_fold` alone writes: a marked hour is read from the coarse rows until a fold sums
it again.
"""
from __future__ import annotations

import bisect
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import partial

from django.db import connection, connections, transaction
from django.db.models import F, Q

from logs.choices import Category
from logs.models import (
    LATENCY_BUCKETS_MS,
    AllCustomersChannelRollup,
    AllCustomersDailyChannelRollup,
    AllCustomersDailyRollup,
    AllCustomersRollup,
    AllCustomersStale,
    Call,
    CoarseChannelRollup,
    CoarseDailyChannelRollup,
    CoarseDailyRollup,
    CoarseRollup,
    HourlyRollup,
    RollupVersion,
)
from logs.selectors.rollups import (
    ROLLUP_KEY,
    ROLLUP_VALUES,
    all_customers_differences,
    all_customers_sums,
    calls_by_rollup_key,
    calls_grouped_by_rollup_key,
    channel_sums,
    coarse_differences,
    day_tables,
    days_summed,
    overview_warm_soon,
    rollup_status,
    rollups_coarsened,
    rollups_coarsened_channels,
)
from logs.timeutil import UTC, billing_tz, day_start

log = logging.getLogger(__name__)
_UPPERS = [u for u in LATENCY_BUCKETS_MS if u is not None]
_BUCKETS = HourlyRollup.bucket_fields()
_LAT0 = ROLLUP_VALUES.index(_BUCKETS[0])
# What an ingested record lacks is what the call row gets: the field's default.
_DEFAULTS = {name: Call._meta.get_field(name).get_default()
             for name in ("family", "token_name", "image_size", "http_status", "images", "latency_ms",
                          "charged_usd", "channel_id")}


def hour_of(when: dt.datetime) -> dt.datetime:
    return when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def rollups_lock(*, customer_ids: Iterable[int]) -> None:
    """Take the rollup lock of these customers (until commit) and bump their versions.

    Call it inside the transaction that writes their calls or rollups, after the call writes.
    Customers are locked in id order, so two writers never wait on each other in a circle.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("rollups_lock needs a transaction: it holds the lock until commit")
    cids = sorted(set(customer_ids))
    for cid in cids:
        if not RollupVersion.objects.filter(customer_id=cid).update(version=F("version") + 1):
            RollupVersion.objects.bulk_create([RollupVersion(customer_id=cid)], ignore_conflicts=True)
            RollupVersion.objects.filter(customer_id=cid).update(version=F("version") + 1)
    if cids:  # the default Overview of these customers, computed ahead by the worker
        transaction.on_commit(partial(overview_warm_soon, cids))


class RollupDelta:
    """What a set of call changes adds to (or takes from) the rollups, per customer and key."""

    def __init__(self):
        self.rows: dict[int, dict[tuple, list]] = defaultdict(dict)

    def __bool__(self) -> bool:
        return any(self.rows.values())

    def add(self, call, *, sign: int = 1) -> None:
        """Count a call: a dict of the fields an ingest stores, or a Call. sign=-1 takes it away."""
        get = call.get if isinstance(call, Mapping) else (lambda name, default=None: getattr(call, name))
        d = _DEFAULTS
        category = str(get("category"))
        status = get("http_status", d["http_status"])
        key = (hour_of(get("created_at")), get("family", d["family"]) or "", get("model"),
               get("token_name", d["token_name"]) or "", get("image_size", d["image_size"]) or "",
               category, rollup_status(category, status), get("channel_id", d["channel_id"]))
        rows = self.rows[get("customer_id")]
        acc = rows.get(key)
        if acc is None:
            acc = rows[key] = [0, 0, Decimal(0), 0, 0] + [0] * len(_BUCKETS)
        charged = get("charged_usd", d["charged_usd"])
        latency = get("latency_ms", d["latency_ms"])
        acc[0] += sign
        acc[1] += sign * (get("images", d["images"]) or 0)
        if charged is not None:
            acc[2] += sign * (charged if isinstance(charged, Decimal) else Decimal(str(charged)))
        if latency is not None:
            acc[3] += sign
            acc[4] += sign * latency
            acc[_LAT0 + bisect.bisect_right(_UPPERS, latency)] += sign

    def remove(self, call) -> None:
        self.add(call, sign=-1)


def rollups_apply(*, delta: RollupDelta) -> int:
    """Add a delta to the stored rollups, inside the caller's transaction. Returns rows written.

    Under the customers' rollup lock, the rows of the delta's keys are read, merged and written
    back (deleted and inserted). A row that would count fewer than no calls means the rollups had
    drifted already: those hours are recomputed from the calls instead.
    """
    if not delta:
        return 0
    rollups_lock(customer_ids=[cid for cid, rows in delta.rows.items() if rows])
    written = 0
    for cid, rows in delta.rows.items():
        if not rows:
            continue
        rows = {k: list(v) for k, v in rows.items()}
        hours = sorted({k[0] for k in rows})
        stale = []
        for r in (HourlyRollup.objects.filter(customer_id=cid, hour__in=hours)
                  .values_list("pk", *ROLLUP_KEY, *ROLLUP_VALUES)):
            key = r[1:1 + len(ROLLUP_KEY)]
            acc = rows.get(key)
            if acc is not None:
                stale.append(r[0])
                for i, v in enumerate(r[1 + len(ROLLUP_KEY):]):
                    acc[i] += v
        drifted = sorted({k[0] for k, v in rows.items() if v[0] < 0})
        if stale:
            HourlyRollup.objects.filter(pk__in=stale).delete()
        written += _insert(cid, [(*k, *v) for k, v in rows.items() if v[0] > 0 and k[0] not in drifted])
        if drifted:
            log.warning("rollups of customer %s had drifted in %d hours: recomputed", cid, len(drifted))
            written += sum(_recompute(cid, start, end) for start, end in _spans(drifted))
        _coarse_recompute(cid, hours=hours)
    return written


_COLUMNS = [HourlyRollup._meta.get_field(name).column for name in (*ROLLUP_KEY, *ROLLUP_VALUES)]


def _insert(customer_id: int, rows: list[tuple]) -> int:
    """Insert rollup rows (key then figures, as ROLLUP_KEY and ROLLUP_VALUES): COPY on PostgreSQL,
    one prepared INSERT elsewhere. A chunk of calls can make thousands of rows, and the ORM's
    per-value preparation would cost more than the calls' own COPY."""
    if not rows:
        return 0
    table = connection.ops.quote_name(HourlyRollup._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in ("customer_id", *_COLUMNS))
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            with cur.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((customer_id, *row))
        else:
            hour, money = connection.ops.adapt_datetimefield_value, connection.ops.adapt_decimalfield_value
            at = ROLLUP_KEY.index("hour")
            charged = len(ROLLUP_KEY) + ROLLUP_VALUES.index("charged_usd")
            places = HourlyRollup._meta.get_field("charged_usd")
            prepared = []
            for row in rows:
                row = list(row)
                row[at] = hour(row[at])
                row[charged] = money(row[charged], places.max_digits, places.decimal_places)
                prepared.append((customer_id, *row))
            cur.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * (len(_COLUMNS) + 1))})",
                            prepared)
    return len(rows)


def _spans(hours: list[dt.datetime]) -> list[tuple[dt.datetime, dt.datetime]]:
    """Consecutive hours merged into [start, end) spans, so a month of hours is one query."""
    spans: list[list[dt.datetime]] = []
    for h in sorted(set(hours)):
        if spans and h == spans[-1][1]:
            spans[-1][1] = h + dt.timedelta(hours=1)
        else:
            spans.append([h, h + dt.timedelta(hours=1)])
    return [(a, b) for a, b in spans]


def _recompute(customer_id: int, start: dt.datetime | None, end: dt.datetime | None) -> int:
    """Replace a customer's rollups in [start, end) (None: open) by the calls' aggregates.

    The caller holds the customer's rollup lock. The aggregate rows are written in the database
    (INSERT ... SELECT): no row passes through Python.
    """
    stored = HourlyRollup.objects.filter(customer_id=customer_id)
    if start is not None:
        stored = stored.filter(hour__gte=start)
    if end is not None:
        stored = stored.filter(hour__lt=end)
    stored.delete()
    rows = calls_by_rollup_key(customer_id=customer_id, start=start, end=end)
    table = HourlyRollup._meta.db_table
    qn = connection.ops.quote_name
    sql, params = rows.query.sql_with_params()
    columns = ["hour", "customer_id", "family", "model", "token_name", "image_size", "category", "http_status",
               "channel_id", "calls", "images", "charged_usd", "latency_count", "latency_sum_ms", *_BUCKETS]
    select = ["q.h", "%s", "q.family", "q.model", "q.token_name", "q.image_size", "q.category",
              "CASE WHEN q.category = %s THEN NULL ELSE q.http_status END", "q.channel_id", "q.n", "q.imgs",
              "COALESCE(q.charged, 0)", "q.lat_n", "COALESCE(q.lat_sum, 0)", *[f"q.{b}" for b in _BUCKETS]]
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in columns)}) "
            f"SELECT {', '.join(select)} FROM ({sql}) q",
            [customer_id, str(Category.SUCCESS), *params],
        )
        return max(cur.rowcount, 0)


def _coarse_recompute(customer_id: int, *, hours: Iterable[dt.datetime] | None = None,
                      start: dt.datetime | None = None, end: dt.datetime | None = None) -> int:
    """Replace a customer's coarse rollups and failures by channel of `hours` (or of [start,
    end), None: open) by the projection of its fine rollups there (`rollups_coarsened`,
    `rollups_coarsened_channels`), in the database, then its daily ones of the days of those
    hours (`coarse_days_refresh`), and mark those hours for staff's all-customers rollups
    (`AllCustomersStale`).

    The caller holds the customer's rollup lock, in the transaction that wrote the fine rows.
    Returns coarse rows written.
    """
    def narrowed(qs):
        if hours is not None:
            qs = qs.filter(hour__in=hours)
        if start is not None:
            qs = qs.filter(hour__gte=start)
        if end is not None:
            qs = qs.filter(hour__lt=end)
        return qs

    if hours is not None:
        hours = sorted(set(hours))
        if not hours:
            return 0
    fine = narrowed(HourlyRollup.objects.filter(customer_id=customer_id))
    coarse = narrowed(CoarseRollup.objects.filter(customer_id=customer_id))
    channels = narrowed(CoarseChannelRollup.objects.filter(customer_id=customer_id))
    # The hours whose coarse rows change (the old rows' and the new ones'), marked in this same
    # transaction: a marked hour is read from the coarse rows until a fold sums it again.
    marked = hours if hours is not None else sorted(
        set(coarse.values_list("hour", flat=True).distinct().order_by())
        | set(channels.values_list("hour", flat=True).distinct().order_by())
        | set(fine.values_list("hour", flat=True).distinct().order_by()))
    AllCustomersStale.objects.bulk_create([AllCustomersStale(hour=h) for h in marked], batch_size=2000)
    coarse._raw_delete(coarse.db)  # nothing refers to coarse rows: no cascade, no signal
    channels._raw_delete(channels.db)
    written = _insert_select(CoarseRollup, rollups_coarsened(fine), rename={"c_size": "image_size"})
    written += _insert_select(CoarseChannelRollup, rollups_coarsened_channels(fine))
    coarse_days_refresh(customer_id=customer_id, hours=marked)  # and the days of those hours
    return written


def grouped_rows_sql(relation: str, *, bucketed: bool = False) -> str:
    """The rows of a SQL `relation` of new calls grouped as `calls_grouped_by_rollup_key` groups
    calls (same columns, same figures), for `rollups_add_calls(grouped=...)`.

    The relation has the columns customer_id, created_at, family, model, token_name, image_size,
    category, http_status, channel_id, images, charged_usd, latency_ms. Its rows are grouped
    by key and latency bucket first (one bucket per row: width_bucket), then by key: fewer
    figures to work out per row than one filtered count per bucket.

    `bucketed`: the relation is grouped by key and bucket already (`latency_bucket_sql` gives
    the bucket), with the columns customer_id, h (the hour), the keys after created_at, b (the
    bucket), n, imgs, charged, lat_n and lat_sum: a caller that can group its rows on narrower
    values first (the SQL path of an ingest: by shape id) leaves only the last step here.
    """
    keys = "customer_id, h, family, model, token_name, image_size, category, http_status, channel_id"
    buckets = ", ".join(f"COALESCE(SUM(n) FILTER (WHERE b = {i}), 0) AS {name}" for i, name in enumerate(_BUCKETS))
    if not bucketed:
        relation = (
            f"SELECT customer_id, DATE_TRUNC('hour', created_at AT TIME ZONE 'UTC') AS h, family, model, token_name, "
            f"image_size, category, http_status, channel_id, {latency_bucket_sql('latency_ms')} AS b, "
            f"COUNT(*) AS n, COALESCE(SUM(images), 0) AS imgs, SUM(charged_usd) AS charged, "
            f"COUNT(latency_ms) AS lat_n, SUM(latency_ms) AS lat_sum "
            f"FROM ({relation}) r GROUP BY {keys}, b")
    return (
        f"SELECT {keys}, SUM(n) AS n, SUM(imgs) AS imgs, SUM(charged) AS charged, SUM(lat_n) AS lat_n, "
        f"SUM(lat_sum) AS lat_sum, {buckets} FROM ({relation}) x GROUP BY {keys}"
    )


def latency_bucket_sql(column: str) -> str:
    """The latency bucket of a row (SQL): its index among the rollups' buckets."""
    return f"width_bucket({column}, ARRAY[{', '.join(str(u) for u in _UPPERS)}])"


def rollups_add_calls(*, customer_ids: Iterable[int], calls=None, grouped: tuple[str, list] | None = None) -> int:
    """Add new calls to the rollups in the database, inside the caller's transaction (PostgreSQL).

    `calls` is a queryset of Call rows just inserted and not yet counted (an ingest's chunk), of
    these customers. Under their rollup lock, one statement groups the calls as
    `calls_by_rollup_key` does, takes the stored rows of the same keys away and inserts the
    sums: what `RollupDelta` and `rollups_apply` compute in Python, without a row passing
    through Python. Returns rows written. `grouped` (SQL, params), instead of `calls`: the new
    calls already grouped so (`grouped_rows_sql`).
    """
    ids = sorted(set(customer_ids))
    if not ids:
        return 0
    rollups_lock(customer_ids=ids)
    qn = connection.ops.quote_name
    table = qn(HourlyRollup._meta.db_table)
    keys = ["customer_id", "hour", "family", "model", "token_name", "image_size", "category", "http_status",
            "channel_id"]
    figures = ["calls", "images", "charged_usd", "latency_count", "latency_sum_ms", *_BUCKETS]
    select = ["q.customer_id", "q.h", "q.family", "q.model", "q.token_name", "q.image_size", "q.category",
              "CASE WHEN q.category = %s THEN NULL ELSE q.http_status END", "q.channel_id", "q.n", "q.imgs",
              "COALESCE(q.charged, 0)", "q.lat_n", "COALESCE(q.lat_sum, 0)", *[f"q.{b}" for b in _BUCKETS]]
    same = " AND ".join(f"r.{qn(k)} IS NOT DISTINCT FROM k.{qn(k)}" if k in ("http_status", "channel_id")
                        else f"r.{qn(k)} = k.{qn(k)}" for k in keys)
    key_list = ", ".join(qn(k) for k in keys)
    cols = ", ".join(qn(c) for c in (*keys, *figures))
    sums = ", ".join([qn(k) for k in keys] + [f"SUM({qn(f)})" for f in figures])
    if grouped is not None:
        sql, params = grouped
    else:
        sql, params = calls_grouped_by_rollup_key(calls, "customer_id").query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute(
            f"WITH d ({cols}) AS (SELECT {', '.join(select)} FROM ({sql}) q), "
            f"old AS (DELETE FROM {table} r USING (SELECT DISTINCT {key_list} FROM d) k WHERE {same} "
            f"RETURNING {', '.join(f'r.{qn(c)}' for c in (*keys, *figures))}), "
            f"ins AS (INSERT INTO {table} ({cols}) "
            f"SELECT {sums} FROM (SELECT * FROM d UNION ALL SELECT * FROM old) u GROUP BY {key_list} "
            f"RETURNING customer_id, hour) "
            f"SELECT customer_id, hour, count(*) FROM ins GROUP BY customer_id, hour",
            [str(Category.SUCCESS), *params],
        )
        written = cur.fetchall()
    hours: dict[int, list] = defaultdict(list)
    for cid, hour, _ in written:
        hours[cid].append(hour)
    for cid in sorted(hours):  # the hours written: the old rows' keys are among the new ones'
        _coarse_recompute(cid, hours=hours[cid])
    return sum(n for _, _, n in written)


@transaction.atomic
def rollups_refresh(*, customer_id: int, hours: Iterable[dt.datetime]) -> int:
    """Recompute the rollup rows of a customer's hours from its calls, under its lock. Idempotent."""
    spans = _spans([hour_of(h) for h in hours])
    if not spans:
        return 0
    rollups_lock(customer_ids=[customer_id])
    written = 0
    for start, end in spans:
        written += _recompute(customer_id, start, end)
        _coarse_recompute(customer_id, start=start, end=end)
    return written


def rollups_rebuild(*, customer_id: int | None = None, start: dt.datetime | None = None,
                    end: dt.datetime | None = None) -> int:
    """Rebuild the rollups in [start, end) (None: all time) of one customer (None: every customer).

    Each customer is one transaction under its lock: its rollups of the range are deleted and
    recomputed from its calls, so rows no call backs any more go too. Returns rows written.
    """
    from logs.models import Customer

    ids = [customer_id] if customer_id else list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    total = 0
    for cid in ids:
        with transaction.atomic():
            rollups_lock(customer_ids=[cid])
            total += _recompute(cid, start, end)
            _coarse_recompute(cid, start=start, end=end)
    return total


def rollups_repair(*, customer_id: int, start: dt.datetime | None = None, end: dt.datetime | None = None):
    """Recompute the hours in [start, end) where a customer's rollups differ from its calls.

    Returns the differences found (as `rollups_differences` gives them) and the totals; the
    hours are recomputed under the customer's lock, so a running ingest stays exact.
    """
    from logs.selectors.rollups import rollups_differences

    diffs, totals = rollups_differences(customer_id=customer_id, start=start, end=end)
    if diffs:
        rollups_refresh(customer_id=customer_id, hours=[d.hour for d in diffs])
    return diffs, totals


def coarse_repair(*, customer_id: int, start: dt.datetime | None = None, end: dt.datetime | None = None):
    """Recompute the hours in [start, end) where a customer's coarse rollups differ from the
    projection of its fine ones, under its lock. Returns the differences found
    (`coarse_differences`). Run it after `rollups_repair`: the coarse rows derive from the fine."""
    diffs = coarse_differences(customer_id=customer_id, start=start, end=end)
    if diffs:
        with transaction.atomic():
            rollups_lock(customer_ids=[customer_id])
            _coarse_recompute(customer_id, hours=[d.hour for d in diffs])
    return diffs


# The PostgreSQL advisory lock that makes `all_customers_fold` the one writer of AllCustomersRollup.
FOLD_LOCK = 0x6E62_0014
FOLD_BATCH = 2000


def all_customers_fold(*, limit: int | None = None) -> int:
    """Sum the coarse rollups of the marked hours (`AllCustomersStale`) into staff's
    all-customers rollups and drop those marks. Returns the hours folded.

    One fold at a time (an advisory lock on PostgreSQL; SQLite serializes writers). The marks are
    read first, then each batch of hours is replaced by one INSERT ... SELECT over the coarse
    rows, whose snapshot is later than the marks': every write committed before the marks were
    read is in the sums, and a write committed since left a mark of its own, which this fold
    does not delete (it deletes the marks it read, by id), so its hours stay read from the
    coarse rows until the next fold. `limit`: at most this many marks (oldest first).
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", [FOLD_LOCK])
        marks = AllCustomersStale.objects.order_by("pk").values_list("pk", "hour")
        marks = list(marks[:limit] if limit else marks)
        if not marks:
            return 0
        hours = sorted({h for _, h in marks})
        for i in range(0, len(hours), FOLD_BATCH):
            batch = hours[i:i + FOLD_BATCH]
            for model, sums, source in ((AllCustomersRollup, all_customers_sums, CoarseRollup),
                                        (AllCustomersChannelRollup, channel_sums, CoarseChannelRollup)):
                stored = model.objects.filter(hour__in=batch)
                stored._raw_delete(stored.db)
                _insert_select(model, sums(source.objects.filter(hour__in=batch)))
        all_customers_days_refresh(hours=hours)
        ids = [pk for pk, _ in marks]
        for i in range(0, len(ids), FOLD_BATCH):
            done = AllCustomersStale.objects.filter(pk__in=ids[i:i + FOLD_BATCH])
            done._raw_delete(done.db)
    return len(hours)


# Days of hourly rows a refresh of the daily all-customers rollups reads at once.
DAYS_BATCH = 31


def all_customers_days_refresh(*, hours: Iterable[dt.datetime] | None = None, using: str = "default",
                               models: tuple | None = None) -> int:
    """Replace staff's daily all-customers rollups (`AllCustomersDailyRollup`,
    `AllCustomersDailyChannelRollup`) of the billing days these hours fall in (None: every day
    the hourly ones hold) by the sums of the hourly ones (`AllCustomersRollup`,
    `AllCustomersChannelRollup`). Inside the fold's transaction (the one writer of both), or
    of a migration's (`models`: its (daily, hourly, daily channel, hourly channel) models).
    Returns the days written."""
    return _days_refresh(models or (AllCustomersDailyRollup, AllCustomersRollup,
                                    AllCustomersDailyChannelRollup, AllCustomersChannelRollup),
                         hours=hours, using=using, scope={})


def coarse_days_refresh(*, customer_id: int, hours: Iterable[dt.datetime] | None = None, using: str = "default",
                        models: tuple | None = None) -> int:
    """Replace a customer's daily coarse rollups (`CoarseDailyRollup`, `CoarseDailyChannelRollup`)
    of the billing days these hours fall in (None: every day its coarse rows hold) by the sums
    of its coarse ones. Inside the transaction that wrote those, under its rollup lock
    (`_coarse_recompute`), or a migration's (`models`: as `all_customers_days_refresh`).
    Returns the days written."""
    return _days_refresh(models or (CoarseDailyRollup, CoarseRollup, CoarseDailyChannelRollup, CoarseChannelRollup),
                         hours=hours, using=using, scope={"customer_id": customer_id})


def _days_refresh(models: tuple, *, hours, using: str, scope: dict) -> int:
    """Replace the daily rows (`DayFigures`, and failures by channel) of the `scope` (a filter,
    which the new rows get too) in the billing days these hours fall in (None: every day the
    hourly rows hold) by the sums of its hourly rows (`days_summed`). Returns the days written."""
    tz = billing_tz()
    tables = day_tables(models)
    if hours is None:
        hours = set()
        for _daily, hourly, *_ in tables:
            hours |= set(hourly.objects.using(using).filter(**scope).values_list("hour", flat=True)
                         .distinct().order_by())
    days = sorted({h.astimezone(tz).date() for h in hours})
    for i in range(0, len(days), DAYS_BATCH):
        batch = days[i:i + DAYS_BATCH]
        within = Q()
        for d in batch:
            within |= Q(hour__gte=day_start(d, tz), hour__lt=day_start(d + dt.timedelta(days=1), tz))
        for daily, hourly, key, figures, by_hour in tables:
            # every row within the days' spans, not only at their starts: rows cut in another
            # zone (NBAUDIT_BILLING_TZ changed) go too, and a repair of their days replaces them
            old = daily.objects.using(using).filter(within, **scope)
            old._raw_delete(old.db)
            names = ["hour", *key, *figures, *by_hour]
            if connections[using].vendor == "postgresql":  # summed in the database: no row through Python
                _days_insert_select(daily, hourly, names=names, width=len(key), figures=len(figures),
                                    days=batch, tz=tz, using=using, scope=scope)
                continue
            rows = hourly.objects.using(using).filter(within, **scope).values_list("hour", *key, *figures).order_by()
            summed = days_summed(rows, width=len(key), tz=tz, by_hour=bool(by_hour))
            daily.objects.using(using).bulk_create(
                [daily(**scope, **dict(zip(names, (*k, *v)))) for k, v in summed.items()], batch_size=2000)
    return len(days)


def _days_insert_select(daily, hourly, *, names: list[str], width: int, figures: int, days: list[dt.date],
                        tz, using: str, scope: dict) -> None:
    """PostgreSQL: INSERT INTO `daily` the rows of `hourly` in these billing days summed per day
    (in `tz`) and key, as `days_summed` sums them: `names` are the daily fields (hour, `width`
    key fields, `figures` figures, then the calls of each local hour, if any)."""
    qn = connections[using].ops.quote_name
    column = {n: qn(daily._meta.get_field(n).column) for n in [*scope, *names]}
    key, summed, by_hour = names[1:1 + width], names[1 + width:1 + width + figures], names[1 + width + figures:]
    calls = qn(hourly._meta.get_field("calls").column)
    select = [*(column[n] for n in scope), "DATE_TRUNC('day', q.local) AT TIME ZONE %s",
              *(column[n] for n in key), *(f"SUM({column[n]})" for n in summed),
              *(f"COALESCE(SUM({calls}) FILTER (WHERE EXTRACT(HOUR FROM q.local) = {i}), 0)"
                for i in range(len(by_hour)))]
    where = [f"{column[n]} = %s" for n in scope]
    params: list = [*scope.values()]
    spans = []
    for d in days:
        spans.append(f"({qn('hour')} >= %s AND {qn('hour')} < %s)")
        params += [day_start(d, tz), day_start(d + dt.timedelta(days=1), tz)]
    where.append(f"({' OR '.join(spans)})")
    group = ", ".join(str(i) for i in range(1, len(scope) + 1 + width + 1))  # scope, day, key
    sql = (f"INSERT INTO {qn(daily._meta.db_table)} ({', '.join(column[n] for n in [*scope, *names])}) "
           f"SELECT {', '.join(select)} FROM (SELECT *, {qn('hour')} AT TIME ZONE %s AS local "
           f"FROM {qn(hourly._meta.db_table)} WHERE {' AND '.join(where)}) q GROUP BY {group}")
    with connections[using].cursor() as cur:
        cur.execute(sql, [str(tz), str(tz), *params])


def _insert_select(model, rows, *, rename: dict | None = None) -> int:
    """INSERT INTO model's table the rows of a values() queryset, in the database: its fields,
    its s_<field> sums, and the annotations `rename` names the field of."""
    qn = connection.ops.quote_name
    sql, params = rows.query.sql_with_params()
    names = [*rows.query.values_select, *rows.query.annotation_select]
    rename = rename or {}
    fields = [rename.get(n) or (n[2:] if n.startswith("s_") else n) for n in names]
    columns = ", ".join(qn(model._meta.get_field(f).column) for f in fields)
    with connection.cursor() as cur:
        cur.execute(f"INSERT INTO {qn(model._meta.db_table)} ({columns}) "
                    f"SELECT {', '.join(f'q.{qn(n)}' for n in names)} FROM ({sql}) q", params)
        return max(cur.rowcount, 0)


def all_customers_mark(*, customer_id: int, using: str = "default") -> int:
    """Mark every hour of a customer's coarse rollups (before they are deleted with it), so the
    next fold sums those hours again without it. Returns the hours marked."""
    hours = set(CoarseRollup.objects.using(using).filter(customer_id=customer_id)
                .values_list("hour", flat=True).distinct().order_by())
    hours |= set(CoarseChannelRollup.objects.using(using).filter(customer_id=customer_id)
                 .values_list("hour", flat=True).distinct().order_by())
    AllCustomersStale.objects.using(using).bulk_create([AllCustomersStale(hour=h) for h in sorted(hours)],
                                                       batch_size=2000)
    return len(hours)


def all_customers_repair(*, start: dt.datetime | None = None, end: dt.datetime | None = None):
    """Mark and fold the hours in [start, end) where staff's all-customers rollups differ from
    the sums of the coarse ones (`all_customers_differences`). Returns the differences found."""
    diffs = all_customers_differences(start=start, end=end)
    if diffs:
        with transaction.atomic():
            AllCustomersStale.objects.bulk_create(
                [AllCustomersStale(hour=h) for h in sorted({d.hour for d in diffs})], batch_size=2000)
    all_customers_fold()
    return diffs
