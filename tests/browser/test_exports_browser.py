"""In Chromium: the Logs page's Export button, the dialog, Async Export, the Async Tasks page, Download.

Tasks run eagerly in the server thread (what a worker does, minus the broker). Screenshots go to
tests/artifacts/.
"""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
from python_calamine import CalamineWorkbook

from logs.models import ExportJob
from logs.timeutil import billing_today
from tests import ARTIFACTS, factories as f

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def page(live_server, client, monkeypatch):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # playwright's loop runs in this thread
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 800}, accept_downloads=True)
        pg = context.new_page()
        pg.outside = []
        host = urlsplit(live_server.url).netloc

        def watch(request):
            if urlsplit(request.url).netloc not in ("", host) and not request.url.startswith("data:"):
                pg.outside.append(request.url)

        pg.on("request", watch)
        refused = []  # what the Content-Security-Policy blocked
        pg.on("console", lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None)
        yield pg
        context.close()
        browser.close()
    assert refused == [], f"the page's policy refused: {refused}"


def _login(page, live_server, client, user):
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_export_button_tasks_page_and_download(page, live_server, client, eager, tmp_path):
    acme = f.customer("acme")
    alice = f.user("alice", customer_obj=acme)
    first_this = billing_today().replace(day=1)
    last = first_this - dt.timedelta(days=1)
    first = last.replace(day=1)
    start = dt.datetime.combine(first, dt.time(9), tzinfo=f.UTC8)
    failed = []
    for i in range(12):
        cat = ["success", "rate_limited", "overloaded", "image_blocked"][i % 4]
        c = f.call(acme, created_at=start + dt.timedelta(hours=7 * i), category=cat,
                   http_status={"rate_limited": 429, "overloaded": 503}.get(cat, 200),
                   reason={"rate_limited": "HTTP 429 RESOURCE_EXHAUSTED", "overloaded": "HTTP 503 UNAVAILABLE",
                           "image_blocked": "finishReason=IMAGE_SAFETY"}.get(cat, "image delivered"))
        if cat != "success":
            failed.append(c.request_id)
    f.call(acme, created_at=dt.datetime.combine(first_this, dt.time(9), tzinfo=f.UTC8))  # this month
    _login(page, live_server, client, alice)

    page.goto(f"{live_server.url}/logs/?range=last_month&failed=on")
    page.screenshot(path=str(ARTIFACTS / "exports-1-logs.png"))
    page.click("#export-open")
    dialog = page.locator("#export-dialog")
    assert dialog.is_visible()
    assert page.locator("#export-range").input_value() == "last_month"
    assert not page.locator("#export-from").is_visible()  # dates only for a custom range
    page.select_option("#export-range", "custom")
    assert page.locator("#export-from").is_visible()
    page.select_option("#export-range", "last_month")
    assert "failed only" in dialog.inner_text()
    page.screenshot(path=str(ARTIFACTS / "exports-2-dialog.png"))

    page.click("#export-submit")
    page.wait_for_url("**/tasks/**")
    job = ExportJob.objects.get()
    row = page.locator(f"#job-{job.pk}")
    row.locator(".js-download").wait_for(state="visible")
    assert "Done" in row.inner_text()
    assert f"{len(failed)} of {len(failed)} rows" in row.inner_text()
    page.screenshot(path=str(ARTIFACTS / "exports-3-tasks.png"))

    with page.expect_download() as info:
        row.locator(".js-download").click()
    download = info.value
    assert download.suggested_filename == f"nbaudit-acme-{first}-{last}.xlsx"
    target = tmp_path / download.suggested_filename
    download.save_as(str(target))
    rows = CalamineWorkbook.from_path(str(target)).get_sheet_by_name("Calls").to_python()
    ids = [r[rows[0].index("Request ID")] for r in rows[1:]]
    assert sorted(ids) == sorted(failed)
    assert page.outside == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_tasks_page_polls_progress_until_done(page, live_server, client):
    """A job the worker has not finished yet: the page follows it without a reload."""
    acme = f.customer("acme")
    alice = f.user("alice", customer_obj=acme)
    job = ExportJob.objects.create(owner=alice, customer=acme, date_from=dt.date(2026, 10, 1),
                                   date_to=dt.date(2026, 10, 31), status="running", rows_done=300,
                                   rows_total=1200, filename="nbaudit-acme-2026-10-01-2026-10-31.xlsx")
    _login(page, live_server, client, alice)
    page.goto(f"{live_server.url}/tasks/")
    row = page.locator(f"#job-{job.pk}")
    assert "300 of 1,200 rows" in row.inner_text()
    assert row.locator(".js-cancel").is_visible() and not row.locator(".js-download").is_visible()
    page.screenshot(path=str(ARTIFACTS / "exports-4-running.png"))
    ExportJob.objects.filter(pk=job.pk).update(status="failed", error="the worker stopped while exporting; please retry")
    row.locator(".js-error").wait_for(state="visible")
    assert "the worker stopped while exporting; please retry" in row.inner_text()
    assert row.locator(".js-retry").is_visible() and not row.locator(".js-cancel").is_visible()
    page.screenshot(path=str(ARTIFACTS / "exports-5-failed.png"))
    assert page.outside == []
