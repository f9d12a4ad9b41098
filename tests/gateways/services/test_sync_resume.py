"""A sync killed half way resumes without a lost or doubled call; two syncs of one source never
read it at once."""
import threading

import pytest

from gateways.models import GatewaySource
from gateways.services import sync as sync_service
from gateways.services.sync import SyncBusy, source_save, source_sync
from logs.models import Call, HourlyRollup, IngestBatch
from logs.models.ingest import JobStatus
from tests.gateways import logstore as L


class Killed(BaseException):
    """Stands for the worker dying: not an Exception, so nothing catches it on the way out."""


def _source(store, batch_size=5):
    source, _ = source_save(name="gwk", dsn=store.dsn)
    GatewaySource.objects.filter(pk=source.pk).update(batch_size=batch_size)
    source.refresh_from_db()
    return source


def _assert_each_row_once(n):
    ids = list(Call.objects.values_list("request_id", flat=True))
    assert sorted(ids) == [f"req-{i:06d}" for i in range(1, n + 1)]
    assert sum(HourlyRollup.objects.values_list("calls", flat=True)) == n


@pytest.mark.django_db
def test_killed_between_batches_then_resumed(sqlite_store, monkeypatch):
    sqlite_store.create().insert([L.consume(i) for i in range(1, 23)])
    source = _source(sqlite_store)
    real = sync_service._chunks

    def dies_after_two(*a, **kw):
        for n, chunk in enumerate(real(*a, **kw)):
            if n == 2:
                raise Killed
            yield chunk

    monkeypatch.setattr(sync_service, "_chunks", dies_after_two)
    with pytest.raises(Killed):
        source_sync(source=source)
    source.refresh_from_db()
    assert source.high_water == 10 and Call.objects.count() == 10
    monkeypatch.setattr(sync_service, "_chunks", real)
    resumed = source_sync(source=source)  # the lease was released on the way out
    assert resumed.status == JobStatus.DONE
    assert (resumed.batch.rows, resumed.batch.inserted, resumed.batch.duplicates) == (12, 12, 0)
    _assert_each_row_once(22)


@pytest.mark.django_db
def test_killed_inside_a_batch_keeps_nothing_of_that_batch(sqlite_store, monkeypatch):
    from logs.services import ingest

    sqlite_store.create().insert([L.consume(i) for i in range(1, 23)])
    source = _source(sqlite_store)
    real, calls = ingest.rollups_apply, []

    def dies_on_the_third_chunk(**kw):
        calls.append(1)
        if len(calls) == 3:  # the third chunk's calls are written, its rollups and mark not yet
            raise Killed
        return real(**kw)

    monkeypatch.setattr(ingest, "rollups_apply", dies_on_the_third_chunk)
    with pytest.raises(Killed):
        source_sync(source=source)
    source.refresh_from_db()
    assert source.high_water == 10 and Call.objects.count() == 10
    # the killed sync's batch shows what it committed
    killed = IngestBatch.objects.order_by("-id").first()
    assert killed.inserted == 10
    monkeypatch.setattr(ingest, "rollups_apply", real)
    resumed = source_sync(source=source)
    assert resumed.batch.inserted == 12
    _assert_each_row_once(22)


@pytest.mark.django_db
def test_a_dead_workers_lease_expires_and_its_sync_row_is_reaped(sqlite_store):
    import datetime as dt

    from django.utils import timezone

    sqlite_store.create().insert([L.consume(1)])
    source = _source(sqlite_store)
    GatewaySource.objects.filter(pk=source.pk).update(lease_owner="dead", lease_until=timezone.now() + dt.timedelta(minutes=3))
    with pytest.raises(SyncBusy):
        source_sync(source=source)
    GatewaySource.objects.filter(pk=source.pk).update(lease_until=timezone.now() - dt.timedelta(seconds=1))
    assert source_sync(source=source).batch.inserted == 1
    stuck = source.syncs.create(status=JobStatus.RUNNING, heartbeat_at=timezone.now() - dt.timedelta(hours=1))
    assert sync_service.syncs_reap() == [stuck.pk]
    stuck.refresh_from_db()
    assert stuck.status == JobStatus.FAILED and "resumes" in stuck.error


@pytest.mark.django_db(transaction=True)
def test_two_syncs_at_once_one_is_refused_none_doubles(store, monkeypatch):
    if store.vendor == "sqlite":
        pytest.skip("one gateway database kind is enough for the lock")
    store.create().insert([L.consume(i) for i in range(1, 31)])
    source = _source(store)
    inside, release = threading.Event(), threading.Event()
    real = sync_service._chunks

    def slow(*a, **kw):
        for chunk in real(*a, **kw):
            inside.set()
            release.wait(20)
            yield chunk

    monkeypatch.setattr(sync_service, "_chunks", slow)
    results = {}

    def first():
        from django.db import connection

        try:
            results["first"] = source_sync(source=GatewaySource.objects.get(pk=source.pk))
        finally:
            connection.close()

    t = threading.Thread(target=first)
    t.start()
    assert inside.wait(20)
    with pytest.raises(SyncBusy, match="already running"):
        source_sync(source=GatewaySource.objects.get(pk=source.pk))
    release.set()
    t.join(30)
    assert results["first"].status == JobStatus.DONE
    assert results["first"].batch.inserted == 30
    assert source_sync(source=GatewaySource.objects.get(pk=source.pk)).batch.rows == 0
    _assert_each_row_once(30)
