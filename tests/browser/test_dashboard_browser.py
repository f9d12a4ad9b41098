"""The dashboard in headless Chromium (Debian's), driven by playwright, against live_server.

A customer logs in, filters to failed calls of last month, opens one and sees why it
failed; the overview draws its charts (plotly renders SVG); staff switch customer; a
customer asking for another customer's call gets 404. Screenshots go to tests/artifacts/.
No request may leave the local server.
"""
from __future__ import annotations

import datetime as dt
import os
from urllib.parse import urlparse

import pytest
from django.utils import timezone

from logs.choices import Category
from logs.services.rollups import rollups_rebuild
from logs.timeutil import billing_today, day_start
from tests import ARTIFACTS, factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # playwright's sync API runs a loop
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "pass-12345"


@pytest.fixture
def data():
    acme, globex = f.customer("acme", name="Acme Tools"), f.customer("globex", name="Globex")
    first_of_month = billing_today().replace(day=1)
    last_month = (first_of_month - dt.timedelta(days=1)).replace(day=1)
    t0 = day_start(last_month + dt.timedelta(days=3))
    cats = [Category.SUCCESS] * 6 + [Category.IMAGE_BLOCKED, Category.RATE_LIMITED, Category.OVERLOADED,
                                     Category.NO_IMAGE, Category.RATE_LIMITED, Category.TEXT_REFUSAL]
    reasons = {Category.IMAGE_BLOCKED: "finishReason=IMAGE_SAFETY", Category.RATE_LIMITED: "HTTP 429 RESOURCE_EXHAUSTED",
               Category.OVERLOADED: "HTTP 503 UNAVAILABLE", Category.NO_IMAGE: "finishReason=NO_IMAGE",
               Category.TEXT_REFUSAL: "text only, no image", Category.SUCCESS: "image delivered"}
    status = {Category.RATE_LIMITED: 429, Category.OVERLOADED: 503}
    for day in range(20):
        for k, cat in enumerate(cats):
            f.call(acme, request_id=f"acme-{day:02d}-{k:02d}", created_at=t0 + dt.timedelta(days=day, hours=k * 2),
                   category=cat, reason=reasons[cat], http_status=status.get(cat, 200),
                   charged_usd=0 if cat in status else "0.05", latency_ms=20_000 + 3000 * k,
                   image_size=["1K", "2K", "4K"][k % 3], token_name=["web", "batch"][k % 2], channel_id=3 + k % 2,
                   response={"candidates": [{"finishReason": "IMAGE_SAFETY"}]} if cat == Category.IMAGE_BLOCKED else None)
    # this month too, for the default 30-day overview: between the month's start and now, on any date
    month_start, now = day_start(first_of_month), timezone.now()
    for k in range(10):
        f.call(acme, request_id=f"acme-now-{k}", created_at=now - (now - month_start) * (k + 1) / 11,
               category=cats[k], reason=reasons[cats[k]], http_status=status.get(cats[k], 200))
    secret = f.call(globex, request_id="globex-secret", created_at=t0, category=Category.NO_IMAGE)
    rollups_rebuild()
    f.user("alice", customer_obj=acme, password=PASSWORD)
    f.user("sam", staff=True, password=PASSWORD)
    return {"acme": acme, "globex": globex, "secret": secret}


@pytest.fixture
def browser_page(live_server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    outside: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        local = urlparse(live_server.url).netloc

        def watch(request):
            netloc = urlparse(request.url).netloc
            if request.url.startswith(("http://", "https://")) and netloc != local:
                outside.append(request.url)

        page.on("request", watch)
        page.outside = outside
        refused: list[str] = []  # what the Content-Security-Policy blocked
        page.on("console", lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None)
        yield page
        context.close()
        browser.close()
    assert outside == [], f"requests left the local server: {outside}"
    assert refused == [], f"the page's policy refused: {refused}"


def login(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_customer_finds_why_a_call_failed(live_server, data, browser_page):
    page, base = browser_page, live_server.url
    page.goto(f"{base}/accounts/login/")
    shot(page, "01-login")
    login(page, base, "alice")
    page.goto(f"{base}/logs/")
    page.select_option("#call-filters select[name=range]", "last_month")
    page.check("#call-filters input[name=failed]")
    page.click("#call-filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    rows = page.locator("table.calls tbody tr")
    assert rows.count() == 50  # 120 failed last month: a full first page
    assert page.locator("table.calls tbody tr.failed").count() == 50
    assert "Asia/Shanghai" in page.inner_text(".tablebar")
    shot(page, "02-logs-failed-last-month")
    page.click("a[rel=next]")
    page.wait_for_load_state("networkidle")
    assert page.locator("table.calls tbody tr.failed").count() == 50
    page.click("a[rel=prev]")
    page.wait_for_load_state("networkidle")
    blocked = page.locator("table.calls tbody tr", has_text="Image blocked").first
    assert "finishReason=IMAGE_SAFETY" in blocked.inner_text()
    blocked.locator("a.mono").click()
    page.wait_for_load_state("networkidle")
    assert page.inner_text("#reason") == "finishReason=IMAGE_SAFETY"
    assert "Counts for reimbursement" in page.inner_text("#coverage")
    page.click("#response-block summary")  # the raw response is collapsed until asked for
    assert "IMAGE_SAFETY" in page.inner_text("#response")
    shot(page, "03-call")


def test_overview_draws_charts(live_server, data, browser_page):
    page, base = browser_page, live_server.url
    login(page, base, "alice")
    page.goto(f"{base}/?range=last_month")
    page.wait_for_selector("#chart-heatmap .main-svg")
    for name in ("calls", "errors", "share", "heatmap", "spend", "latency"):
        assert page.locator(f"#chart-{name} svg.main-svg").count() >= 1, name
    assert page.locator("#chart-calls g.barlayer path").count() > 0
    assert "mostly 429" in page.inner_text("#share-sentence")
    shot(page, "04-overview")


def test_staff_see_failures_by_channel_customers_do_not(live_server, data, browser_page):
    page, base = browser_page, live_server.url
    login(page, base, "sam")
    page.goto(f"{base}/?range=last_month")
    page.wait_for_selector("#chart-channels .main-svg")
    assert page.locator("#chart-channels g.barlayer path").count() > 0
    assert "channel 3" in page.inner_text("#chart-channels") and "channel 4" in page.inner_text("#chart-channels")
    shot(page, "04b-overview-channels")
    page.context.clear_cookies()
    login(page, base, "alice")
    page.goto(f"{base}/?range=last_month")
    page.wait_for_selector("#chart-heatmap .main-svg")
    assert page.locator("#chart-channels").count() == 0
    assert "channel" not in page.content().lower()


def test_staff_switches_customer(live_server, data, browser_page):
    page, base = browser_page, live_server.url
    login(page, base, "sam")
    page.goto(f"{base}/logs/")
    assert "All customers" in page.inner_text("h1")
    page.select_option("#switch-customer", label="Globex")
    page.wait_for_load_state("networkidle")
    assert "Globex" in page.inner_text("h1")
    ids = page.locator("table.calls a.mono").all_inner_texts()
    assert ids == ["globex-secret"]
    shot(page, "05-staff-switched")


def test_other_customers_call_is_404(live_server, data, browser_page):
    page, base = browser_page, live_server.url
    login(page, base, "alice")
    resp = page.goto(f"{base}/logs/{data['secret'].pk}/")
    assert resp.status == 404
    shot(page, "06-404")


def test_wrong_passwords_lock_the_login_form(live_server, data, browser_page):
    page, base = browser_page, live_server.url
    f.user("locked-browser", customer_obj=data["acme"], password=PASSWORD)
    for _ in range(5):
        page.goto(f"{base}/accounts/login/")
        page.fill("#id_username", "locked-browser")
        page.fill("#id_password", "not-the-password")
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
    assert "locked for 15 minutes" in page.inner_text("#login-locked")
    page.fill("#id_password", PASSWORD)  # the form is there again, the name kept
    assert page.input_value("#id_username") == "locked-browser"
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/accounts/login/")
    assert "Too many failed logins" in page.inner_text("#login-locked")
    shot(page, "07-login-locked")
