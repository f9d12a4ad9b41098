"""Reconciliation: a customer's local log against the platform's charges (billing.md).

`reconciliation_run` streams the local log into a staging table (COPY on PostgreSQL,
executemany on SQLite: only the loading differs), then matches it with the platform's
calls and ingest conflicts of the period in SQL, one category per request ID, and writes
the ReconciliationItem rows with INSERT ... SELECT. Money is handled in SQL as integer
micro-dollars (exact on both databases) and comes back as Decimal at 6 places.

The period is whole days in the billing zone (UTC+8): given, or from the day of the first
local row to the day of the last. A local log with no row in the period is refused.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import time
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from billing.choices import ReconCategory
from logs.parsers import LocalLogError, LocalRow, Rejected, local_log_read
from billing.models import Reconciliation, ReconciliationItem
from logs.services.jobs import jobs_fail_silent
from logs.choices import GOOGLE_FREE, REQUEST_ERROR, BillingMode, Category
from logs.coverage import covered_sql
from logs.models import Call, Customer
from logs.models.ingest import JobStatus
from logs.money import q6
from logs.timeutil import billing_tz, day_range

log = logging.getLogger(__name__)

MICRO = 1_000_000
BATCH = 25_000
PROGRESS_EVERY = 50_000
MAX_REJECTED_KEPT = 1000
# A running reconciliation records heartbeat_at with its progress and before the matching (one
# transaction); one silent this long lost its worker: billing.tasks.reconciliations_reap fails it.
RECON_STALE_AFTER = dt.timedelta(minutes=15)
RECON_WORKER_LOST = "the worker stopped while reconciling this log; run it again"
# Over-charged money is counted over these categories (billing.md).
OVER_CATEGORIES = (ReconCategory.DUPLICATE_CHARGE, ReconCategory.CHARGED_FOR_ERROR,
                   ReconCategory.CHARGED_BUT_FREE, ReconCategory.AMOUNT_MISMATCH)
# Amount tolerance: max($0.0001, 1% of the expected charge).
TOLERANCE_MIN_MICROS = 100
TOLERANCE_PERCENT = 1


class ReconciliationRefused(ValueError):
    """The local log cannot be reconciled (no row in the period, not a local log, bad dates)."""


@dataclass
class _Period:
    date_from: dt.date
    date_to: dt.date

    @property
    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        return day_range(self.date_from, self.date_to, billing_tz())


# ---------------------------------------------------------------------------
# Creating and running
# ---------------------------------------------------------------------------

def reconciliation_create(*, customer: Customer, user=None, upload=None, filename: str = "",
                          date_from: dt.date | None = None, date_to: dt.date | None = None) -> Reconciliation:
    """A queued reconciliation row (the uploaded file stored with it). Raises ReconciliationRefused."""
    _check_dates(date_from, date_to)
    recon = Reconciliation(customer=customer, created_by=user if getattr(user, "pk", None) else None,
                           date_from=date_from, date_to=date_to,
                           filename=(filename or getattr(upload, "name", "") or "")[:255])
    if upload is not None:
        recon.file.save(recon.filename or "local-log", upload, save=False)
    recon.save()
    return recon


def reconciliation_enqueue(*, reconciliation: Reconciliation) -> None:
    """Queue the task once the row is committed."""
    from billing.tasks import reconciliation_task

    rid = reconciliation.pk
    transaction.on_commit(lambda: reconciliation_task.delay(rid))


def _check_dates(date_from, date_to) -> None:
    if date_from and date_to and date_from > date_to:
        raise ReconciliationRefused(f"the period starts ({date_from}) after it ends ({date_to})")


def reconciliation_run(*, reconciliation: Reconciliation | None = None, source=None,
                       customer: Customer | None = None, date_from: dt.date | None = None,
                       date_to: dt.date | None = None, user=None, filename: str = "") -> Reconciliation:
    """Run a reconciliation: the given row, or a new one for (customer, source, period).

    `source` is a path, bytes or a binary file object; when None, the row's stored file.
    On refusal the row is marked failed with the message and ReconciliationRefused is raised.
    """
    if reconciliation is None:
        if customer is None or source is None:
            raise TypeError("reconciliation_run needs a reconciliation, or a customer and a source")
        if not filename and isinstance(source, (str, os.PathLike)):
            filename = os.path.basename(os.fspath(source))
        reconciliation = reconciliation_create(customer=customer, user=user, filename=filename,
                                               date_from=date_from, date_to=date_to)
    recon = reconciliation
    now = timezone.now()
    Reconciliation.objects.filter(pk=recon.pk).update(
        status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, error="", rows_done=0)
    recon.refresh_from_db()
    try:
        _check_dates(recon.date_from, recon.date_to)
        if source is None:
            if not recon.file:
                raise ReconciliationRefused("no local log was given")
            recon.file.open("rb")
            try:
                _run(recon, recon.file)
            finally:
                recon.file.close()
        else:
            _run(recon, source)
    except (ReconciliationRefused, LocalLogError) as exc:
        _fail(recon, str(exc))
        raise ReconciliationRefused(str(exc)) from None
    except Exception:
        log.exception("reconciliation %s failed", recon.pk)
        _fail(recon, "The reconciliation failed because of an internal error; staff have been told.")
        raise
    return recon


def reconciliations_reap(*, now: dt.datetime | None = None) -> list[int]:
    """Running reconciliations whose worker stopped (silent for RECON_STALE_AFTER): failed, in
    words. Nothing of a failed run is kept but the row, so running it again is safe. Returns the
    ids failed."""
    failed = jobs_fail_silent(queryset=Reconciliation.objects.all(), stale_after=RECON_STALE_AFTER,
                              message=RECON_WORKER_LOST, now=now)
    if failed:
        log.warning("reconciliations reaped (worker lost): %s", failed)
    return failed


def _fail(recon: Reconciliation, message: str) -> None:
    recon.status = JobStatus.FAILED
    recon.error = message[:2000]
    recon.finished_at = timezone.now()
    Reconciliation.objects.filter(pk=recon.pk).update(
        status=recon.status, error=recon.error, finished_at=recon.finished_at,
        rejected=recon.rejected, rejected_count=recon.rejected_count, rows_done=recon.rows_done)


# ---------------------------------------------------------------------------
# Staging: only the loading differs between the databases
# ---------------------------------------------------------------------------

class _Stage:
    """A temporary table of the local rows: (line, request_id, created_at, category, charged)."""

    def __init__(self, recon_id: int):
        self.name = f"recon_local_{recon_id}"
        self.extra = f"recon_price_{recon_id}"
        self.first = f"recon_first_{recon_id}"
        self.repeated = False
        self.pg = connection.vendor == "postgresql"
        self.ops = connection.ops

    def create(self) -> None:
        ts = "timestamptz" if self.pg else "text"
        with connection.cursor() as cur:
            self.drop(cur)
            cur.execute(f"CREATE TEMP TABLE {self.name} (line integer NOT NULL, request_id varchar(200) NOT NULL, "
                        f"created_at {ts} NOT NULL, category varchar(16) NOT NULL, charged bigint NULL)")
            cur.execute(f"CREATE TEMP TABLE {self.extra} (call_id bigint PRIMARY KEY, "
                        f"billing_mode varchar(16) NOT NULL, expected bigint NULL)")

    def drop(self, cur=None) -> None:
        own = cur is None
        cur = cur or connection.cursor()
        try:
            for table in (self.name, self.extra, self.first):
                cur.execute(f"DROP TABLE IF EXISTS {table}")
        finally:
            if own:
                cur.close()

    def load(self, rows: list[LocalRow]) -> None:
        if not rows:
            return
        with connection.cursor() as cur:
            if self.pg:
                # Binary COPY: psycopg's C dumpers write the rows, PostgreSQL reads them unparsed.
                with cur.cursor.copy(
                    f"COPY {self.name} (line, request_id, created_at, category, charged) FROM STDIN (FORMAT BINARY)"
                ) as copy:
                    copy.set_types(["int4", "varchar", "timestamptz", "varchar", "int8"])
                    write = copy.write_row
                    for line, rid, at, category, charged, _model in rows:
                        write((line, rid, at, category, None if charged is None else _micros(charged)))
            else:
                adapt = self.ops.adapt_datetimefield_value
                cur.executemany(
                    f"INSERT INTO {self.name} (line, request_id, created_at, category, charged) "
                    f"VALUES (%s, %s, %s, %s, %s)",
                    [(r.line, r.request_id, adapt(r.created_at), r.category, _micros(r.charged_usd))
                     for r in rows],
                )

    def span(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """The first and the last local time, as aware datetimes."""
        with connection.cursor() as cur:
            cur.execute(f"SELECT MIN(created_at), MAX(created_at) FROM {self.name}")
            first, last = cur.fetchone()
        if not self.pg and first is not None:
            first, last = (dt.datetime.fromisoformat(v).replace(tzinfo=dt.timezone.utc) for v in (first, last))
        return first, last

    def analyze(self, table: str | None = None) -> None:
        if self.pg:
            with connection.cursor() as cur:
                cur.execute(f"ANALYZE {table or self.name}")

    def keep_first(self, start, end) -> None:
        """The local rows of the period, one per request ID (its first line).

        Most logs name each request once: then the stage is read as it is. Otherwise the
        first line of each request ID is kept in a table of its own.
        """
        params = {"start": self.param(start), "end": self.param(end)}
        self.analyze()
        with connection.cursor() as cur:
            cur.execute(f"SELECT 1 FROM {self.name} WHERE created_at >= %(start)s AND created_at < %(end)s "
                        f"GROUP BY request_id HAVING COUNT(*) > 1 LIMIT 1", params)
            self.repeated = cur.fetchone() is not None
            if not self.repeated:
                return
            cur.execute(
                f"CREATE TEMP TABLE {self.first} AS SELECT line, request_id, category, charged FROM ("
                f"SELECT line, request_id, category, charged, "
                f"ROW_NUMBER() OVER (PARTITION BY request_id ORDER BY line) AS rn FROM {self.name} "
                f"WHERE created_at >= %(start)s AND created_at < %(end)s) s WHERE rn = 1", params)
        self.analyze(self.first)

    def local_source(self) -> str:
        if self.repeated:
            return self.first
        return (f"(SELECT line, request_id, category, charged FROM {self.name} "
                f"WHERE created_at >= %(start)s AND created_at < %(end)s)")

    def param(self, value: dt.datetime):
        return value if self.pg else self.ops.adapt_datetimefield_value(value)


def _micros(value: Decimal | None) -> int | None:
    return None if value is None else int(q6(value) * MICRO)


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------

class _Clock:
    """Durations of a run's phases, logged at INFO (and read by the benchmark)."""

    def __init__(self):
        self.phases: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.phases[name] = round(now - self._last, 3)
        self._last = now


def _run(recon: Reconciliation, source) -> None:
    stage = _Stage(recon.pk)
    clock = recon._clock = _Clock()
    stage.create()
    try:
        first, last, parsed = _load(recon, stage, source)
        clock.lap("load")
        period = _period(recon, first, last, parsed)
        start, end = period.bounds
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT COUNT(*), SUM(CASE WHEN created_at >= %(start)s AND created_at < %(end)s THEN 1 ELSE 0 END) "
                f"FROM {stage.name}", {"start": stage.param(start), "end": stage.param(end)})
            total, inside = cur.fetchone()
        inside = int(inside or 0)
        if inside == 0:
            raise ReconciliationRefused(
                f"the local log has no row in the period {period.date_from} to {period.date_to} "
                f"(UTC+8): {total} rows read, {recon.rejected_count} rejected"
            )
        recon.date_from, recon.date_to = period.date_from, period.date_to
        recon.local_rows = inside
        recon.outside_period = int(total) - inside
        clock.lap("period")
        _price_missing(recon, stage, start, end)
        clock.lap("price_missing")
        # The matching runs in one transaction (no progress visible until it commits): a last
        # sign of life before it; RECON_STALE_AFTER leaves it room.
        Reconciliation.objects.filter(pk=recon.pk).update(heartbeat_at=timezone.now())
        with transaction.atomic():
            if stage.pg:
                with connection.cursor() as cur:
                    cur.execute("SET LOCAL work_mem = '256MB'")
                    cur.execute("SET LOCAL jit = off")
            stage.keep_first(start, end)
            clock.lap("first_rows")
            _match(recon, stage, start, end, clock)
    finally:
        stage.drop()
    log.info("reconciliation %s: %s", recon.pk, clock.phases)


def _load(recon: Reconciliation, stage: _Stage, source):
    """Stream the local log into the stage. Returns (first time, last time, rows parsed)."""
    done = 0
    batch: list[LocalRow] = []
    rejected: list[dict] = []
    rejected_count = 0

    def remember_format(fmt):
        recon.local_format = fmt

    for item in local_log_read(source, tz=billing_tz(), customer_slug=recon.customer.slug,
                               on_format=remember_format):
        done += 1
        if type(item) is Rejected:
            rejected_count += 1
            if len(rejected) < MAX_REJECTED_KEPT:
                rejected.append({"line": item.line, "reason": item.reason})
        else:
            batch.append(item)
            if len(batch) >= BATCH:
                stage.load(batch)
                batch = []
        if done % PROGRESS_EVERY == 0:
            Reconciliation.objects.filter(pk=recon.pk).update(rows_done=done, heartbeat_at=timezone.now())
    stage.load(batch)
    recon.rows_done = done
    recon.rejected = rejected
    recon.rejected_count = rejected_count
    Reconciliation.objects.filter(pk=recon.pk).update(
        rows_done=done, local_format=recon.local_format, rejected=rejected, rejected_count=rejected_count,
        heartbeat_at=timezone.now())
    first, last = stage.span()
    return first, last, done - rejected_count


def _period(recon: Reconciliation, first, last, parsed: int) -> _Period:
    tz = billing_tz()
    if parsed == 0:
        raise ReconciliationRefused(
            f"the local log has no valid row ({recon.rejected_count} rejected)" if recon.rejected_count
            else "the local log has no row")
    date_from = recon.date_from or first.astimezone(tz).date()
    date_to = recon.date_to or last.astimezone(tz).date()
    if date_from > date_to:
        raise ReconciliationRefused(
            f"the local log has no row in the period {date_from} to {date_to} (UTC+8): "
            f"its rows run from {first.astimezone(tz).date()} to {last.astimezone(tz).date()}")
    return _Period(date_from, date_to)


def _price_missing(recon: Reconciliation, stage: _Stage, start, end) -> None:
    """Calls of the period stored without an expected charge or billing mode: priced now.

    Ingest stores each call's expected charge from the dated catalog (logs.pricing); a call
    stored without one (an unknown model then, a catalog row added since) is priced here.
    """
    from logs.pricing import Catalog, expected_charge

    calls = (Call.objects.filter(customer_id=recon.customer_id, created_at__gte=start, created_at__lt=end)
             .filter(Q(expected_usd__isnull=True) | Q(billing_mode=""))
             .only("id", "family", "model", "route", "created_at", "category", "http_status", "group_ratio",
                   "prompt_tokens", "output_tokens", "thoughts_tokens", "image_tokens", "images",
                   "image_size", "expected_usd", "billing_mode"))
    catalog = None
    rows = []
    for call in calls.iterator(chunk_size=2000):
        catalog = catalog or Catalog.load()
        price = catalog.find(family=call.family or None, model=call.model, route=call.route, at=call.created_at)
        if price is None:
            continue
        expected = call.expected_usd
        if expected is None:
            expected = expected_charge(
                price, family=call.family or None, category=call.category, http_status=call.http_status,
                group_ratio=call.group_ratio, prompt_tokens=call.prompt_tokens,
                output_tokens=call.output_tokens, thoughts_tokens=call.thoughts_tokens,
                image_tokens=call.image_tokens, images=call.images, image_size=call.image_size)
        rows.append((call.pk, call.billing_mode or price.billing_mode, _micros(expected)))
    if rows:
        with connection.cursor() as cur:
            cur.executemany(f"INSERT INTO {stage.extra} (call_id, billing_mode, expected) VALUES (%s, %s, %s)", rows)


def _in(values) -> str:
    return "(" + ", ".join(f"'{str(v)}'" for v in values) + ")"


def _money_sql(column: str) -> str:
    return f"CAST(ROUND({column} * {MICRO}) AS BIGINT)"


def _match_sql(stage: _Stage) -> str:
    """One row per request ID, with its category and money in micro-dollars."""
    errors, free = _in(REQUEST_ERROR), _in(GOOGLE_FREE)
    per_token = f"'{BillingMode.PER_TOKEN}'"
    success = f"'{Category.SUCCESS}'"
    in_period = "created_at >= %(start)s AND created_at < %(end)s"
    c_in_period = "c.created_at >= %(start)s AND c.created_at < %(end)s"
    rc = ReconCategory  # noqa: F841 (used in the f-string)
    return f"""
WITH pconf AS (
    SELECT request_id, COUNT(*) AS n, SUM(ch) AS total, MAX(CASE WHEN rn = 1 THEN ch END) AS first_ch
    FROM (
        SELECT request_id, COALESCE({_money_sql('charged_usd')}, 0) AS ch,
               ROW_NUMBER() OVER (PARTITION BY request_id ORDER BY created_at, id) AS rn
        FROM logs_ingestconflict WHERE customer_id = %(customer)s AND {in_period}
    ) s GROUP BY request_id
),
p AS (
    SELECT c.request_id, c.id AS call_id, c.category AS pcat, c.family,
           COALESCE(NULLIF(c.billing_mode, ''), x.billing_mode, '') AS mode, c.http_status,
           1 + COALESCE(f.n, 0) AS n,
           {_money_sql('c.charged_usd')} AS first_ch,
           COALESCE({_money_sql('c.charged_usd')}, 0) + COALESCE(f.total, 0) AS total_ch,
           COALESCE({_money_sql('c.expected_usd')}, x.expected) AS exp_raw
    FROM logs_call c
    LEFT JOIN pconf f ON f.request_id = c.request_id
    LEFT JOIN {stage.extra} x ON x.call_id = c.id
    WHERE c.customer_id = %(customer)s AND {c_in_period}
    UNION ALL
    SELECT f.request_id, c.id, c.category, c.family,
           COALESCE(NULLIF(c.billing_mode, ''), x.billing_mode, ''), c.http_status,
           f.n, f.first_ch, f.total,
           COALESCE({_money_sql('c.expected_usd')}, x.expected)
    FROM pconf f
    LEFT JOIN logs_call c ON c.customer_id = %(customer)s AND c.request_id = f.request_id
    LEFT JOIN {stage.extra} x ON x.call_id = c.id
    WHERE c.id IS NULL OR NOT ({c_in_period})
),
j AS (
    SELECT COALESCE(p.request_id, loc.request_id) AS request_id, p.call_id, p.pcat, p.family, p.mode,
           p.http_status, COALESCE(p.n, 0) AS n, p.first_ch, COALESCE(p.total_ch, 0) AS total_ch, p.exp_raw,
           loc.line AS lline, loc.category AS lcat, loc.charged AS lch,
           CASE WHEN p.request_id IS NULL THEN 0 ELSE 1 END AS on_p,
           CASE WHEN loc.request_id IS NULL THEN 0 ELSE 1 END AS on_l
    FROM p FULL OUTER JOIN {stage.local_source()} loc ON loc.request_id = p.request_id
),
k AS (
    SELECT j.*,
        CASE WHEN on_p = 0 THEN NULL
             WHEN pcat IN {errors} THEN 0
             WHEN mode = {per_token} AND (pcat IN {free} OR lcat IN {free}) THEN 0
             ELSE exp_raw END AS exp
    FROM j
),
m AS (
    SELECT k.*,
        CASE WHEN on_l = 0 THEN '{rc.MISSING_LOCALLY}'
             WHEN on_p = 0 THEN '{rc.MISSING_ON_PLATFORM}'
             WHEN n > 1 THEN '{rc.DUPLICATE_CHARGE}'
             WHEN pcat IN {errors} AND total_ch > 0 THEN '{rc.CHARGED_FOR_ERROR}'
             WHEN mode = {per_token} AND total_ch > 0 AND (pcat IN {free} OR lcat IN {free})
                  THEN '{rc.CHARGED_BUT_FREE}'
             WHEN (CASE WHEN pcat = {success} THEN 1 ELSE 0 END) <> (CASE WHEN lcat = {success} THEN 1 ELSE 0 END)
                  THEN '{rc.STATUS_MISMATCH}'
             WHEN exp IS NOT NULL AND first_ch IS NOT NULL
                  AND ABS(first_ch - exp) > {TOLERANCE_MIN_MICROS}
                  AND {100 // TOLERANCE_PERCENT} * ABS(first_ch - exp) > exp
                  THEN '{rc.AMOUNT_MISMATCH}'
             WHEN {covered_sql(mode="mode", category="pcat")} AND total_ch > 0
                  THEN '{rc.REIMBURSABLE_FAILURE}'
             ELSE '{rc.MATCH}' END AS cat
    FROM k
)
SELECT request_id, cat, call_id, COALESCE(lcat, '') AS lcat, COALESCE(pcat, '') AS pcat, n,
       CASE WHEN on_p = 1 THEN total_ch END AS total_ch, lch, exp,
       CASE WHEN cat IN {_in(OVER_CATEGORIES)} THEN
            (CASE WHEN first_ch IS NOT NULL AND exp IS NOT NULL AND first_ch > exp THEN first_ch - exp ELSE 0 END)
            + (total_ch - COALESCE(first_ch, 0))
            ELSE 0 END AS over_ch,
       CASE WHEN on_p = 1 AND on_l = 1 AND exp IS NOT NULL AND first_ch IS NOT NULL AND exp > first_ch
            THEN exp - first_ch ELSE 0 END AS under_ch,
       lline
FROM m
"""


def _matches_listed_max() -> int:
    """Matching request IDs get an item each up to this many; above, they are only counted."""
    from django.conf import settings

    return int(getattr(settings, "NBAUDIT_RECON_MATCHES_LISTED_MAX", 100_000))


def _match(recon: Reconciliation, stage: _Stage, start, end, clock: _Clock) -> None:
    params = {"start": stage.param(start), "end": stage.param(end), "customer": recon.customer_id}
    result = f"recon_result_{recon.pk}"
    item = ReconciliationItem._meta.db_table
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {result}")
        cur.execute(f"CREATE TEMP TABLE {result} AS {_match_sql(stage)}", params)
        clock.lap("match")
        try:
            cur.execute(
                f"SELECT cat, COUNT(*), SUM(COALESCE(total_ch, 0)), SUM(COALESCE(exp, 0)), SUM(over_ch), "
                f"SUM(under_ch) FROM {result} GROUP BY cat")
            by_cat = {row[0]: row[1:] for row in cur.fetchall()}
            cur.execute(f"SELECT COUNT(*) FROM logs_call WHERE customer_id = %(customer)s "
                        f"AND created_at >= %(start)s AND created_at < %(end)s", params)
            calls = cur.fetchone()[0]
            cur.execute(f"SELECT COUNT(*) FROM logs_ingestconflict WHERE customer_id = %(customer)s "
                        f"AND created_at >= %(start)s AND created_at < %(end)s", params)
            conflicts = cur.fetchone()[0]
            clock.lap("totals")
            cur.execute(f"DELETE FROM {item} WHERE reconciliation_id = %s", [recon.pk])
            div = f"{MICRO}.0"
            matches = int(by_cat.get(ReconCategory.MATCH, (0,))[0] or 0)
            recon.matches_listed = matches <= _matches_listed_max()
            only_differences = "" if recon.matches_listed else f"WHERE cat <> '{ReconCategory.MATCH}'"
            cur.execute(
                f"INSERT INTO {item} (reconciliation_id, request_id, category, call_id, local_category, "
                f"platform_category, charges, charged_usd, local_charged_usd, expected_usd, over_usd, "
                f"under_usd, detail, local_line) "
                f"SELECT %s, request_id, cat, call_id, lcat, pcat, n, total_ch / {div}, lch / {div}, "
                f"exp / {div}, over_ch / {div}, under_ch / {div}, '', lline FROM {result} {only_differences}",
                [recon.pk])
            clock.lap("items")
        finally:
            cur.execute(f"DROP TABLE IF EXISTS {result}")

    def usd(micros) -> Decimal:
        return q6(Decimal(int(micros or 0)) / MICRO)

    categories = {code: 0 for code in ReconCategory.values}
    money = {}
    for code, (count, charged, expected, over, under) in by_cat.items():
        categories[code] = int(count)
        money[code] = {"charged": str(usd(charged)), "expected": str(usd(expected)),
                       "over": str(usd(over)), "under": str(usd(under))}
    over_total = sum(int(by_cat[c][3] or 0) for c in by_cat if c in OVER_CATEGORIES)
    under_total = sum(int(row[4] or 0) for row in by_cat.values())
    unmatched = int(by_cat.get(ReconCategory.MISSING_LOCALLY, (0, 0))[1] or 0)
    recon.categories = categories
    recon.money = money
    recon.platform_rows = int(calls) + int(conflicts)
    recon.overcharged_usd = usd(over_total)
    recon.undercharged_usd = usd(under_total)
    recon.unmatched_charged_usd = usd(unmatched)
    recon.status = JobStatus.DONE
    recon.error = ""
    recon.finished_at = timezone.now()
    recon.save()


# ---------------------------------------------------------------------------
# Reads
# ---------------------------------------------------------------------------

def reconciliation_summary(*, reconciliation: Reconciliation) -> dict:
    """The figures of a finished reconciliation, as the command's --json prints them."""
    r = reconciliation

    def amount(value):
        return str(q6(value)) if value is not None else None

    return {
        "customer": r.customer.slug,
        "from": r.date_from.isoformat() if r.date_from else None,
        "to": r.date_to.isoformat() if r.date_to else None,
        "local_rows": r.local_rows,
        "platform_rows": r.platform_rows,
        "categories": {code: int(r.categories.get(code, 0)) for code in ReconCategory.values},
        "overcharged_usd": amount(r.overcharged_usd),
        "undercharged_usd": amount(r.undercharged_usd),
        "unmatched_charged_usd": amount(r.unmatched_charged_usd),
        "outside_period": r.outside_period,
        "rejected": list(r.rejected),
    }


def reconciliation_xlsx_write(*, reconciliation: Reconciliation, items, fh) -> int:
    """Write the figures and the given items (a queryset) as XLSX into `fh` (openpyxl write-only).

    Returns the number of item rows written. Items are read in chunks, never all at once.
    """
    from openpyxl import Workbook

    r = reconciliation
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Summary")
    summary = reconciliation_summary(reconciliation=r)
    ws.append(["Reconciliation", r.pk])
    for key in ("customer", "from", "to", "local_rows", "platform_rows", "outside_period"):
        ws.append([key, summary[key]])
    ws.append(["rejected rows", r.rejected_count])
    for key in ("overcharged_usd", "undercharged_usd", "unmatched_charged_usd"):
        ws.append([key, Decimal(summary[key]) if summary[key] is not None else None])
    ws.append([])
    ws.append(["category", "request IDs", "charged", "expected", "over", "under"])
    for code in ReconCategory.values:
        m = r.money.get(code, {})
        ws.append([code, summary["categories"].get(code, 0)] +
                  [Decimal(m[k]) if k in m else None for k in ("charged", "expected", "over", "under")])
    if r.rejected:
        ws.append([])
        ws.append(["rejected line", "reason"])
        for rej in r.rejected:
            ws.append([rej["line"], rej["reason"]])
    sheet = wb.create_sheet("Request IDs")
    sheet.append(["request_id", "category", "platform_category", "local_category", "charges", "charged_usd",
                  "expected_usd", "over_usd", "under_usd", "local_charged_usd", "local_line", "call_id"])
    written = 0
    fields = ("request_id", "category", "platform_category", "local_category", "charges", "charged_usd",
              "expected_usd", "over_usd", "under_usd", "local_charged_usd", "local_line", "call_id")
    for row in items.order_by("id").values_list(*fields).iterator(chunk_size=5000):
        sheet.append(list(row))
        written += 1
    wb.save(fh)
    return written
