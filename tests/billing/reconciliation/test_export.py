"""The reconciliation's Excel file: an export kind written by the one export writer, read back
with two independent readers (python-calamine, openpyxl)."""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from billing.exports import RECON_KIND, reconciliation_export
from billing.models import Reconciliation, ReconciliationItem
from logs.models import ExportJob
from logs.models.jobs import JobStatus
from logs.services.exports import export_path
from logs.tasks import export_run
from tests import factories as f

pytestmark = pytest.mark.django_db

NASTY = ['=HYPERLINK("http://evil.example","click")', "@SUM(1)", "+cmd|' /C calc'!A0", "#N/A", "-2+3"]


@pytest.fixture
def acme():
    return f.customer("acme")


@pytest.fixture
def alice(acme):
    return f.user("alice", customer_obj=acme)


@pytest.fixture
def recon(acme):
    recon = Reconciliation.objects.create(
        customer=acme, status=JobStatus.DONE, filename="=evil.csv", date_from=dt.date(2026, 10, 1),
        date_to=dt.date(2026, 10, 31), local_rows=len(NASTY) + 1, overcharged_usd=Decimal("0.110300"),
        categories={"duplicate_charge": len(NASTY), "match": 1},
        money={"duplicate_charge": {"charged": "0.2", "expected": "0.1", "over": "0.1103", "under": "0"}},
        rejected=[{"line": 7, "reason": "=1+1 is not a time"}], rejected_count=1)
    for rid in NASTY:
        ReconciliationItem.objects.create(reconciliation=recon, request_id=rid, category="duplicate_charge",
                                          charges=2, charged_usd=Decimal("0.2"), local_line=3)
    ReconciliationItem.objects.create(reconciliation=recon, request_id="rc-ok", category="match", charges=1)
    return recon


def _run(job) -> ExportJob:
    assert export_run.apply(args=[job.pk]).get() == JobStatus.DONE
    job.refresh_from_db()
    return job


def test_request_ids_from_a_customers_file_are_written_as_plain_text(recon, alice,
                                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = reconciliation_export(user=alice, reconciliation=recon, filters={})
    job = _run(job)
    path = export_path(job)
    assert job.kind == RECON_KIND and job.filename == f"reconciliation-acme-{recon.pk}.xlsx"

    wb = load_workbook(path)
    ids = [(c.value, c.data_type) for (c,) in wb["Request IDs"].iter_rows(min_row=2, max_col=1)]
    assert sorted(ids) == sorted((rid, "s") for rid in NASTY)  # differences only, as on the page
    calamine = CalamineWorkbook.from_path(str(path))
    sheet = calamine.get_sheet_by_name("Request IDs").to_python()
    assert sheet[0][0] == "Request ID" and sorted(r[0] for r in sheet[1:]) == sorted(NASTY)
    # the category as people read it, its code beside it for tools
    col = {h: i for i, h in enumerate(sheet[0])}
    assert {(r[col["Category"]], r[col["Category code"]]) for r in sheet[1:]} == {
        ("Duplicate charge", "duplicate_charge")}
    summary = {r[0]: r[1] for r in calamine.get_sheet_by_name("Summary").to_python() if r and r[0]}
    assert summary["overcharged_usd"] == pytest.approx(0.1103) and summary["local log"] == "=evil.csv"
    assert summary[7] == "=1+1 is not a time"  # a rejected line's reason: text too
    with zipfile.ZipFile(path) as z:  # no cell of the file is a formula or an error
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                xml = z.read(name).decode()
                assert "<f>" not in xml and "<f " not in xml and 't="e"' not in xml


def test_the_reports_filters_narrow_the_file(recon, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = reconciliation_export(user=alice, reconciliation=recon, filters={"category": ["match"]})
    job = _run(job)
    wb = load_workbook(export_path(job))
    assert [r[0] for r in wb["Request IDs"].iter_rows(min_row=2, values_only=True)] == ["rc-ok"]
    assert job.rows_done == job.rows_total == 1


def test_another_customers_reconciliation_or_one_without_result_is_refused(recon, alice):
    bob = f.user("bob", customer_obj=f.customer("globex"))
    with pytest.raises(PermissionDenied) as refused:
        reconciliation_export(user=bob, reconciliation=recon, filters={})
    assert "own customer" in str(refused.value)
    Reconciliation.objects.filter(pk=recon.pk).update(status=JobStatus.RUNNING)
    recon.refresh_from_db()
    with pytest.raises(ValidationError, match="no result yet"):
        reconciliation_export(user=alice, reconciliation=recon, filters={})
    assert not ExportJob.objects.exists()


def test_the_download_reads_back_in_openpyxl_from_the_tasks_page(client, recon, alice,
                                                                 django_capture_on_commit_callbacks):
    from django.urls import reverse

    from nbaudit.celery import app

    client.force_login(alice)
    old = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            client.get(reverse("billing:reconciliation_xlsx", args=[recon.pk]), {"request_id": NASTY[0]})
    finally:
        app.conf.task_always_eager = old
    job = ExportJob.objects.get()
    response = client.get(reverse("logs:task_download", args=[job.pk]))
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    cell = wb["Request IDs"]["A2"]
    assert cell.value == NASTY[0] and cell.data_type == "s"
