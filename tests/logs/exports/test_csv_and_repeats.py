"""CSV beside Excel (same rows, same columns, UTF-8 with BOM), and an export asked for twice
while the first is pending gives the first."""
from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from python_calamine import CalamineWorkbook

from logs.models import ExportJob
from logs.models.jobs import JobStatus
from logs.services.exports import export_create
from logs.timeutil import billing_today
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_alice(client, alice):
    client.force_login(alice)
    return client


def _last_month():
    last = billing_today().replace(day=1) - dt.timedelta(days=1)
    return last.replace(day=1), last


def _download(client, job_id) -> bytes:
    resp = client.get(reverse("logs:task_download", args=[job_id]))
    assert resp.status_code == 200
    return b"".join(resp.streaming_content), resp


def test_csv_has_the_excel_rows_and_columns_with_a_bom(client_alice, acme, eager,
                                                        django_capture_on_commit_callbacks):
    first, _ = _last_month()
    noon = dt.datetime.combine(first, dt.time(12), tzinfo=f.UTC8)
    f.call(acme, created_at=noon, token_name="生产密钥", reason="图片被拦截", charged_usd=Decimal("0.134000"))
    f.call(acme, created_at=noon + dt.timedelta(hours=1), token_name="=cmd()", category="rate_limited",
           http_status=429)
    with django_capture_on_commit_callbacks(execute=True):
        client_alice.post(reverse("logs:export_new"), {"range": "last_month", "format": "xlsx"})
    with django_capture_on_commit_callbacks(execute=True):
        resp = client_alice.post(reverse("logs:export_new"), {"range": "last_month", "format": "csv"})
    assert resp.status_code == 302
    xlsx_job, csv_job = ExportJob.objects.order_by("id")
    assert csv_job.format == "csv" and csv_job.filename.endswith(".csv")
    assert csv_job.status == JobStatus.DONE and csv_job.rows_done == 2

    body, resp = _download(client_alice, csv_job.pk)
    assert resp["Content-Type"].startswith("text/csv")
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    xbody, _ = _download(client_alice, xlsx_job.pk)
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(xbody)).get_sheet_by_name("Calls").to_python()
    assert rows[0] == sheet[0]  # the same columns, same order
    assert len(rows) == len(sheet) == 3
    by_token = {r[rows[0].index("API key")]: r for r in rows[1:]}
    chinese = by_token["生产密钥"]
    assert chinese[rows[0].index("Reason")] == "图片被拦截"
    assert chinese[rows[0].index("Charged (USD)")] == "0.134000"
    assert chinese[0] == noon.strftime("%Y-%m-%d %H:%M:%S")  # billing zone, as in the Excel file
    assert "'=cmd()" in by_token  # a formula is written as text


def test_the_same_export_twice_while_pending_is_the_first(client_alice, acme):
    params = {"range": "last_month", "failed": "on", "model": "gemini-3-pro-image-preview"}
    first = client_alice.post(reverse("logs:export_new"), params)
    again = client_alice.post(reverse("logs:export_new"), params, follow=True)
    assert ExportJob.objects.count() == 1
    job = ExportJob.objects.get()
    assert first["Location"].endswith(f"#job-{job.pk}")
    assert again.redirect_chain[-1][0].endswith(f"#job-{job.pk}")
    assert "already queued" in again.content.decode()
    # Another format, or other filters, is another export.
    client_alice.post(reverse("logs:export_new"), {**params, "format": "csv"})
    client_alice.post(reverse("logs:export_new"), {"range": "last_month"})
    assert ExportJob.objects.count() == 3


def test_a_finished_export_asked_again_is_a_new_one(alice, acme):
    first, last = _last_month()
    job = export_create(user=alice, customer=acme, date_from=first, date_to=last, filters={"failed": True})
    assert job.existing is False
    ExportJob.objects.filter(pk=job.pk).update(status=JobStatus.DONE)
    again = export_create(user=alice, customer=acme, date_from=first, date_to=last, filters={"failed": True})
    assert again.pk != job.pk and again.existing is False


def test_the_command_writes_csv(acme, tmp_path):
    from django.core.management import call_command

    first, last = _last_month()
    f.call(acme, created_at=dt.datetime.combine(first, dt.time(12), tzinfo=f.UTC8), token_name="密钥")
    out = tmp_path / "calls.csv"
    call_command("export", "--customer", "acme", "--from", first.isoformat(), "--to", last.isoformat(),
                 "--out", str(out), stdout=io.StringIO())
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert out.read_bytes().startswith(b"\xef\xbb\xbf") and len(rows) == 2 and "密钥" in rows[1]
