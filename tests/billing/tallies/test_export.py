"""A tally's calls download as Excel through the export machinery: the tally page's
button queues an ExportJob of kind "tally" on the Async Tasks page; the file, read back with
python-calamine, holds exactly the tally's covered calls with their tally status and reason."""
from __future__ import annotations

import io
import re

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from python_calamine import CalamineWorkbook

from billing.models import TallyCall
from billing.services.tally import REPEATED_REASON, tally_call_exclude, tally_compute
from logs.models import ExportJob
from logs.models.ingest import JobStatus
from logs.services.exports import export_create
from tests import ROOT, factories as f
from tests.billing.tallies.helpers import JUNE, at, enrolled, failure, spend

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme_tally():
    c = enrolled("acme")
    spend(c, "1000")
    for d in (1, 2, 3, 4):  # the 4th of one prompt is excluded as repeated (limit 3)
        failure(c, prompt="same", when=at(2026, 6, d), request_id=f"same-{d}")
    failure(c, prompt="other", when=at(2026, 6, 5), request_id="other-1")
    failure(c, prompt="third", when=at(2026, 6, 6), request_id="excluded-1")
    failure(c, prompt="july", when=at(2026, 7, 1), request_id="july-1")  # another month
    tally = tally_compute(customer=c, month=JUNE)
    call = TallyCall.objects.get(tally=tally, request_id="excluded-1").call
    return tally_call_exclude(tally=tally, call=call, by=f.user("boss", staff=True),
                              reason="customer retried on purpose")


def _download(client, job) -> dict:
    resp = client.get(reverse("logs:task_download", args=[job.pk]))
    assert resp.status_code == 200
    wb = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(resp.streaming_content)))
    rows = wb.get_sheet_by_name("Calls").to_python()
    head, body = rows[0], rows[1:]
    rid, status, reason = head.index("Request ID"), head.index("Tally status"), head.index("Tally reason")
    summary = wb.get_sheet_by_name("Summary").to_python()
    return {"rows": {r[rid]: (r[status], r[reason]) for r in body}, "count": len(body), "summary": summary,
            "head": head}


def _expected(tally) -> dict:
    """What the tally page shows for each covered call: status, and reason (a repeated call's
    reason is its status, in words)."""
    repeated = REPEATED_REASON.format(limit=settings.NBAUDIT_PLAN_REPEAT_LIMIT)
    return {rid: (status, reason or (repeated if status == "repeated" else ""))
            for rid, status, reason in
            TallyCall.objects.filter(tally=tally).values_list("request_id", "status", "reason")}


def test_customer_downloads_its_tally_calls_with_status_and_reason(
        client, acme_tally, other_tally, eager, django_capture_on_commit_callbacks):
    client.force_login(f.user("alice", customer_obj=acme_tally.customer))
    page = client.get(reverse("billing:tally", args=[acme_tally.pk]))
    assert "Download calls (Excel)" in page.content.decode()
    assert reverse("billing:tally_export", args=[acme_tally.pk]) in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(reverse("billing:tally_export", args=[acme_tally.pk]))
    job = ExportJob.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"{reverse('logs:tasks')}#job-{job.pk}"
    assert job.kind == "tally" and job.filters == {"tally": acme_tally.pk}
    assert job.customer == acme_tally.customer and job.owner.username == "alice"
    assert job.status == JobStatus.DONE, job.error
    assert job.filename == "nbaudit-acme-tally-2026-06-calls.xlsx"
    assert job.filename in client.get(reverse("logs:tasks")).content.decode()  # on Async Tasks

    got = _download(client, job)
    expected = _expected(acme_tally)
    assert got["rows"] == expected  # exactly the tally's covered calls, each with its status
    assert got["count"] == len(expected) == job.rows_done
    statuses = {s for s, _ in got["rows"].values()}
    assert statuses == {"counted", "repeated", "excluded"}
    assert "customer retried on purpose" in got["rows"]["excluded-1"][1]
    assert got["rows"]["same-4"][0] == "repeated" and "repeated request" in got["rows"]["same-4"][1]
    assert got["rows"]["same-1"] == ("counted", "")  # no reason: an empty cell
    assert "july-1" not in got["rows"] and "globex-1" not in got["rows"]
    assert got["head"][-2:] == ["Tally status", "Tally reason"]
    labels = {row[0]: row[1] for row in got["summary"] if row}
    assert got["summary"][0][0] == "nbaudit export of a tally's calls"
    assert labels["Tally"] == "acme 2026-06"
    assert labels["Covered failed calls"] == acme_tally.failed_calls


def test_staff_may_download_any_tally(client, acme_tally, other_tally, eager, django_capture_on_commit_callbacks):
    client.force_login(f.user("carol", staff=True))
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(reverse("billing:tally_export", args=[other_tally.pk]))
    assert resp.status_code == 302
    job = ExportJob.objects.get()
    assert job.customer == other_tally.customer and job.status == JobStatus.DONE, job.error
    assert _download(client, job)["rows"] == _expected(other_tally)


def test_another_customers_tally_is_a_404_and_queues_nothing(client, acme_tally, other_tally):
    client.force_login(f.user("alice", customer_obj=acme_tally.customer))
    assert client.post(reverse("billing:tally_export", args=[other_tally.pk])).status_code == 404
    assert client.get(reverse("billing:tally_export", args=[acme_tally.pk])).status_code == 405
    assert not ExportJob.objects.exists()


def test_the_service_refuses_a_tally_of_another_customer(acme_tally, other_tally):
    alice = f.user("alice", customer_obj=acme_tally.customer)
    boss = f.user("boss2", staff=True)
    with pytest.raises(ValidationError):  # a customer's user: its own customer is forced
        export_create(user=alice, customer=None, date_from=JUNE, date_to=JUNE, kind="tally",
                      filters={"tally": other_tally.pk})
    with pytest.raises(ValidationError):  # staff naming the wrong customer
        export_create(user=boss, customer=acme_tally.customer, date_from=JUNE, date_to=JUNE, kind="tally",
                      filters={"tally": other_tally.pk})
    with pytest.raises(ValidationError):
        export_create(user=boss, customer=None, date_from=JUNE, date_to=JUNE, kind="no-such-kind")
    assert not ExportJob.objects.exists()


def test_logs_does_not_import_billing():
    root = ROOT / "logs"
    offenders = [str(p) for p in root.rglob("*.py")
                 if re.search(r"^\s*(from|import)\s+billing\b", p.read_text(encoding="utf-8"), re.M)]
    assert offenders == []


def test_downloading_a_tally_twice_while_pending_gives_the_first_job(client, acme_tally):
    client.force_login(f.user("alice", customer_obj=acme_tally.customer))
    first = client.post(reverse("billing:tally_export", args=[acme_tally.pk]))  # no commit: stays queued
    again = client.post(reverse("billing:tally_export", args=[acme_tally.pk]), follow=True)
    job = ExportJob.objects.get()
    assert job.status == JobStatus.QUEUED
    assert first["Location"].endswith(f"#job-{job.pk}") and again.redirect_chain[-1][0].endswith(f"#job-{job.pk}")
    assert "already queued" in again.content.decode()
