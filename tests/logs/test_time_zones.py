"""One time-zone rule, shown on the page: days in the user's zone, billing months in the
billing zone, zones named by name and offset; the export dialog's days are the Logs page's."""
from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from python_calamine import CalamineWorkbook

from logs import charts
from logs.models import ExportJob
from logs.models.jobs import JobStatus
from logs.tables.base import local_time
from logs.timeutil import utc_offset_label, zone_label
from tests import factories as f

pytestmark = pytest.mark.django_db
NEW_YORK = ZoneInfo("America/New_York")


def test_zones_are_named_by_name_and_offset():
    winter = dt.datetime(2027, 1, 15, tzinfo=dt.timezone.utc)
    summer = dt.datetime(2027, 7, 15, tzinfo=dt.timezone.utc)
    assert zone_label("Asia/Shanghai", winter) == "Asia/Shanghai, UTC+8"
    assert zone_label(NEW_YORK, winter) == "America/New_York, UTC\u22125"
    assert zone_label(NEW_YORK, summer) == "America/New_York, UTC\u22124"
    assert zone_label("Asia/Kolkata", winter) == "Asia/Kolkata, UTC+5:30"
    assert utc_offset_label(ZoneInfo("UTC"), winter) == "UTC"


def test_a_time_never_shows_an_ambiguous_abbreviation():
    at = dt.datetime(2027, 1, 15, 4, 0, tzinfo=dt.timezone.utc)
    with timezone.override(ZoneInfo("Asia/Shanghai")):
        shown = local_time(at, "%Y-%m-%d %H:%M:%S %Z")
    assert shown == "2027-01-15 12:00:00 UTC+8" and "CST" not in shown
    with timezone.override(ZoneInfo("America/Chicago")):
        assert local_time(at, "%H:%M %Z") == "22:00 UTC\u22126"


def test_heatmap_axis_names_the_zone_it_was_cut_in():
    rows = [{"dow": 1, "hod": 3, "calls": 4, "failed": 1}]
    fig = charts.failure_heatmap_figure(rows, zone="America/New_York, UTC\u22125")
    assert fig.layout.yaxis.title.text == "hour (America/New_York, UTC\u22125)"
    assert "Beijing" not in fig.layout.yaxis.title.text


@pytest.fixture
def ny_client(client, acme):
    user = f.user("nora", customer_obj=acme)
    user.time_zone = "America/New_York"
    user.save(update_fields=["time_zone"])
    client.force_login(user)
    return client


def test_pages_state_the_rule_in_the_users_zone(ny_client):
    label = zone_label(NEW_YORK)
    overview = ny_client.get(reverse("logs:overview")).content.decode()
    assert f"Failure rate by hour of day ({label})" in overview
    assert "Beijing" not in overview
    assert f"Days and times in {label}" in overview and "billing months in Asia/Shanghai, UTC+8" in overview
    logs = ny_client.get(reverse("logs:calls")).content.decode()
    assert f"times in <strong>{label}</strong>" in logs
    assert f"days in {label}" in logs  # the export dialog says the same


def test_logs_today_and_export_today_are_the_same_day(ny_client, acme, eager, django_capture_on_commit_callbacks):
    ny_today = timezone.now().astimezone(NEW_YORK).date()
    inside = dt.datetime.combine(ny_today, dt.time(0, 30), tzinfo=NEW_YORK)
    before = dt.datetime.combine(ny_today, dt.time(0, 0), tzinfo=NEW_YORK) - dt.timedelta(minutes=30)
    f.call(acme, request_id="ny-today", created_at=min(inside, timezone.now()))
    f.call(acme, request_id="ny-yesterday", created_at=before)
    page = ny_client.get(reverse("logs:calls"), {"range": "today"}).content.decode()
    assert "ny-today" in page and "ny-yesterday" not in page
    with django_capture_on_commit_callbacks(execute=True):
        resp = ny_client.post(reverse("logs:export_new"), {"range": "today"})
    assert resp.status_code == 302
    job = ExportJob.objects.get()
    assert (job.date_from, job.date_to, job.tz) == (ny_today, ny_today, "America/New_York")
    assert job.status == JobStatus.DONE, job.error
    wb = CalamineWorkbook.from_filelike(io.BytesIO(open(job_path(job), "rb").read()))
    rows = wb.get_sheet_by_name("Calls").to_python()
    ids = [r[rows[0].index("Request ID")] for r in rows[1:]]
    assert ids == ["ny-today"]
    summary = {r[0]: r[1] for r in wb.get_sheet_by_name("Summary").to_python() if r and r[0]}
    assert summary["Days in"] == zone_label(NEW_YORK)


def job_path(job):
    from logs.services.exports import export_path

    return export_path(job)


def test_export_dialog_offers_any_time_and_keeps_the_pages_range(client, alice, acme, eager,
                                                                  django_capture_on_commit_callbacks):
    client.force_login(alice)
    page = client.get(reverse("logs:calls")).content.decode()  # the Logs page at any time
    assert '<option value="" selected>Any time</option>' in page
    assert '<option value="last_month" selected>' not in page
    page = client.get(reverse("logs:calls"), {"range": "7d"}).content.decode()
    assert '<option value="7d" selected>' in page
    f.call(acme, request_id="old", created_at=timezone.now() - dt.timedelta(days=400))
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(reverse("logs:export_new"), {"range": ""})
    assert resp.status_code == 302
    job = ExportJob.objects.get()
    assert job.date_from is None and job.date_to is None
    assert job.filename == "nbaudit-acme-all-time.xlsx"
    assert job.status == JobStatus.DONE and job.rows_done == 1, job.error
    tasks = client.get(reverse("logs:tasks")).content.decode()
    assert "any time" in tasks


def test_a_reversed_range_is_an_error_in_words(client, alice):
    client.force_login(alice)
    for url in (reverse("logs:calls"), reverse("logs:overview")):
        resp = client.get(url, {"range": "custom", "date_from": "2027-03-10", "date_to": "2027-03-01"})
        assert resp.status_code == 400
        html = resp.content.decode()
        assert "The first day (2027-03-10) is after the last day (2027-03-01)" in html, url
    resp = client.post(reverse("logs:export_new"),
                       {"range": "custom", "date_from": "2027-03-10", "date_to": "2027-03-01"})
    assert resp.status_code == 400 and "is after the last day" in resp.content.decode()
    assert not ExportJob.objects.exists()
