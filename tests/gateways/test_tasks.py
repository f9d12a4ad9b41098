"""The beat task: every enabled, due source synced; a failing one waits out its backoff."""
import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from gateways.models import GatewaySource
from gateways.services.sync import source_pause, source_save
from gateways.tasks import gateways_sync
from logs.models import Call
from tests.gateways import logstore as L

pytestmark = pytest.mark.django_db


def test_the_beat_syncs_due_sources_and_backs_off_failing_ones(sqlite_store):
    sqlite_store.create().insert([L.consume(1), L.consume(2)])
    source_save(name="good", dsn=sqlite_store.dsn)
    source_save(name="down", dsn="mysql://reader:pw@127.0.0.1:1/newapi")
    paused, _ = source_save(name="paused", dsn=sqlite_store.dsn.replace("gateway.db", "other.db"))
    source_pause(source=paused, enabled=False)
    result = gateways_sync()
    assert sorted(result["queued"]) == ["down", "good"]
    assert Call.objects.count() == 2
    down = GatewaySource.objects.get(name="down")
    assert down.last_error == "connection refused at 127.0.0.1:1"
    # a minute later the failing source is still waiting (backoff); the good one syncs again
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=59)):
        assert gateways_sync()["queued"] == ["good"]
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=3)):
        assert "down" in gateways_sync()["queued"]
    assert GatewaySource.objects.get(name="down").failures == 2
    assert GatewaySource.objects.get(name="paused").last_sync_at is None
