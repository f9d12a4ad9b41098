"""Events: a tally approved (or adjusted), rejected or credited notifies the customer's users; an export or
a reconciliation tells its starter when it ends, if asked."""
import datetime as dt

import pytest

from alerts.models import Delivery, Notification
from billing.services.tally import tally_approve, tally_compute, tally_mark_credited
from tests import factories as f
from tests.billing.tallies.helpers import JUNE, at, enrolled, failure, spend

pytestmark = pytest.mark.django_db


def test_approval_adjustment_and_credit_reach_the_customer(django_capture_on_commit_callbacks):
    acme = enrolled(name="Acme Studio")
    alice = f.user("alice", customer_obj=acme)
    alice.email = "alice@acme.example"
    alice.save()
    boss = f.user("boss", staff=True)
    spend(acme, "1000")
    for day in range(1, 5):
        failure(acme, when=at(2026, 6, day), request_id=f"f{day}")
    tally = tally_compute(customer=acme, month=JUNE)
    with django_capture_on_commit_callbacks(execute=True):
        tally_approve(tally=tally, by=boss, amount="0.15", reason="one call was a test")
    note = Notification.objects.get(user=alice)
    assert "adjusted to US$0.15" in note.title
    assert "one call was a test" in note.body
    with django_capture_on_commit_callbacks(execute=True):
        tally_mark_credited(tally=tally, by=boss, reference="TX-42")
    latest = Notification.objects.filter(user=alice).first()
    assert "credited" in latest.title and "TX-42" in latest.body
    assert Delivery.objects.filter(target="alice@acme.example").count() == 2
    assert not Notification.objects.filter(user=boss).exists()


def test_an_export_tells_its_owner_when_done_only_if_asked(django_capture_on_commit_callbacks):
    from logs.services.exports import export_create

    acme = f.customer("acme")
    alice = f.user("alice", customer_obj=acme)
    f.call(acme, created_at=dt.datetime(2026, 10, 10, 12, tzinfo=f.UTC8))
    with django_capture_on_commit_callbacks(execute=True):
        asked = export_create(user=alice, customer=acme, date_from=dt.date(2026, 10, 1),
                              date_to=dt.date(2026, 10, 31), notify=True)
        export_create(user=alice, customer=acme, date_from=dt.date(2026, 10, 1), date_to=dt.date(2026, 10, 31))
    asked.refresh_from_db()
    assert asked.status == "done"
    [note] = Notification.objects.filter(user=alice)
    assert note.title == f"[nbaudit] Your export {asked.filename} is ready"
    assert note.url == "/tasks/"


def test_a_reconciliation_tells_its_starter_when_done(django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from billing.services.reconciliation import reconciliation_create, reconciliation_run

    acme = f.customer("acme")
    alice = f.user("alice", customer_obj=acme)
    f.call(acme, request_id="r1", created_at=dt.datetime(2026, 10, 10, 12, tzinfo=f.UTC8))
    upload = SimpleUploadedFile("local.csv", b"request_id,created_at\nr1,2026-10-10 12:00:00\n")
    recon = reconciliation_create(customer=acme, user=alice, upload=upload, notify=True)
    with django_capture_on_commit_callbacks(execute=True):
        reconciliation_run(reconciliation=recon)
    [note] = Notification.objects.filter(user=alice)
    assert note.title == f"[nbaudit] Reconciliation #{recon.pk} is done"
    assert "1 local rows against 1 platform records" in note.body


def test_the_export_dialog_and_the_reconcile_form_ask(client, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from billing.models import Reconciliation
    from logs.models import ExportJob

    acme = f.customer("acme")
    alice = f.user("alice", customer_obj=acme)
    client.force_login(alice)
    page = client.get("/exports/new?range=last_month").content.decode()
    assert 'name="notify"' in page and "Tell me when it is done" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/exports/new", {"range": "last_month", "notify": "on"})
    assert ExportJob.objects.get().notify_when_done is True
    assert Notification.objects.filter(user=alice, title__contains="is ready").exists()
    f.call(acme, request_id="r1", created_at=dt.datetime(2026, 10, 10, 12, tzinfo=f.UTC8))
    upload = SimpleUploadedFile("local.csv", b"request_id,created_at\nr1,2026-10-10 12:00:00\n")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/billing/reconcile/", {"file": upload, "notify": "on"})
    assert Reconciliation.objects.get().notify_when_done is True
    assert Notification.objects.filter(user=alice, title__contains="Reconciliation").exists()
