"""Ingest: every input (command, upload, HTTP API) goes through `calls_ingest`.

A call is identified by (customer, request ID). Ingesting the same call again adds nothing;
a second record that agrees on every field both carry is a duplicate and fills in what the
first lacked; one that differs is a conflict, kept whole beside the stored call. Every input
row ends up counted as inserted, duplicate, conflict, skipped or rejected.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from logs.choices import Source
from logs.models import Call, CallKey, Customer, IngestBatch, IngestConflict
from logs.models.jobs import JobStatus
from logs.parsers import (
    InputError,
    Record,
    Skipped,
    detect,
    iter_envelopes,
    iter_gateway_xlsx,
    open_source,
)
from logs.parsers.gateway import gateway_csv_items, gateway_csv_open
from logs.pricing import Catalog, expected_charge
from logs.services.calls_copy import calls_by_key, calls_by_key_sql, calls_insert
from logs.services.ingest_sql import GatewaySQL, usable
from logs.services.jobs import job_claim, job_fail, job_finish, job_progress, jobs_fail_silent
from logs.services.merge import (
    COMPARED,
    FILLABLE,
    PRESENT,
    STORED,
    differences,
    is_empty,
    reclassify,
    stored_columns,
)
from logs.services.readahead import ReadAhead
from logs.services.rollups import RollupDelta, rollups_add_calls, rollups_apply
from logs.timeutil import billing_tz

log = logging.getLogger(__name__)

# What the database (or its driver, on the way in) raises for a chunk it cannot store.
_REFUSED = (DatabaseError, OverflowError, ArithmeticError, UnicodeError)

CHUNK = 2000           # records per transaction (SQLite)
CHUNK_COPY = 20000     # records per transaction on PostgreSQL, written with COPY
COPY_ENABLED = True    # PostgreSQL writes new calls with COPY (False: bulk_create, as on SQLite)
ROLLUPS_IN_SQL = True  # with COPY, the new calls' rollups are summed by the database (False: in Python)
READ_AHEAD = True      # the input is read and classified in a thread, a chunk ahead of the one stored
GATEWAY_SQL = True     # PostgreSQL reads a gateway CSV's rows in SQL (logs.services.ingest_sql; False: Python)
FORMATS = ("auto", "calls", "gateway")
# A running batch records progress (heartbeat_at) after every chunk; one silent this long lost
# its worker and is failed by logs.tasks.jobs_reap.
INGEST_STALE_AFTER = dt.timedelta(minutes=10)
INGEST_WORKER_LOST = ("the worker stopped while ingesting this file; upload the file again: "
                      "already stored calls count as duplicates")

class _Run:
    """The state of one ingest: counts, customers, catalog."""

    def __init__(self, batch: IngestBatch, customer: Customer | None):
        self.batch = batch
        self.customer = customer
        self.catalog = Catalog.load()
        self.customers: dict[str, Customer] = {customer.slug: customer} if customer else {}
        self.created: list[str] = []
        self.counts = Counter()
        self.categories = Counter()
        self.rejected: list[dict] = []
        self.synthetic = 0
        self.copy = COPY_ENABLED and connection.vendor == "postgresql"
        self.chunk = CHUNK_COPY if self.copy else CHUNK
        self._analyzed_at: int | None = None  # calls in the table at the last ANALYZE
        self.partitions: set = set()  # PostgreSQL: months seen to have a partition (calls_insert)

    def customer_for(self, slug: str) -> Customer:
        cust = self.customers.get(slug)
        if cust is None:
            cust, created = Customer.objects.get_or_create(slug=slug, defaults={"name": slug})
            if created:
                self.created.append(slug)
            self.customers[slug] = cust
        return cust

    def price(self, fields: dict) -> None:
        price = self.catalog.find(family=fields.get("family") or None, model=fields["model"],
                                  route=fields.get("route"), at=fields["created_at"])
        fields["billing_mode"] = price.billing_mode if price else ""
        fields["expected_usd"] = expected_charge(
            price, family=fields.get("family") or None, category=fields["category"],
            http_status=fields.get("http_status"), group_ratio=fields.get("group_ratio"),
            prompt_tokens=fields.get("prompt_tokens"), output_tokens=fields.get("output_tokens"),
            thoughts_tokens=fields.get("thoughts_tokens"), image_tokens=fields.get("image_tokens"),
            images=fields.get("images") or 0, image_size=fields.get("image_size"),
        )

    # -- a chunk of records --------------------------------------------------------------
    def apply(self, records: list[Record]) -> None:
        """Store a chunk in one transaction; a chunk the database refuses is split to find why.

        Another ingest may have inserted some of the same calls meanwhile (IntegrityError), or
        a value got past the checks at the door that the database cannot hold (DataError, or
        the driver's own errors): the chunk is stored in halves, down to single records, and a
        record the database still refuses alone is rejected with its line and the reason. A
        refused attempt leaves no trace in the counts.
        """
        self._fresh_statistics()
        state = self._state()
        try:
            with transaction.atomic():
                self._apply(records)
        except _REFUSED as exc:
            self._restore(state)
            if len(records) == 1:
                self._refused(records[0], exc)
                return
            half = len(records) // 2
            for part in (records[:half], records[half:]):
                self.apply(part)

    def _refused(self, rec: Record, exc: Exception) -> None:
        """One record alone: retried once (a concurrent insert), then rejected with the reason."""
        state = self._state()
        try:
            with transaction.atomic():
                self._apply([rec])
            return
        except _REFUSED as again:
            self._restore(state)
            exc = again
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        log.warning("ingest %s: line %s refused by the database: %s", self.batch.pk, rec.line, message)
        self.rejected.append({"line": rec.line, "reason": f"the database cannot store this row "
                                                          f"({exc.__class__.__name__}: {message[:200]})"})

    def _state(self):
        return (self.counts.copy(), self.categories.copy(), self.synthetic, len(self.created),
                dict(self.customers))

    def _restore(self, state) -> None:
        counts, categories, synthetic, created, customers = state
        self.counts, self.categories, self.synthetic = counts, categories, synthetic
        del self.created[created:]
        self.customers = customers

    def _fresh_statistics(self) -> None:
        """PostgreSQL: ANALYZE the call table whenever this ingest has doubled it.

        The look-up of existing calls is planned from the table's statistics; during a bulk
        load they say "empty" (autovacuum lags, or is off), and the planner then scans a
        customer's every call for each chunk: quadratic. A few ANALYZEs (each samples at
        most 30,000 rows) keep every look-up on the unique index.
        """
        if not self.copy:
            return
        inserted = self.counts["inserted"]
        if self._analyzed_at is None:
            with connection.cursor() as cur:
                cur.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [Call._meta.db_table])
                row = cur.fetchone()
            never = row is None or row[0] < 0
            self._base = max(row[0] if row else 0, 0)
            self._analyzed_at = self._base
            if not never:
                return
        elif self._base + inserted < max(2 * self._analyzed_at, self._analyzed_at + 2 * self.chunk):
            return
        try:
            with transaction.atomic(), connection.cursor() as cur:
                # The key table too: the look-up of stored calls starts there (calls_by_key_sql).
                cur.execute(f"ANALYZE {CallKey._meta.db_table}, {Call._meta.db_table}")
        except DatabaseError:  # not the table's owner: the statistics stay as they are
            log.info("ANALYZE %s not allowed; look-ups may be slow", Call._meta.db_table)
        self._analyzed_at = self._base + inserted

    def _existing(self, by_customer: dict[int, list[Record]]) -> dict[tuple[int, str], dict]:
        """The stored calls of these keys: (customer, request ID) -> what the decisions read."""
        existing: dict[tuple[int, str], dict] = {}
        names = ("id",) + STORED
        if self.copy:
            sql = calls_by_key_sql(f"id, request_id, {', '.join(stored_columns('postgresql'))}")
            with connection.cursor() as cur:
                for cid, recs in by_customer.items():
                    cur.execute(sql, [cid, list({r.fields["request_id"] for r in recs})])
                    for row in cur.fetchall():
                        stored = dict(zip(names, (row[0],) + row[2:]))
                        existing[(cid, row[1])] = stored
            return existing
        for cid, recs in by_customer.items():
            ids = list({r.fields["request_id"] for r in recs})
            for call in calls_by_key(customer_id=cid, request_ids=ids):
                stored = {k: getattr(call, k) for k in names}
                stored["prompt"] = PRESENT if call.prompt else ""
                stored["response"] = PRESENT if call.response is not None else None
                existing[(cid, call.request_id)] = stored
        return existing

    def _apply(self, records: list[Record]) -> None:
        by_customer: dict[int, list[Record]] = defaultdict(list)
        for rec in records:
            cust = self.customer_for(rec.customer_slug)
            rec.fields["customer_id"] = cust.pk
            by_customer[cust.pk].append(rec)
        existing = self._existing(by_customer)
        # The rollups change with the calls, in this chunk's transaction: exact if a worker dies.
        delta = RollupDelta()
        new: dict[tuple[int, str], dict] = {}
        changed: dict[tuple[int, str], Call] = {}
        conflicts: list[IngestConflict] = []
        for rec in records:
            f = rec.fields
            key = (f["customer_id"], f["request_id"])
            if f.get("request_id_synthetic"):
                self.synthetic += 1
            stored_fields = existing.get(key)
            if stored_fields is None:
                stored_fields = new.get(key)
                if stored_fields is None:
                    self.price(f)
                    new[key] = f
                    continue
                in_chunk = True
            else:
                in_chunk = False
            diff = differences(stored_fields, f)
            if diff:
                self.counts["conflicts"] += 1
                conflicts.append(IngestConflict(
                    batch=self.batch, customer_id=key[0], request_id=key[1], line=rec.line,
                    created_at=f["created_at"], charged_usd=f.get("charged_usd"), category=f["category"],
                    differences=diff, record=rec.raw or {},
                ))
                continue
            self.counts["duplicates"] += 1
            fills = {k: f[k] for k in FILLABLE if is_empty(stored_fields.get(k)) and not is_empty(f.get(k))}
            if not fills:
                continue
            if in_chunk:  # both records are new in this chunk
                target = new[key]
                target.update(fills)
                if "response" in fills:
                    target["source"] = Source.CALLS
                reclassify(target)
                self.price(target)
                continue
            stored = changed.get(key)
            if stored is None:
                # Locked until commit: a concurrent merge of the same call waits, and then
                # takes away from the rollups what this one stored.
                stored = changed[key] = Call.objects.select_for_update().get(pk=stored_fields["id"])
                delta.remove(stored)
            for k, v in fills.items():
                setattr(stored, k, v)
            merged = {k: getattr(stored, k) for k in COMPARED + FILLABLE + ("model", "source", "log_type", "family")}
            if "response" in fills:
                merged["source"] = stored.source = Source.CALLS
            reclassify(merged)
            for k in ("category", "reason", "images"):
                setattr(stored, k, merged[k])
            if "drafts" in merged:
                stored.drafts = merged["drafts"]
            merged["created_at"] = stored.created_at
            self.price(merged)
            stored.billing_mode, stored.expected_usd = merged["billing_mode"], merged["expected_usd"]
            # Later records of this call in the chunk compare against the merged call.
            existing[key] = {"id": stored.pk, **{k: getattr(stored, k) for k in STORED if k not in ("prompt", "response")},
                             "prompt": PRESENT if stored.prompt else "",
                             "response": PRESENT if stored.response is not None else None}
        if new:
            categories = self.categories
            rows = list(new.values())
            ids = calls_insert(rows=rows, batch=self.batch, copy=self.copy, partitions=self.partitions)
            if ids is not None and ROLLUPS_IN_SQL:
                # The new calls' rollups are summed by the database from the rows just stored
                # (this batch's calls of the ids the COPY gave).
                for f in rows:
                    categories[f["category"]] += 1
                rollups_add_calls(customer_ids={key[0] for key in new},
                                  calls=Call.objects.filter(batch_id=self.batch.pk, id__gte=ids[0], id__lte=ids[1]))
            else:
                for f in rows:
                    categories[f["category"]] += 1
                    delta.add(f)
            self.counts["inserted"] += len(new)
        for call in changed.values():
            call.save()
            delta.add(call)
        if conflicts:
            IngestConflict.objects.bulk_create(conflicts, batch_size=1000)
        rollups_apply(delta=delta)


def _zone(tz: str | None) -> ZoneInfo:
    if not tz:
        return billing_tz()
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"unknown time zone {tz!r}: give an IANA name such as Asia/Shanghai or UTC") from None


def calls_ingest(
    *,
    source,
    fmt: str = "auto",
    customer: Customer | None = None,
    tz: str | None = None,
    user=None,
    api_token=None,
    origin: str = "command",
    filename: str = "",
    batch: IngestBatch | None = None,
    progress: Callable[[int], None] | None = None,
) -> IngestBatch:
    """Ingest a file or request body; returns the batch with its summary.

    A file of the wrong kind raises InputError before anything is stored; the batch is
    then recorded as failed with that message.
    """
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    stream, close, name = open_source(source)
    if batch is None:
        batch = IngestBatch.objects.create(
            declared_format=fmt, origin=origin, filename=filename or name, customer=customer,
            tz=tz or "", created_by=user if getattr(user, "pk", None) else None, api_token=api_token,
            status=JobStatus.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now(),
        )
    else:
        job_claim(job=batch, only_from=None)
    reader = sql = None
    try:
        zone = _zone(tz)
        head = stream.read(65536)
        stream.seek(0)
        kind, container = detect(head)
        if fmt != "auto" and fmt != kind:
            what = "call envelopes (JSON)" if kind == Source.CALLS else f"a gateway log export ({container.upper()})"
            raise InputError(f"declared format {fmt!r}, but the file is {what}")
        slug = customer.slug if customer else None
        if kind == Source.CALLS:
            rows: Iterable = iter_envelopes(stream, tz=zone, customer_slug=slug)
        elif container == "xlsx":
            rows = iter_gateway_xlsx(stream, tz=zone, customer_slug=slug)
        else:
            lines, gateway_rows, width = gateway_csv_open(stream, tz=zone, customer_slug=slug)
            rows = gateway_csv_items(lines, gateway_rows, width)
        run = _Run(batch, customer)
        batch.source = kind
        pending: list[Record] = []
        seen = 0
        if kind != Source.CALLS and container != "xlsx" and GATEWAY_SQL and run.copy and usable(gateway_rows):
            # Chunks of lines read and stored in SQL; what it leaves (the rest of a file from a
            # record across lines) is read below, as ever.
            sql = GatewaySQL(run, gateway_rows, width)
            seen, rest = sql.run_lines(lines, lambda done: _progress(batch, done, progress), read_ahead=READ_AHEAD)
            rows = rest if rest is not None else ()
        if READ_AHEAD:
            rows = reader = ReadAhead(rows, run.chunk)
        for item in rows:
            seen += 1
            if isinstance(item, Record):
                pending.append(item)
                if len(pending) >= run.chunk:
                    run.apply(pending)
                    pending = []
                    _progress(batch, seen, progress)
            else:
                if isinstance(item, Skipped):
                    run.counts["skipped"] += 1
                else:
                    run.rejected.append({"line": item.line, "reason": item.reason})
                if seen % run.chunk == 0:  # a long run of rows that are not stored still beats
                    _progress(batch, seen, progress)
        if pending:
            run.apply(pending)
    except InputError as exc:
        job_fail(job=batch, error=str(exc), fields=("source",))
        raise
    except Exception as exc:
        log.exception("ingest %s failed", batch.pk)
        job_fail(job=batch, fields=("source",),
                 error=f"ingest stopped at an unexpected error ({exc.__class__.__name__}); rows stored "
                       f"before it are complete calls, and ingesting the file again adds only the rest")
        exc.batch = batch  # the failed batch, for a caller that answers with it (the push API)
        raise
    finally:
        if reader is not None:
            reader.close()  # the reading thread stops before its stream is closed
        if sql is not None:
            sql.drop()
        if close:
            stream.close()
    batch.rows = seen
    batch.rows_done = seen
    batch.inserted = run.counts["inserted"]
    batch.duplicates = run.counts["duplicates"]
    batch.conflicts = run.counts["conflicts"]
    batch.skipped = run.counts["skipped"]
    batch.rejected = sorted(run.rejected, key=lambda r: r["line"])  # database refusals come later
    batch.categories = dict(sorted(run.categories.items()))
    batch.customers_created = run.created
    if run.synthetic:
        batch.notes = [f"{run.synthetic} rows had no request ID: each is keyed by (time, token, model, cost)"]
    job_finish(job=batch, save=True)
    return batch


def records_ingest(*, batch: IngestBatch, chunks: Iterable[tuple[list, Callable[[], None] | None]]
                   ) -> IngestBatch:
    """Ingest rows already read into Record / Skipped / Rejected (a gateway's log rows), a chunk at a time.

    The same run as `calls_ingest` (decisions, counts, customers, rollups), but each chunk is ONE
    transaction: its calls, the rollups of its hours, the batch's running summary and the
    caller's `commit()` (where a gateway source moves its high-water mark) commit together or
    not at all. `batch` is a running IngestBatch; returns it done, with its summary.
    """
    run = _Run(batch, None)
    seen = 0
    for items, commit in chunks:
        records = [item for item in items if isinstance(item, Record)]
        with transaction.atomic():
            for item in items:
                if isinstance(item, Skipped):
                    run.counts["skipped"] += 1
                elif not isinstance(item, Record):
                    run.rejected.append({"line": item.line, "reason": item.reason})
            if records:
                run.apply(records)  # the chunk's rollups change in this transaction too
            seen += len(items)
            _summary_fill(batch, run, seen)
            batch.heartbeat_at = timezone.now()
            batch.save()
            if commit is not None:
                commit()
    _summary_fill(batch, run, seen)
    batch.status, batch.finished_at = JobStatus.DONE, timezone.now()
    batch.save()
    return batch


def _summary_fill(batch: IngestBatch, run: _Run, seen: int) -> None:
    batch.rows = batch.rows_done = seen
    batch.inserted, batch.duplicates = run.counts["inserted"], run.counts["duplicates"]
    batch.conflicts, batch.skipped = run.counts["conflicts"], run.counts["skipped"]
    batch.rejected = list(run.rejected)
    batch.categories = dict(sorted(run.categories.items()))
    batch.customers_created = list(run.created)


def _progress(batch: IngestBatch, done: int, callback) -> None:
    job_progress(job=batch, rows_done=done)
    if callback:
        callback(done)


def ingests_reap(*, now: dt.datetime | None = None) -> list[int]:
    """Running batches whose worker stopped (no progress for INGEST_STALE_AFTER): failed, in words.

    Rows stored before the worker stopped are complete calls (each chunk is one transaction), so
    ingesting the same file again stores only the rest. Returns the ids of the batches failed.
    """
    failed = jobs_fail_silent(queryset=IngestBatch.objects.all(), stale_after=INGEST_STALE_AFTER,
                              message=INGEST_WORKER_LOST, now=now)
    if failed:
        log.warning("ingest batches reaped (worker lost): %s", failed)
    return failed


def ingest_batch_run(*, batch_id: int) -> IngestBatch | None:
    """The Celery task's body: ingest an uploaded file recorded on a batch row."""
    batch = IngestBatch.objects.select_related("customer", "created_by").filter(pk=batch_id).first()
    if batch is None or not JobStatus.is_active(batch.status):
        return batch
    try:
        with batch.file.open("rb") as fh:
            return calls_ingest(source=fh, fmt=batch.declared_format, customer=batch.customer,
                                tz=batch.tz or None, user=batch.created_by, origin=batch.origin,
                                filename=batch.filename, batch=batch)
    except Exception:  # noqa: BLE001  (bad input or not: the batch row records the failure in words)
        return IngestBatch.objects.get(pk=batch_id)


def ingest_upload_create(*, uploaded_file, fmt: str, customer: Customer | None, tz: str | None, user) -> IngestBatch:
    """Store an uploaded file on a batch row and queue its ingest after the commit."""
    from logs.tasks import ingest_run

    batch = IngestBatch.objects.create(
        declared_format=fmt, origin="upload", filename=uploaded_file.name, customer=customer, tz=tz or "",
        created_by=user, status=JobStatus.QUEUED,
    )
    batch.file.save(uploaded_file.name, uploaded_file, save=True)
    transaction.on_commit(lambda: ingest_run.delay(batch.pk))
    return batch
