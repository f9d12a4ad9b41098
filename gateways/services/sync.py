"""Syncing a gateway source: the rows after its high-water mark, through the one ingest service.

Each chunk of rows is one transaction holding its calls, their rollups, the batch summary and
the new high-water mark, so a sync stopped at any point resumes without a lost or doubled
call. A lease on the source row (owner, expiry; renewed by every chunk) keeps two workers from
reading one source at once; a worker that dies leaves a lease that expires.
"""
from __future__ import annotations

import datetime as dt
import logging
import uuid
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from gateways.models import GatewayKind, GatewaySource, GatewaySync
from gateways.secrets import SecretError, scrub, secret_read
from gateways.services.readers import DbReader, GatewayError, HttpReader
from gateways.services.rows import RowMapper, flavor_of
from logs.choices import Source
from logs.models import IngestBatch
from logs.models.ingest import JobStatus
from logs.services.ingest import records_ingest
from logs.timeutil import billing_tz

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=5)            # a sync silent this long lost its worker
BACKOFF_MAX = dt.timedelta(hours=1)
SYNC_WORKER_LOST = "the worker stopped while syncing; the next sync resumes from the last committed row"


class SyncBusy(Exception):
    """Another sync holds the source."""


class LeaseLost(Exception):
    """This sync's lease was taken over (it was silent too long): its last chunk is not kept."""


def _reader(source: GatewaySource):
    if source.kind == GatewayKind.DB:
        return DbReader(secret_read(source.dsn))
    return HttpReader(source.base_url, secret_read(source.token), source.user_id)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else billing_tz()
    except (ZoneInfoNotFoundError, ValueError):
        return billing_tz()


def backoff(failures: int) -> dt.timedelta:
    """The wait before the next sync of a failing source: 2, 4, 8, ... minutes, an hour at most."""
    return min(dt.timedelta(minutes=2 ** min(max(failures, 1), 6)), BACKOFF_MAX)


def _lease_take(source: GatewaySource, owner: str, now: dt.datetime) -> bool:
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    return bool(GatewaySource.objects.filter(free, pk=source.pk).update(lease_owner=owner, lease_until=now + LEASE))


def _lease_release(source: GatewaySource, owner: str) -> None:
    GatewaySource.objects.filter(pk=source.pk, lease_owner=owner).update(lease_owner="", lease_until=None)


def source_sync(*, source: GatewaySource, origin: str = "command", user=None,
                now: dt.datetime | None = None) -> GatewaySync:
    """Sync one source now. Raises SyncBusy when another sync holds it; a failure is recorded on the
    sync row and the source (in words) and returned, not raised."""
    started = timezone.now()
    owner = uuid.uuid4().hex
    if not _lease_take(source, owner, started):
        raise SyncBusy(f"a sync of {source.name} is already running; try again when it ends")
    source.refresh_from_db()
    sync = GatewaySync.objects.create(
        source=source, origin=origin, created_by=user if getattr(user, "pk", None) else None,
        status=JobStatus.RUNNING, started_at=started, heartbeat_at=started,
        high_water_from=source.high_water, high_water_to=source.high_water)
    batch = IngestBatch.objects.create(
        source=Source.GATEWAY, declared_format="gateway", origin="gateway", filename=f"gateway {source.name}",
        status=JobStatus.RUNNING, started_at=started, heartbeat_at=started,
        notes=["line numbers are the gateway's log row IDs"])
    sync.batch = batch
    sync.save(update_fields=["batch"])
    reader = None
    secrets = ()
    empty = False
    try:
        try:
            reader = _reader(source)
            secrets = (getattr(reader, "dsn", ""), getattr(reader, "token", ""))
            reader.open()
            if source.kind == GatewayKind.HTTP:
                qpu = reader.quota_per_unit()
                if qpu and qpu != source.quota_per_unit:
                    source.quota_per_unit = qpu
                    GatewaySource.objects.filter(pk=source.pk).update(quota_per_unit=qpu)
            mapper = RowMapper(source_name=source.name, quota_per_unit=source.quota_per_unit, tz=_zone(source.tz))
            records_ingest(batch=batch, chunks=_chunks(source, sync, reader, mapper, owner, now=now))
        except SecretError as exc:
            raise GatewayError(str(exc)) from None
    except GatewayError as exc:
        _failed(source, sync, batch, scrub(str(exc), *secrets))
    except LeaseLost as exc:
        _failed(source, sync, batch, str(exc), count=False)
    except Exception as exc:
        log.exception("gateway sync %s of %s failed", sync.pk, source.name)
        _failed(source, sync, batch, f"the sync stopped at an unexpected error ({exc.__class__.__name__}); "
                                     f"rows before it are stored, and the next sync resumes after them")
        raise
    else:
        done = timezone.now()
        columns = getattr(reader, "columns", [])
        GatewaySource.objects.filter(pk=source.pk).update(
            last_sync_at=done, last_success_at=done, last_error="", failures=0, next_attempt_at=None,
            **({"flavor": flavor_of(columns)} if columns else {}))
        sync.status, sync.finished_at = JobStatus.DONE, done
        sync.save(update_fields=["status", "finished_at"])
        empty = batch.rows == 0
    finally:
        if reader is not None:
            reader.close()
        _lease_release(source, owner)
    source.refresh_from_db()
    if empty:
        # Nothing new (most minutes): no job rows kept, or they would bury the syncs that read
        # rows; the source's last sync time says it ran. The summary is returned all the same.
        GatewaySync.objects.filter(pk=sync.pk).delete()
        IngestBatch.objects.filter(pk=batch.pk).delete()
        return sync
    sync.refresh_from_db()
    return sync


def _chunks(source: GatewaySource, sync: GatewaySync, reader, mapper: RowMapper, owner: str, *, now=None):
    """(items, commit) per batch of rows; commit() moves the mark inside the chunk's transaction."""
    mark = source.high_water
    kwargs = {}
    if source.kind == GatewayKind.HTTP:
        kwargs = {"since": source.high_water_at, "overlap": source.overlap_seconds, "now": now}
    done = 0
    for rows in reader.batches(after=mark, size=source.batch_size, **kwargs):
        items = [mapper.map(row) for row in rows]
        top = rows[-1]["id"]
        latest = max(r.get("created_at") or 0 for r in rows)
        n = len(rows)
        done += n

        def commit(old=mark, top=top, latest=latest, n=n, done=done):
            stamp = timezone.now()
            moved = GatewaySource.objects.filter(pk=source.pk, lease_owner=owner, high_water=old).update(
                high_water=top, rows_read=F("rows_read") + n, lease_until=stamp + LEASE,
                high_water_at=_when(latest, source))
            if not moved:
                raise LeaseLost(f"another sync took {source.name} over (this one was silent for "
                                f"{int(LEASE.total_seconds() // 60)} minutes); its last rows are left to it")
            GatewaySync.objects.filter(pk=sync.pk).update(rows_done=done, heartbeat_at=stamp, high_water_to=top)

        yield items, commit
        mark = top


def _when(created_at, source) -> dt.datetime | None:
    if isinstance(created_at, dt.datetime):
        return created_at if timezone.is_aware(created_at) else created_at.replace(tzinfo=_zone(source.tz))
    try:
        return dt.datetime.fromtimestamp(int(created_at), tz=dt.timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _failed(source: GatewaySource, sync: GatewaySync, batch: IngestBatch, message: str, *, count: bool = True) -> None:
    stamp = timezone.now()
    failures = source.failures + 1 if count else source.failures
    GatewaySource.objects.filter(pk=source.pk).update(
        last_sync_at=stamp, last_error=message, failures=failures,
        next_attempt_at=stamp + backoff(failures) if count else None)
    GatewaySync.objects.filter(pk=sync.pk).update(status=JobStatus.FAILED, error=message, finished_at=stamp)
    IngestBatch.objects.filter(pk=batch.pk).update(status=JobStatus.FAILED, error=message, finished_at=stamp)
    log.warning("gateway %s: sync failed: %s", source.name, message)


def sources_due(*, now: dt.datetime | None = None):
    """Enabled sources whose backoff has passed."""
    now = now or timezone.now()
    return GatewaySource.objects.filter(enabled=True).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))


def sources_sync_due(*, now: dt.datetime | None = None) -> dict:
    """The beat's body: sync every due source once; a busy one is left to the sync holding it."""
    result = {"synced": [], "failed": [], "busy": []}
    for source in sources_due(now=now):
        try:
            sync = source_sync(source=source, origin="beat")
        except SyncBusy:
            result["busy"].append(source.name)
            continue
        (result["synced"] if sync.status == JobStatus.DONE else result["failed"]).append(source.name)
    return result


def syncs_reap(*, now: dt.datetime | None = None) -> list[int]:
    """Running sync rows whose worker stopped (silent past the lease): failed, in words."""
    from logs.services.jobs import jobs_fail_silent

    failed = jobs_fail_silent(queryset=GatewaySync.objects.all(), stale_after=LEASE,
                              message=SYNC_WORKER_LOST, now=now)
    if failed:  # their ingest batches say the same, rather than "upload the file again"
        batches = GatewaySync.objects.filter(pk__in=failed, batch__isnull=False).values("batch_id")
        IngestBatch.objects.filter(pk__in=batches, status=JobStatus.RUNNING).update(
            status=JobStatus.FAILED, error=SYNC_WORKER_LOST, finished_at=now or timezone.now())
        log.warning("gateway syncs reaped (worker lost): %s", failed)
    return failed


@transaction.atomic
def source_save(*, name: str, dsn: str | None = None, base_url: str | None = None, token: str | None = None,
                user_id: int | None = None, quota_per_unit: int | None = None, tz: str | None = None,
                enabled: bool | None = None) -> tuple[GatewaySource, bool]:
    """Create or update a source (`gateway add`). Secrets are stored encrypted, or as `env:NAME`."""
    from gateways.secrets import secret_store

    if (dsn is None) == (base_url is None):
        raise ValueError("give a database DSN, or a base URL with an access token and a user ID")
    if tz:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {tz!r}: give an IANA name such as Asia/Shanghai or UTC") from None
    source = GatewaySource.objects.select_for_update().filter(name=name).first()
    created = source is None
    if created:
        source = GatewaySource(name=name)
    if dsn is not None:
        if not dsn.startswith("env:"):
            try:
                DbReader(dsn)  # refuses a kind of database it cannot read
            except GatewayError as exc:
                raise ValueError(str(exc)) from None
        source.kind, source.dsn, source.base_url, source.token, source.user_id = GatewayKind.DB, secret_store(dsn), "", "", None
    else:
        if not token or user_id is None:
            raise ValueError("an http source needs --token and --user-id")
        source.kind, source.base_url, source.dsn = GatewayKind.HTTP, base_url.rstrip("/"), ""
        source.token, source.user_id = secret_store(token), user_id
    if quota_per_unit is not None:
        if quota_per_unit <= 0:
            raise ValueError("the quota per unit must be a positive number")
        source.quota_per_unit = quota_per_unit
    if tz is not None:
        source.tz = tz
    if enabled is not None:
        source.enabled = enabled
    source.full_clean(exclude=["dsn", "token"])
    source.save()
    return source, created


def source_pause(*, source: GatewaySource, enabled: bool) -> GatewaySource:
    GatewaySource.objects.filter(pk=source.pk).update(enabled=enabled, next_attempt_at=None)
    source.refresh_from_db()
    return source
