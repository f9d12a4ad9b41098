"""Bearer authentication: a token's last use is recorded at most once a minute."""
from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from logs.models import ApiToken
from logs.services.tokens import apitoken_create, apitoken_mark_used
from tests import factories as f

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 10, 10, 12, 0, tzinfo=dt.timezone.utc)


def _get(client, raw):
    return client.get("/api/v1/calls", HTTP_AUTHORIZATION=f"Bearer {raw}")


def _updates(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("UPDATE")]


def test_last_used_is_written_once_a_minute_at_most(client):
    token, raw = apitoken_create(customer=f.customer("acme"))
    with time_machine.travel(T0, tick=False):
        assert _get(client, raw).status_code == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_at == T0

    # Reads within the minute do not write at all (no UPDATE, so no wait for the write lock).
    with time_machine.travel(T0 + dt.timedelta(seconds=59), tick=False), \
            CaptureQueriesContext(connection) as queries:
        assert _get(client, raw).status_code == 200
        assert _get(client, raw).status_code == 200
    assert _updates(queries.captured_queries) == []
    assert ApiToken.objects.get(pk=token.pk).last_used_at == T0

    later = T0 + dt.timedelta(seconds=61)
    with time_machine.travel(later, tick=False):
        assert _get(client, raw).status_code == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_at == later


def test_the_update_is_conditional_when_two_requests_race():
    token, _ = apitoken_create(customer=None)
    first, second = ApiToken.objects.get(pk=token.pk), ApiToken.objects.get(pk=token.pk)
    assert apitoken_mark_used(token=first, now=T0) is True
    # `second` was loaded before the first write: its own check passes, the UPDATE's WHERE does not.
    assert apitoken_mark_used(token=second, now=T0 + dt.timedelta(seconds=1)) is False
    assert ApiToken.objects.get(pk=token.pk).last_used_at == T0
    assert apitoken_mark_used(token=second, now=T0 + dt.timedelta(seconds=61)) is True
    assert ApiToken.objects.get(pk=token.pk).last_used_at == T0 + dt.timedelta(seconds=61)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's one write lock")
@pytest.mark.django_db(transaction=True)  # autocommit, as a request's write is
def test_a_read_does_not_wait_for_the_write_lock_to_record_a_use():
    """While an ingest holds SQLite's write lock, the use is not recorded (and the read answers)
    instead of queueing for up to the busy timeout; the next read after the lock is free records it."""
    from django.db import OperationalError

    import nbaudit.db as db

    token, raw = apitoken_create(customer=f.customer("acme"))
    timeouts = []

    def locked():
        with connection.cursor() as cur:
            cur.execute("PRAGMA busy_timeout")
            timeouts.append(cur.fetchone()[0])
        raise OperationalError("database is locked")

    assert db.write_unless_busy(locked) is None
    assert timeouts == [0]  # tried without waiting
    with connection.cursor() as cur:
        cur.execute("PRAGMA busy_timeout")
        assert cur.fetchone()[0] > 0  # and the connection waits again for everything else

    real = db.write_unless_busy
    try:
        from logs.services import tokens
        tokens.write_unless_busy = lambda write: db.write_unless_busy(locked)
        assert apitoken_mark_used(token=token, now=T0) is False
    finally:
        tokens.write_unless_busy = real
    assert ApiToken.objects.get(pk=token.pk).last_used_at is None
    assert apitoken_mark_used(token=ApiToken.objects.get(pk=token.pk), now=T0) is True
    assert ApiToken.objects.get(pk=token.pk).last_used_at == T0


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's one write lock")
@pytest.mark.django_db(transaction=True)
def test_other_database_errors_are_not_swallowed():
    from django.db import OperationalError

    import nbaudit.db as db

    def broken():
        raise OperationalError("no such table: logs_apitoken")

    with pytest.raises(OperationalError, match="no such table"):
        db.write_unless_busy(broken)
