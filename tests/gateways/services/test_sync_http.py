"""The http kind, against a local server that follows New API's admin log API."""
import datetime as dt

import pytest
import time_machine

from gateways.services.sync import source_save, source_sync
from logs.models import Call
from logs.models.ingest import JobStatus
from tests.gateways import logstore as L
from tests.gateways.fake_newapi import FakeNewApi

pytestmark = pytest.mark.django_db
AFTER = dt.datetime.fromtimestamp(L.NOW + 600, tz=dt.timezone.utc)  # the rows are an hour old


@pytest.fixture
def api():
    with FakeNewApi() as fake:
        yield fake


def _source(api, token=None, user_id=None):
    source, _ = source_save(name="gwh", base_url=api.url, token=token or api.token,
                            user_id=api.user_id if user_id is None else user_id)
    return source


def test_http_rows_become_calls_and_the_quota_unit_comes_from_status(api):
    api.quota_per_unit = 250_000
    api.add(L.mixed())
    source = _source(api)
    with time_machine.travel(AFTER):
        sync = source_sync(source=source)
    assert sync.status == JobStatus.DONE, sync.error
    assert (sync.batch.inserted, sync.batch.skipped, sync.batch.rejected) == (9, 3, [])
    source.refresh_from_db()
    assert source.quota_per_unit == 250_000
    assert source.high_water == 12
    call = Call.objects.get(request_id="req-000001")
    assert str(call.charged_usd) == "0.100000"  # 25,000 quota at 250,000 a dollar
    assert call.channel_id == 3
    assert any(r.startswith("/api/status") for r in api.requests)


def test_http_pages_until_the_high_water_mark_and_rows_arriving_between_pages(api, monkeypatch):
    from gateways.services import readers

    monkeypatch.setattr(readers, "HTTP_PAGE_SIZE", 5)
    api.add([L.consume(i) for i in range(1, 13)])
    source = _source(api)
    with time_machine.travel(AFTER):
        source_sync(source=source)
    assert Call.objects.count() == 12
    api.add([L.consume(i) for i in range(13, 25)])
    arrived = []

    def more(page):  # new rows land while nbaudit pages: the offsets shift
        if page == 1 and not arrived:
            arrived.append(page)
            api.add([L.consume(i) for i in range(25, 28)])

    api.between_pages = more
    with time_machine.travel(AFTER):
        sync = source_sync(source=source)
    assert sync.status == JobStatus.DONE, sync.error
    # every row once, the late ones too (or in the next sync): none lost, none doubled
    with time_machine.travel(AFTER):
        source_sync(source=source)
    assert Call.objects.count() == 27
    assert sorted(Call.objects.values_list("request_id", flat=True)) == [f"req-{i:06d}" for i in range(1, 28)]
    pages = [r for r in api.requests if r.startswith("/api/log/")]
    # the second sync stopped at the page that reached the mark (12): it never read the whole log
    assert any("p=4" in r for r in pages) and not any("p=6" in r for r in pages)


def test_http_reads_a_closed_window(api):
    api.add([L.consume(1, at=L.NOW - 10)])  # ten seconds before "now": not yet in the window
    source = _source(api)
    with time_machine.travel(dt.datetime.fromtimestamp(L.NOW, tz=dt.timezone.utc)):
        sync = source_sync(source=source)
    assert sync.batch.rows == 0
    with time_machine.travel(dt.datetime.fromtimestamp(L.NOW + 120, tz=dt.timezone.utc)):
        sync = source_sync(source=source)
    assert sync.batch.inserted == 1


def test_a_wrong_token_fails_in_words(api):
    api.add([L.consume(1)])
    source = _source(api, token="sk-wrong-token-9999")
    sync = source_sync(source=source)
    assert sync.status == JobStatus.FAILED
    assert sync.error.startswith("the gateway refused the access token")
    assert "sk-wrong-token-9999" not in sync.error
    source.refresh_from_db()
    assert source.last_error == sync.error and source.failures == 1


def test_a_wrong_user_id_is_refused(api):
    sync = source_sync(source=_source(api, user_id=99))
    assert sync.status == JobStatus.FAILED
    assert "New-Api-User" in sync.error


def test_success_false_is_shown_as_the_gateways_message(api):
    api.fail_message = "数据库繁忙，请稍后再试"
    sync = source_sync(source=_source(api))
    assert sync.error == "the gateway answered: 数据库繁忙，请稍后再试"


def test_an_unreachable_gateway():
    source, _ = source_save(name="gone", base_url="http://127.0.0.1:1", token="sk-x-123456789", user_id=1)
    sync = source_sync(source=source)
    assert sync.error == "connection refused at 127.0.0.1:1"


def test_a_backlog_larger_than_a_window_is_read_in_windows_oldest_first(api, monkeypatch):
    from gateways.services import readers

    monkeypatch.setattr(readers, "HTTP_PAGE_SIZE", 5)
    monkeypatch.setattr(readers, "HTTP_MAX_PAGES", 3)  # 15 rows a window at most
    api.add([L.consume(i, at=L.NOW - 7200 + i * 60) for i in range(1, 101)])  # 100 rows, a minute apart
    source = _source(api)
    with time_machine.travel(AFTER):
        sync = source_sync(source=source)
    assert sync.status == JobStatus.DONE, sync.error
    assert sync.batch.inserted == 100 and sync.batch.duplicates == 0
    source.refresh_from_db()
    assert source.high_water == 100
    assert sorted(Call.objects.values_list("request_id", flat=True)) == [f"req-{i:06d}" for i in range(1, 101)]
