"""In Chromium at 1,366 and 390 px: long work made visible (every kind on Async Tasks, "Compute
now" progress on the tallies page, a pending export asked twice), CSV exports, and the Logs page's
total, request-ID prefix search and model filter by family. Screenshots in tests/artifacts/."""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from billing.models import Reconciliation, Tally, TallyRun
from logs.models import ExportJob, IngestBatch
from logs.services.rollups import rollups_rebuild
from logs.timeutil import billing_today
from tests import ARTIFACTS, factories as f

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WIDTHS = [1366, 390]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=WIDTHS, ids=lambda w: f"{w}px")
def page(request, live_server, monkeypatch):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # playwright's loop runs in this thread
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    width = request.param
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        context = browser.new_context(viewport={"width": width, "height": 900 if width > 500 else 800},
                                      accept_downloads=True)
        pg = context.new_page()
        pg.width = width
        pg.outside = []
        host = urlsplit(live_server.url).netloc
        pg.on("request", lambda r: pg.outside.append(r.url)
              if urlsplit(r.url).netloc not in ("", host) and not r.url.startswith("data:") else None)
        refused = []
        pg.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
        yield pg
        context.close()
        browser.close()
    assert refused == [], f"the page's policy refused: {refused}"


def _login(page, live_server, client, user):
    client.force_login(user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])


def _shot(page, name):
    """Screenshot, and on a phone: the page never scrolls sideways (wide tables scroll inside their
    card, the navigation folds into the Menu)."""
    page.screenshot(path=str(ARTIFACTS / f"long-work-{name}-{page.width}.png"), full_page=True)
    if page.width <= 390:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= page.width, f"{name}: the page is {width} px wide at {page.width}"


def _fits(page, selector):
    """The element's right edge is inside the viewport (it can be reached without scrolling the page)."""
    box = page.locator(selector).first.bounding_box()
    assert box is not None and box["x"] + box["width"] <= page.width + 1, (selector, box)


def test_async_tasks_lists_every_kind_and_follows_them(page, live_server, client):
    acme = f.customer("acme")
    boss = f.user("boss", staff=True)
    day = dt.date(2026, 10, 1)
    export = ExportJob.objects.create(owner=boss, customer=acme, date_from=day, date_to=day, status="running",
                                      rows_done=12683, rows_total=40000, filename="nbaudit-acme-2026-10.xlsx")
    run = TallyRun.objects.create(month=dt.date(2026, 9, 1), created_by=boss, status="running",
                                  rows_done=3, rows_total=12)
    recon = Reconciliation.objects.create(customer=acme, created_by=boss, filename="our-log.csv",
                                          status="queued")
    upload = IngestBatch.objects.create(origin="upload", filename="platform.csv", created_by=boss,
                                        status="done", rows_done=5000, rows_total=5000)
    _login(page, live_server, client, boss)
    page.goto(f"{live_server.url}/tasks/")
    for row_id in (f"job-{export.pk}", f"tally-{run.pk}", f"reconciliation-{recon.pk}", f"ingest-{upload.pk}"):
        expect(page.locator(f"#{row_id}")).to_be_visible()
    assert "12,683 of 40,000 rows" in page.inner_text(f"#job-{export.pk}")
    assert "Running" in page.inner_text(f"#tally-{run.pk}") and "3 of 12 customers" in page.inner_text(
        f"#tally-{run.pk}")
    assert "Queued" in page.inner_text(f"#reconciliation-{recon.pk}")
    _fits(page, ".task-kinds")
    _shot(page, "1-tasks")
    # The poller follows the computation to its end, without a reload.
    TallyRun.objects.filter(pk=run.pk).update(rows_done=7)
    expect(page.locator(f"#tally-{run.pk} .js-rows-done")).to_have_text("7", timeout=15_000)
    TallyRun.objects.filter(pk=run.pk).update(status="done", rows_done=12, finished_at=timezone.now())
    expect(page.locator(f"#tally-{run.pk} .js-status")).to_have_text("Done", timeout=15_000)
    # One kind at a time.
    page.click(".task-kinds >> text=Tally computation")
    expect(page.locator("#tasks tbody tr")).to_have_count(1)
    _shot(page, "2-tasks-one-kind")
    assert page.outside == []


def test_compute_now_shows_its_progress_then_the_tallies(page, live_server, client):
    acme = f.customer("acme", enrolled_from=dt.date(2026, 5, 1))
    boss = f.user("boss", staff=True)
    _login(page, live_server, client, boss)
    # A computation still running: its progress, not "No tallies match".
    run = TallyRun.objects.create(month=dt.date(2026, 8, 1), created_by=boss, status="running",
                                  rows_done=0, rows_total=1)
    page.goto(f"{live_server.url}/billing/tallies/?month=2026-08&run={run.pk}")
    panel = page.locator(f"#run-{run.pk}")
    expect(panel).to_be_visible()
    assert "Running" in panel.inner_text() and "every enrolled customer" in panel.inner_text()
    assert "No tallies match" not in page.inner_text("main") and "Computing" in page.inner_text("main")
    _shot(page, "3-compute-running")
    # It ends: the page reloads by itself and lists the tally.
    Tally.objects.create(customer=acme, month=dt.date(2026, 8, 1), due_date=dt.date(2026, 9, 30))
    TallyRun.objects.filter(pk=run.pk).update(status="done", rows_done=1, finished_at=timezone.now())
    expect(page.locator(f"#run-{run.pk} .js-status")).to_have_text("Done", timeout=15_000)
    expect(page.locator("main")).to_contain_text("1 of 1 customers computed", timeout=15_000)
    assert "No tallies match" not in page.inner_text("main")
    _shot(page, "4-compute-done")
    # Compute now from the form (the task runs in the server here): the run is listed, done.
    page.goto(f"{live_server.url}/billing/tallies/")
    page.fill("#id_month", "2026-09")
    page.click("text=Compute now >> xpath=ancestor-or-self::button")
    page.wait_for_url("**/billing/tallies/?*run=*")
    new = TallyRun.objects.exclude(pk=run.pk).get()
    expect(page.locator(f"#run-{new.pk} .js-status")).to_have_text("Done", timeout=15_000)
    assert Tally.objects.filter(month=dt.date(2026, 9, 1), customer=acme).exists()
    _shot(page, "5-compute-form")
    assert page.outside == []


def test_csv_export_and_the_same_export_twice(page, live_server, client, monkeypatch, tmp_path):
    acme = f.customer("acme")
    alice = f.user("alice", customer_obj=acme)
    last = billing_today().replace(day=1) - dt.timedelta(days=1)
    noon = dt.datetime.combine(last, dt.time(12), tzinfo=f.UTC8)
    f.call(acme, created_at=noon, token_name="生产密钥", reason="图片被拦截")
    _login(page, live_server, client, alice)
    page.goto(f"{live_server.url}/logs/?range=last_month")
    page.click("#export-open")
    page.check("#export-format-csv")
    _shot(page, "6-export-dialog-csv")
    page.click("#export-submit")
    page.wait_for_url("**/tasks/**")
    job = ExportJob.objects.get()
    assert job.format == "csv"
    row = page.locator(f"#job-{job.pk}")
    row.locator(".js-download").wait_for(state="visible")
    with page.expect_download() as info:
        row.locator(".js-download").click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(str(target))
    assert target.name.endswith(".csv")
    body = target.read_bytes()
    assert body.startswith(b"\xef\xbb\xbf") and "生产密钥" in body.decode("utf-8-sig")
    _shot(page, "7-tasks-csv")

    # The same export twice while the first is still pending: the first, not a second job.
    from logs import tasks

    monkeypatch.setattr(tasks.export_run, "delay", lambda *a, **k: None)  # no worker: it stays queued
    for _ in range(2):
        page.goto(f"{live_server.url}/logs/?range=last_month&failed=on")
        page.click("#export-open")
        page.click("#export-submit")
        page.wait_for_url("**/tasks/**")
    pending = ExportJob.objects.exclude(pk=job.pk)
    assert pending.count() == 1
    assert "already queued" in page.inner_text("body")
    assert page.url.endswith(f"#job-{pending.get().pk}")
    _shot(page, "8-tasks-same-export")
    assert page.outside == []


def test_logs_total_prefix_search_and_model_families(page, live_server, client):
    acme = f.customer("acme")
    alice = f.user("alice", customer_obj=acme)
    now = timezone.now()
    for i in range(70):
        f.call(acme, created_at=now - dt.timedelta(minutes=3 + i), request_id=f"req-{i:03d}",
               category="success" if i % 2 else "rate_limited", http_status=200 if i % 2 else 429,
               model="gemini-3-pro-image-preview" if i % 5 else "gemini-3.1-flash-image-preview")
    rollups_rebuild()
    _login(page, live_server, client, alice)
    page.goto(f"{live_server.url}/logs/")
    expect(page.locator("#calls-total")).to_have_text("70 calls match")
    _shot(page, "9-logs-total")
    # The model filter: each family by name, its raw model IDs beneath it.
    groups = page.locator("select[name=model] optgroup")
    labels = [groups.nth(i).get_attribute("label") for i in range(groups.count())]
    assert "Nano Banana Pro" in labels and "Nano Banana 2" in labels
    pro = page.locator('select[name=model] optgroup[label="Nano Banana Pro"] option')
    assert pro.all_inner_texts()[1:] == ["gemini-3-pro-image-preview"]
    page.select_option("select[name=model]", "pro")
    page.check("input[name=failed]")
    page.click("#call-filters button[type=submit]")
    expect(page.locator("#calls-total")).to_have_text("28 calls match")  # 56 Pro calls, half failed
    _shot(page, "10-logs-model-family")
    # Request ID by prefix.
    page.goto(f"{live_server.url}/logs/")
    page.fill("input[name=request_id]", "req-01")
    page.click("#call-filters button[type=submit]")
    expect(page.locator("#calls-total")).to_have_text("10 calls match")
    assert "req-015" in page.inner_text("main") and "req-020" not in page.inner_text("main")
    _shot(page, "11-logs-prefix")
    assert page.outside == []
