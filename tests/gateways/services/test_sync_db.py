"""The db kind: New API and One API `logs` tables in SQLite, PostgreSQL and MariaDB, synced through ingest."""
import datetime as dt
from decimal import Decimal

import pytest

from gateways.models import GatewaySource
from gateways.services.sync import source_save, source_sync
from logs.models import Call, Customer, HourlyRollup
from logs.models.ingest import JobStatus
from tests.gateways import logstore as L

pytestmark = pytest.mark.django_db


def _source(dsn, name="gw1", **kw):
    source, _ = source_save(name=name, dsn=dsn, **kw)
    return source


@pytest.mark.parametrize("flavor", ["new-api", "one-api"])
def test_rows_become_calls_as_a_file_import_makes_them(store, flavor):
    rows = L.mixed()
    if flavor == "one-api":  # no error rows, no `other`
        rows = [L.one_api(r) for r in rows if r["type"] != 5]
    store.create(flavor).insert(rows)
    source = _source(store.dsn)
    sync = source_sync(source=source)
    assert sync.status == JobStatus.DONE, sync.error
    s = sync.batch.summary()
    calls = 9 if flavor == "new-api" else 7
    assert s["rows"] == len(rows)
    assert s["inserted"] == calls
    assert s["skipped"] == 3  # top-up, manage, refund
    assert s["rejected"] == []
    assert s["customers_created"] == ["acme", "beta"]
    source.refresh_from_db()
    assert source.high_water == len(rows)
    assert source.rows_read == len(rows)
    assert source.flavor == flavor
    assert source.last_error == ""
    first = Call.objects.get(customer__slug="acme",
                             request_id="req-000001" if flavor == "new-api" else "gw1:1")
    assert first.charged_usd == Decimal("0.050000")
    assert first.category == "success"
    assert first.group_ratio == Decimal("1.000000")
    assert first.channel_id == 3
    assert first.created_at == dt.datetime.fromtimestamp(L.NOW - 3600 + 1, tz=dt.timezone.utc)
    assert first.latency_ms == (31_250 if flavor == "one-api" else 31_000)
    if flavor == "new-api":
        # a consume row without other.request_id is keyed by the source and the row's id
        assert Call.objects.filter(customer__slug="acme", request_id="gw1:2").exists()
        err = Call.objects.get(request_id="err-000007")
        assert (err.category, err.error_text, err.channel_id) == ("overloaded", L.error(7)["content"], 4)
        assert Call.objects.get(request_id="err-000012").category == "rate_limited"
        assert s["categories"] == {"empty_output": 1, "overloaded": 1, "rate_limited": 1, "success": 6}
    else:
        assert not Call.objects.filter(request_id__startswith="req-").exists()
        assert Call.objects.filter(request_id="gw1:1").exists()
    assert Customer.objects.get(slug="beta").enrolled_from is None
    # the rollups are those of an import
    assert sum(HourlyRollup.objects.values_list("calls", flat=True)) == calls


def test_syncing_again_adds_nothing_and_new_rows_follow(store):
    store.create().insert(L.mixed())
    source = _source(store.dsn)
    source_sync(source=source)
    again = source_sync(source=source)
    assert again.batch.rows == 0 and again.batch.inserted == 0
    store.insert([L.consume(100), L.error(101)])
    third = source_sync(source=source)
    assert (third.batch.rows, third.batch.inserted) == (2, 2)
    assert Call.objects.count() == 11
    assert third.high_water_from == 12 and third.high_water_to == 14


def test_bounded_batches_each_commit_their_high_water(sqlite_store):
    sqlite_store.create().insert([L.consume(i) for i in range(1, 24)])
    source = _source(sqlite_store.dsn)
    GatewaySource.objects.filter(pk=source.pk).update(batch_size=5)
    source.refresh_from_db()
    sync = source_sync(source=source)
    assert sync.batch.inserted == 23 and sync.rows_done == 23
    source.refresh_from_db()
    assert source.high_water == 23


def test_the_same_call_later_in_an_export_file_is_a_duplicate(sqlite_store, tmp_path):
    from logs.services.ingest import calls_ingest

    sqlite_store.create().insert([L.consume(1)])
    source_sync(source=_source(sqlite_store.dsn))
    when = dt.datetime.fromtimestamp(L.NOW - 3600 + 1, tz=dt.timezone(dt.timedelta(hours=8)))
    csv = ("Time,Request ID,User,Token,Type,Model,Use Time,Prompt,Completion,Quota,Details\n"
           f"{when:%Y-%m-%d %H:%M:%S},req-000001,acme,prod-web,消费,{L.PRO},31,20,1120,25000,{L.PRICE}\n")
    path = tmp_path / "export.csv"
    path.write_text(csv, encoding="utf-8")
    batch = calls_ingest(source=path, fmt="gateway")
    assert (batch.inserted, batch.duplicates, batch.conflicts) == (0, 1, 0)
    assert Call.objects.count() == 1


def test_an_unreadable_other_rejects_that_row_and_the_next_rows_go_in(sqlite_store):
    bad = L.consume(2)
    bad["other"] = "{not json"
    sqlite_store.create().insert([L.consume(1), bad, L.consume(3)])
    sync = source_sync(source=_source(sqlite_store.dsn))
    assert sync.status == JobStatus.DONE
    assert sync.batch.inserted == 2
    assert len(sync.batch.rejected) == 1
    assert sync.batch.rejected[0]["line"] == 2
    assert "`other` is not readable JSON" in sync.batch.rejected[0]["reason"]
    assert sync.source.high_water == 3


def test_a_request_id_over_200_characters_is_rejected_not_cut(sqlite_store):
    import json

    long_id = L.consume(1)
    long_id["other"] = json.dumps({"request_id": "r" * 201})
    sqlite_store.create().insert([long_id, L.consume(2)])
    sync = source_sync(source=_source(sqlite_store.dsn))
    assert sync.batch.inserted == 1
    assert sync.batch.rejected == [{"line": 1, "reason": "other.request_id is longer than 200 characters"}]


def test_a_quota_unit_other_than_500000(sqlite_store):
    sqlite_store.create().insert([L.consume(1)])  # quota 25,000
    source = _source(sqlite_store.dsn, quota_per_unit=250_000)
    source_sync(source=source)
    assert Call.objects.get().charged_usd == Decimal("0.100000")


def test_a_database_without_logs_fails_in_words(tmp_path):
    import sqlite3

    path = tmp_path / "other.db"
    sqlite3.connect(path).execute("CREATE TABLE users (id integer)").connection.close()
    source = _source(f"sqlite:///{path}")
    sync = source_sync(source=source)
    assert sync.status == JobStatus.FAILED
    assert sync.error == "no `logs` table in this database"
    source.refresh_from_db()
    assert source.last_error == "no `logs` table in this database"
    assert source.failures == 1 and source.next_attempt_at is not None
    assert source.lease_owner == ""


def test_no_logs_table_on_a_server(server_store):
    sync = source_sync(source=_source(server_store.dsn))
    assert sync.error == "no `logs` table in this database"


def test_unreachable_host_fails_in_words_and_backs_off():
    source = _source("postgres://reader:s3cret-pw@127.0.0.1:1/newapi")
    sync = source_sync(source=source)
    assert sync.status == JobStatus.FAILED
    assert sync.error == "connection refused at 127.0.0.1:1"
    source.refresh_from_db()
    first_wait = source.next_attempt_at - source.last_sync_at
    source_sync(source=source)
    source.refresh_from_db()
    assert source.failures == 2
    assert source.next_attempt_at - source.last_sync_at > first_wait
    assert "s3cret-pw" not in source.last_error


def test_wrong_password_fails_in_words(server_store):
    store, vendor = server_store, server_store.vendor
    port = 5432 if vendor == "postgresql" else 3306
    try:
        store.create()
        if vendor == "postgresql":
            import psycopg

            store.execute("CREATE ROLE gw_reader_t LOGIN PASSWORD 'right-pw'")
            dsn = f"postgres://gw_reader_t:wrong-pw@127.0.0.1:5432/{store.name}"
            try:
                psycopg.connect(dsn, connect_timeout=5).close()
                pytest.skip("this PostgreSQL trusts local connections: no password is checked")
            except psycopg.OperationalError:
                pass
        else:
            store.execute("CREATE USER IF NOT EXISTS 'gw_reader_t'@'%' IDENTIFIED BY 'right-pw'")
            dsn = f"mysql://gw_reader_t:wrong-pw@127.0.0.1:3306/{store.name}"
        sync = source_sync(source=_source(dsn))
        assert sync.status == JobStatus.FAILED
        assert sync.error == f"the database at 127.0.0.1:{port} refused the user name or password"
        assert "wrong-pw" not in sync.error
    finally:
        store.execute("DROP ROLE IF EXISTS gw_reader_t" if vendor == "postgresql"
                      else "DROP USER IF EXISTS 'gw_reader_t'@'%'")


def test_paused_sources_are_not_due(sqlite_store):
    from gateways.services.sync import source_pause, sources_due

    sqlite_store.create()
    source = _source(sqlite_store.dsn)
    assert list(sources_due()) == [source]
    source_pause(source=source, enabled=False)
    assert list(sources_due()) == []


def test_a_sync_that_finds_nothing_new_keeps_no_job_rows(sqlite_store):
    from gateways.models import GatewaySync
    from logs.models import IngestBatch

    sqlite_store.create().insert([L.consume(1)])
    source = _source(sqlite_store.dsn)
    source_sync(source=source)
    before = source.last_sync_at
    empty = source_sync(source=source)
    assert empty.status == JobStatus.DONE and empty.batch.rows == 0
    assert GatewaySync.objects.count() == 1 and IngestBatch.objects.count() == 1
    source.refresh_from_db()
    assert source.last_sync_at > before


def test_synced_channels_break_the_failure_rollups_down_and_the_check_stays_clean(sqlite_store):
    """Which upstream channel gives the 503s: the synced rows' channels reach the rollups exactly."""
    from io import StringIO

    from django.core.management import call_command

    from logs.selectors.rollups import rollups_failures_by_channel

    rows = [L.consume(1, channel=3), L.consume(2, channel=3, completion=0), L.error(3, channel=4),
            L.error(4, channel=4), L.error(5, channel=7),
            L.error(6, channel=0, text="status_code=429, Resource has been exhausted (e.g. check quota).")]
    sqlite_store.create().insert(rows)
    source = _source(sqlite_store.dsn)
    assert source_sync(source=source).status == JobStatus.DONE
    sqlite_store.insert([L.error(7, channel=7), L.consume(8, channel=4)])
    assert source_sync(source=source).batch.inserted == 2
    assert source_sync(source=source).batch.inserted == 0  # again: nothing added, nothing doubled
    failures = {(r["channel_id"], r["category"]): r["calls"]
                for r in rollups_failures_by_channel(HourlyRollup.objects.all())}
    assert failures == {(3, "empty_output"): 1, (4, "overloaded"): 2, (7, "overloaded"): 2,
                        (None, "rate_limited"): 1}
    out = StringIO()
    call_command("rollups", "--check", stdout=out)  # raises CommandError if the rollups differ
    assert "acme: rollups equal the calls (8 calls)" in out.getvalue()
