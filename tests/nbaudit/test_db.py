"""The read-replica router: the dashboard's pages read calls and rollups from the replica; writes,
sessions, users, jobs and everything outside those pages stay on the primary."""
import datetime as dt

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from logs.models import Call, ExportJob, HourlyRollup, User
from nbaudit.db import PrimaryReplicaRouter, replica_reads
from tests import factories as f

router = PrimaryReplicaRouter()


@pytest.fixture
def with_replica(settings):
    settings.DATABASES = {**settings.DATABASES, "replica": dict(settings.DATABASES["default"])}


def test_no_replica_configured_reads_the_primary():
    if "replica" in settings.DATABASES:
        pytest.skip("a replica is configured")
    with replica_reads():
        assert router.db_for_read(Call) == "default"


def test_router_decisions(with_replica):
    assert router.db_for_read(Call) == "default"  # outside a dashboard page
    with replica_reads():
        assert router.db_for_read(Call) == "replica"
        assert router.db_for_read(HourlyRollup) == "replica"
        for model in (Session, User, ExportJob):  # must read its own writes
            assert router.db_for_read(model) == "default"
        assert router.db_for_write(Call) == "default"
    assert router.allow_migrate("default", "logs") is True
    assert router.allow_migrate("replica", "logs") is False


@pytest.mark.django_db
def test_reads_inside_a_transaction_stay_on_the_primary(with_replica):
    with replica_reads(), transaction.atomic():
        assert router.db_for_read(Call) == "default"


@pytest.mark.skipif("replica" not in settings.DATABASES,
                    reason="set DATABASE_REPLICA_URL (CI mirrors the primary) to test with two aliases")
@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_logs_page_reads_calls_from_the_replica_and_sessions_from_the_primary(client):
    acme = f.customer("acme")
    f.call(acme, request_id="r-1", created_at=timezone.now() - dt.timedelta(hours=1))
    client.force_login(f.user("alice", customer_obj=acme))
    with CaptureQueriesContext(connections["default"]) as primary, \
            CaptureQueriesContext(connections["replica"]) as replica:
        page = client.get("/logs/")
        assert "r-1" in page.content.decode()
        client.get("/tasks/")
    on_replica = " ".join(q["sql"] for q in replica.captured_queries)
    on_primary = " ".join(q["sql"] for q in primary.captured_queries)
    assert '"logs_call"' in on_replica
    assert "django_session" in on_primary and "django_session" not in on_replica
    assert '"logs_exportjob"' in on_primary and '"logs_exportjob"' not in on_replica
