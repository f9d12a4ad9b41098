"""The staff page "Gateways"."""
import pytest

from gateways.models import GatewaySource
from gateways.services.sync import source_save, source_sync
from tests import factories as F
from tests.gateways import logstore as L

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(F.user("root", staff=True))
    return client


def test_staff_see_each_source_its_state_and_never_a_secret(staff_client, sqlite_store):
    sqlite_store.create().insert(L.mixed())
    source, _ = source_save(name="shop", dsn=sqlite_store.dsn)
    source_sync(source=source)
    source_save(name="pg-shop", dsn="postgres://reader:hunter2-secret@127.0.0.1:1/newapi")
    source_sync(source=GatewaySource.objects.get(name="pg-shop"))
    source_save(name="api-shop", base_url="https://gw.example", token="sk-abcdefghijklmnop1234", user_id=1)
    page = staff_client.get("/gateways/").content.decode()
    assert "shop" in page and "pg-shop" in page
    assert "hunter2-secret" not in page and "reader:****@127.0.0.1:1" in page
    assert "sk-abcdefghijklmnop1234" not in page and "****1234" in page
    assert "connection refused at 127.0.0.1:1" in page
    assert ">failing<" in page and ">ok<" in page
    assert "9 inserted, 0 duplicates, 0 conflicts, 3 skipped, 0 rejected" in page
    assert 'href="/gateways/"' in page  # in the staff navigation


def test_sync_now_and_pause_resume(staff_client, sqlite_store):
    sqlite_store.create().insert([L.consume(1), L.consume(2)])
    source, _ = source_save(name="shop", dsn=sqlite_store.dsn)
    r = staff_client.post(f"/gateways/{source.pk}/action/", {"action": "sync"})
    assert r.status_code == 302
    page = staff_client.get("/gateways/").content.decode()
    assert "A sync of shop is queued" in page
    staff_client.post(f"/gateways/{source.pk}/action/", {"action": "pause"})
    source.refresh_from_db()
    assert source.enabled is False
    assert ">paused<" in staff_client.get("/gateways/").content.decode()
    staff_client.post(f"/gateways/{source.pk}/action/", {"action": "resume"})
    source.refresh_from_db()
    assert source.enabled is True


def test_sync_now_runs_the_sync(staff_client, sqlite_store, django_capture_on_commit_callbacks):
    sqlite_store.create().insert([L.consume(1), L.consume(2)])
    source, _ = source_save(name="shop", dsn=sqlite_store.dsn)
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(f"/gateways/{source.pk}/action/", {"action": "sync"})
    source.refresh_from_db()
    assert source.high_water == 2
    sync = source.syncs.get()
    assert sync.origin == "page" and sync.created_by.username == "root"


def test_customers_never_reach_the_page(client):
    client.force_login(F.user("carol", customer_obj=F.customer("acme")))
    assert client.get("/gateways/").status_code in (302, 403)
    page = client.get("/").content.decode()
    assert 'href="/gateways/"' not in page
