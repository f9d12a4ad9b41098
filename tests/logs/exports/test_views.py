"""The export dialog, the Async Tasks page, its status endpoint and downloads: as a user sees them."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from python_calamine import CalamineWorkbook

from logs.models import ExportJob
from logs.models.ingest import JobStatus
from logs.scoping import SESSION_KEY
from logs.timeutil import billing_today
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_alice(client, alice):
    client.force_login(alice)
    return client


def _last_month():
    first_this = billing_today().replace(day=1)
    last = first_this - dt.timedelta(days=1)
    return last.replace(day=1), last


def _read_calls(content: bytes):
    wb = CalamineWorkbook.from_filelike(io.BytesIO(content))
    rows = wb.get_sheet_by_name("Calls").to_python()
    return rows[0], rows[1:]


def test_export_from_post_to_download(client_alice, acme, eager, django_capture_on_commit_callbacks):
    first, last = _last_month()
    noon = dt.datetime.combine(first, dt.time(12), tzinfo=f.UTC8)
    mine = [f.call(acme, created_at=noon + dt.timedelta(days=i), category=c, http_status=s)
            for i, (c, s) in enumerate([("success", 200), ("rate_limited", 429), ("overloaded", 503)])]
    f.call(acme, created_at=noon - dt.timedelta(days=3))  # the month before: not exported
    with django_capture_on_commit_callbacks(execute=True):
        resp = client_alice.post(reverse("logs:export_new"),
                                 {"range": "last_month", "failed": "on"})
    assert resp.status_code == 302
    assert resp["Location"].startswith(reverse("logs:tasks"))
    job = ExportJob.objects.get()
    assert job.owner.username == "alice" and job.customer == acme
    assert (job.date_from, job.date_to) == (first, last)
    assert job.filters == {"failed": True}
    assert job.status == JobStatus.DONE, job.error
    assert job.rows_done == job.rows_total == 2
    assert job.filename == f"nbaudit-acme-{first.isoformat()}-{last.isoformat()}.xlsx"
    assert job.expires_at - job.finished_at == dt.timedelta(days=7)

    page = client_alice.get(reverse("logs:tasks"))
    assert page.status_code == 200
    html = page.content.decode()
    assert job.filename in html and "Download" in html

    status = client_alice.get(reverse("logs:task_status", args=[job.pk])).json()
    assert status["status"] == "done" and status["percent"] == 100
    assert status["rows_done"] == 2 and status["download_url"]

    resp = client_alice.get(status["download_url"])
    assert resp.status_code == 200
    assert resp["Content-Disposition"] == f'attachment; filename="{job.filename}"'
    header, rows = _read_calls(b"".join(resp.streaming_content))
    assert sorted(r[header.index("Request ID")] for r in rows) == sorted(c.request_id for c in mine[1:])


def test_logs_page_filters_carried_into_the_dialog(client_alice):
    resp = client_alice.get(reverse("logs:export_new"),
                            {"range": "7d", "model": "nb2", "category": ["rate_limited", "overloaded"],
                             "token_name": "=evil", "page": "3"})
    html = resp.content.decode()
    assert resp.status_code == 200
    assert '<option value="7d" selected>' in html
    assert '<input type="hidden" name="model" value="nb2">' in html
    assert '<input type="hidden" name="category" value="rate_limited">' in html
    assert '<input type="hidden" name="category" value="overloaded">' in html
    assert '<input type="hidden" name="token_name" value="=evil">' in html
    assert 'name="page"' not in html
    assert "Async Export" in html


def test_logs_page_has_the_export_button(client_alice):
    resp = client_alice.get(reverse("logs:calls"), {"range": "last_month", "failed": "on"})
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'id="export-open"' in html and "<dialog" in html
    assert '<input type="hidden" name="failed" value="on">' in html
    assert '<option value="last_month" selected>' in html


def test_custom_range_needs_both_days(client_alice):
    resp = client_alice.post(reverse("logs:export_new"), {"range": "custom", "date_from": "2026-10-01"})
    assert resp.status_code == 400
    assert "needs a first and a last day" in resp.content.decode()
    resp = client_alice.post(reverse("logs:export_new"),
                             {"range": "custom", "date_from": "2026-10-09", "date_to": "2026-10-01"})
    assert resp.status_code == 400
    assert "after the last day" in resp.content.decode()
    assert not ExportJob.objects.exists()


def test_custom_range_and_filters_stored(client_alice, acme):
    resp = client_alice.post(reverse("logs:export_new"), {
        "range": "custom", "date_from": "2026-10-01", "date_to": "2026-10-31",
        "model": "gemini-3-pro-image-preview", "category": ["rate_limited", "timeout"],
        "http_status": "429", "token_name": "prod", "request_id": "",
    })
    assert resp.status_code == 302
    job = ExportJob.objects.get()
    assert (job.date_from, job.date_to) == (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert job.filters == {"model": "gemini-3-pro-image-preview", "category": ["rate_limited", "timeout"],
                           "http_status": 429, "token_name": "prod"}
    assert job.status == JobStatus.QUEUED  # nothing ran: the task is queued after commit


def test_queued_job_download_is_409_with_retry_after(client_alice, acme):
    resp = client_alice.post(reverse("logs:export_new"), {"range": "today"})
    job = ExportJob.objects.get()
    resp = client_alice.get(reverse("logs:task_download", args=[job.pk]))
    assert resp.status_code == 409
    assert int(resp["Retry-After"]) > 0
    ExportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, rows_done=10, rows_total=40)
    resp = client_alice.get(reverse("logs:task_download", args=[job.pk]))
    assert resp.status_code == 409 and "Retry-After" in resp
    state = client_alice.get(reverse("logs:task_status", args=[job.pk])).json()
    assert state["status"] == "running" and state["percent"] == 25 and state["download_url"] is None


def test_another_customers_job_is_404_everywhere(client, acme, eager, django_capture_on_commit_callbacks):
    alice = f.user("alice", customer_obj=acme)
    bob = f.user("bob", customer_obj=f.customer("globex"))
    client.force_login(alice)
    f.call(acme, created_at=dt.datetime.combine(billing_today(), dt.time(0, 30), tzinfo=f.UTC8))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("logs:export_new"), {"range": "today"})
    job = ExportJob.objects.get()
    assert job.status == JobStatus.DONE
    assert job.filename in client.get(reverse("logs:tasks")).content.decode()
    client.force_login(bob)
    for name, method in [("task_status", "get"), ("task_download", "get"),
                         ("task_retry", "post"), ("task_cancel", "post")]:
        resp = getattr(client, method)(reverse(f"logs:{name}", args=[job.pk]))
        assert resp.status_code == 404, name
    page = client.get(reverse("logs:tasks")).content.decode()
    assert job.filename not in page
    # Staff see and download everyone's.
    client.force_login(f.user("root", staff=True))
    assert job.filename in client.get(reverse("logs:tasks")).content.decode()
    assert client.get(reverse("logs:task_download", args=[job.pk])).status_code == 200


def test_a_customer_cannot_export_another_customer(client, acme, django_capture_on_commit_callbacks):
    """The customer comes from the account, not from the request: a staff-only session key is ignored."""
    globex = f.customer("globex")
    client.force_login(f.user("alice", customer_obj=acme))
    session = client.session
    session[SESSION_KEY] = globex.pk
    session.save()
    client.post(reverse("logs:export_new"), {"range": "today", "customer": globex.slug})
    assert ExportJob.objects.get().customer == acme


def test_staff_export_all_customers_and_picked(client, django_capture_on_commit_callbacks):
    acme = f.customer("acme")
    staff = f.user("root", staff=True)
    client.force_login(staff)
    client.post(reverse("logs:export_new"), {"range": "today"})
    job = ExportJob.objects.get()
    assert job.customer is None and job.filename.startswith("nbaudit-all-")
    session = client.session
    session[SESSION_KEY] = acme.pk
    session.save()
    client.post(reverse("logs:export_new"), {"range": "today"})
    assert ExportJob.objects.latest("id").customer == acme


def test_cancel_then_retry(client_alice, acme, eager, django_capture_on_commit_callbacks):
    f.call(acme, created_at=dt.datetime.combine(billing_today(), dt.time(0, 30), tzinfo=f.UTC8))
    client_alice.post(reverse("logs:export_new"), {"range": "today"})  # queued, not run
    job = ExportJob.objects.get()
    resp = client_alice.post(reverse("logs:task_cancel", args=[job.pk]))
    assert resp.status_code == 302
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert client_alice.get(reverse("logs:task_download", args=[job.pk])).status_code == 409
    # A cancelled job cannot be cancelled again; it can be retried.
    client_alice.post(reverse("logs:task_cancel", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    with django_capture_on_commit_callbacks(execute=True):
        client_alice.post(reverse("logs:task_retry", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.rows_done == 1
    assert client_alice.get(reverse("logs:task_download", args=[job.pk])).status_code == 200


def test_failed_job_shows_error_in_words_and_retry(client_alice, acme):
    client_alice.post(reverse("logs:export_new"), {"range": "today"})
    job = ExportJob.objects.get()
    ExportJob.objects.filter(pk=job.pk).update(status=JobStatus.FAILED,
                                               error="the worker stopped while exporting; please retry")
    html = client_alice.get(reverse("logs:tasks")).content.decode()
    assert "the worker stopped while exporting; please retry" in html
    assert reverse("logs:task_retry", args=[job.pk]) in html
    state = client_alice.get(reverse("logs:task_status", args=[job.pk])).json()
    assert state["status"] == "failed" and "worker stopped" in state["error"]


def test_expired_download_is_410(client_alice, acme, eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client_alice.post(reverse("logs:export_new"), {"range": "today"})
    job = ExportJob.objects.get()
    from logs.tasks import exports_expire

    ExportJob.objects.filter(pk=job.pk).update(expires_at=job.finished_at - dt.timedelta(seconds=1))
    assert exports_expire.apply().get() == 1
    resp = client_alice.get(reverse("logs:task_download", args=[job.pk]))
    assert resp.status_code == 410


def test_pages_need_login(client):
    for url in [reverse("logs:tasks"), reverse("logs:export_new"),
                reverse("logs:task_status", args=[1]), reverse("logs:task_download", args=[1])]:
        resp = client.get(url)
        assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]
