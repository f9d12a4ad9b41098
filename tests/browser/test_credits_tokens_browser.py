"""What users reached for, in Chromium at 1,366 and 390 px: the month-to-date credit estimate
(Overview and Credits), questions on a tally, the staff ranking of customers, API tokens and the
API documentation. Screenshots go to tests/artifacts/ (uid-*.png). At 390 px no page scrolls
sideways (see look).
"""
from __future__ import annotations

import datetime as dt
import os
import re
from decimal import Decimal
from urllib.parse import urlparse

import pytest
from django.utils import timezone

from billing.services.estimate import credit_estimate
from billing.services.tally import tally_compute
from logs.fingerprint import prompt_fingerprint
from logs.services.rollups import rollups_rebuild
from logs.timeutil import billing_today, day_start
from tests import ARTIFACTS, factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # playwright's sync API runs a loop
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "pass-12345"
WIDTHS = [1366, 390]


@pytest.fixture
def data():
    acme = f.customer("acme", name="Acme Studio", enrolled_from=dt.date(2026, 5, 1), topup_factor=Decimal("1.15"))
    globex = f.customer("globex", name="Globex", enrolled_from=dt.date(2026, 5, 1))
    first = billing_today().replace(day=1)
    last_month = (first - dt.timedelta(days=1)).replace(day=1)
    start, now = day_start(first), timezone.now()

    def this_month(k, n):  # k-th of n instants between the month's start and now
        return start + (now - start) * (k + 1) / (n + 2)

    # This month: US$1,200 of spend and 12 covered Pro failures, 2 of them repeats of one prompt.
    f.call(acme, request_id="acme-spend", created_at=this_month(0, 20), model="gemini-3.1-flash-image",
           charged_usd="1200", billing_mode="per_token")
    for k in range(12):
        prompt = "the same forbidden thing" if k < 5 else f"prompt {k}"
        f.call(acme, request_id=f"acme-fail-{k:02d}", created_at=this_month(k + 1, 20), category="no_image",
               charged_usd="0.05", prompt_fingerprint=prompt_fingerprint(prompt), images=0)
    for k in range(30):
        f.call(globex, request_id=f"globex-fail-{k:02d}", created_at=this_month(k % 18, 20), category="image_blocked",
               charged_usd="0.05", images=0)
    # Last month: a computed draft to ask about.
    t0 = day_start(last_month + dt.timedelta(days=2))
    f.call(acme, request_id="acme-last-spend", created_at=t0, model="gemini-3.1-flash-image", charged_usd="1500",
           billing_mode="per_token")
    for k in range(3):
        f.call(acme, request_id=f"acme-last-{k}", created_at=t0 + dt.timedelta(hours=k + 1), category="no_image",
               images=0)
    rollups_rebuild()
    tally = tally_compute(customer=acme, month=last_month)
    f.user("alice", customer_obj=acme, password=PASSWORD)
    f.user("sam", staff=True, password=PASSWORD)
    return {"acme": acme, "globex": globex, "tally": tally, "month": first}


@pytest.fixture(params=WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def page(request, live_server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    width = request.param
    outside: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        context = browser.new_context(viewport={"width": width, "height": 900})
        pg = context.new_page()
        local = urlparse(live_server.url).netloc
        pg.on("request", lambda r: outside.append(r.url)
              if r.url.startswith(("http://", "https://")) and urlparse(r.url).netloc != local else None)
        pg.width = width
        pg.base = live_server.url
        yield pg
        context.close()
        browser.close()
    assert outside == [], f"requests left the local server: {outside}"


def login(page, username):
    page.goto(f"{page.base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{page.base}/")


def look(page, name):
    """Screenshot, and at 390 px: the page never scrolls sideways (wide tables scroll inside their
    own .table-wrap, the navigation folds into the Menu)."""
    page.screenshot(path=str(ARTIFACTS / f"uid-{name}-{page.width}.png"), full_page=True)
    if page.width <= 390:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{name}: the page is {width} px wide at 390"


def logout(page):
    if page.locator("[data-navtoggle]").is_visible():  # a phone: Log out is in the Menu
        page.click("[data-navtoggle]")
    page.click("form[action='/accounts/logout/'] button")


def money(value) -> str:
    return f"US${value:,.2f}"


def test_customer_sees_the_month_to_date_estimate(data, page):
    est = credit_estimate(customer=data["acme"])
    assert (est.covered_calls, est.counted_calls) == (12, 10)  # two repeats of one prompt excluded
    login(page, "alice")
    card = page.locator(f"#credit-estimate-{data['month']:%Y-%m}")
    text = card.inner_text()
    assert f"If the month ended now: 10 covered failures, about {money(est.credit_usd)}" in text
    assert "2 excluded: repeated" in text and "not computed yet" in text
    look(page, "overview-estimate")
    page.goto(f"{page.base}/billing/tallies/")
    assert "about " + money(est.credit_usd) in page.locator(f"#credit-estimate-{data['month']:%Y-%m}").inner_text()
    assert "Totals by month" in page.inner_text("#month-totals")
    look(page, "credits-estimate")


def test_customer_asks_staff_answer_both_read_the_trail(data, page):
    tally = data["tally"]
    login(page, "alice")
    page.goto(f"{page.base}/billing/tallies/{tally.pk}/")
    page.select_option("#id_kind", "dispute")
    page.fill("#id_text", "Three failures last month but the 4K ones are missing?")
    page.click(".question-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    thread = page.locator("#questions .thread").first
    assert "Waiting for staff" in thread.inner_text()
    assert "dispute raised" in page.inner_text("table.trail")
    look(page, "tally-question-customer")
    logout(page)
    login(page, "sam")
    page.goto(f"{page.base}/billing/tallies/")
    assert re.search(r"Open questions\s*1", page.inner_text("#open-questions"))
    page.click("#open-questions")
    page.wait_for_load_state("networkidle")
    rows = page.locator("table tbody tr", has_text="open question")
    assert rows.count() == 1
    look(page, "tallies-open-questions-staff")
    rows.first.locator("a", has_text="open question").click()
    page.wait_for_load_state("networkidle")
    page.fill("#questions textarea[name=text]", "They were HTTP 503: not charged, so not covered.")
    page.click("#questions .reply-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "Answered" in page.locator("#questions .thread").first.inner_text()
    assert "question answered" in page.inner_text("table.trail")
    look(page, "tally-question-staff")
    logout(page)
    login(page, "alice")
    page.goto(f"{page.base}/billing/tallies/{tally.pk}/")
    assert "They were HTTP 503" in page.inner_text("#questions")


def test_staff_overview_ranks_customers(data, page):
    login(page, "sam")
    table = page.locator("#customers-ranked table")
    names = [t.strip() for t in table.locator("tbody tr td:first-child").all_inner_texts()]
    assert names == ["Globex", "Acme Studio"]  # 30 failures before 12
    acme_row = table.locator("tbody tr", has_text="Acme Studio")
    assert money(credit_estimate(customer=data["acme"]).credit_usd) in acme_row.inner_text()
    assert "spend below the threshold" in table.locator("tbody tr", has_text="Globex").inner_text()
    look(page, "overview-ranked-staff")
    acme_row.locator("button", has_text="Acme Studio").click()
    page.wait_for_load_state("networkidle")
    assert "Acme Studio" in page.inner_text("h1")
    assert page.locator(f"#credit-estimate-{data['month']:%Y-%m}").count() == 1


def test_tokens_made_shown_once_and_revoked(data, page):
    login(page, "alice")
    page.goto(f"{page.base}/account/")
    page.click("a:text('API tokens')")
    page.fill("#id_name", "nightly report")
    page.click("#token-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    raw = page.input_value("#new-token-value")
    assert raw.startswith("nba_")
    look(page, "tokens-customer-new")
    page.reload()
    assert page.locator("#new-token-value").count() == 0  # shown once
    row = page.locator("table.tokens tbody tr", has_text="nightly report")
    assert "read only" in row.inner_text()
    row.locator("button", has_text="Revoke").click()
    page.wait_for_load_state("networkidle")
    assert "revoked" in page.locator("table.tokens tbody tr", has_text="nightly report").inner_text()
    look(page, "tokens-customer-revoked")
    logout(page)
    login(page, "sam")
    page.goto(f"{page.base}/account/tokens/")
    page.select_option("#id_owner", "__gateway__")
    page.fill("#id_name", "new-api gateway")
    page.click("#token-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.input_value("#new-token-value").startswith("nba_")
    assert "every customer" in page.locator("table.tokens tbody tr", has_text="new-api gateway").inner_text()
    look(page, "tokens-staff")


def test_api_docs_page_and_api_root(data, page):
    login(page, "alice")
    page.goto(f"{page.base}/api-docs/")
    assert page.locator("section.endpoint").count() == 5
    assert "GET /api/v1/calls/{request_id}" in " ".join(page.locator("section.endpoint h2").all_inner_texts())
    look(page, "api-docs")
    page.screenshot(path=str(ARTIFACTS / f"uid-api-docs-top-{page.width}.png"))
    page.locator("#get-calls").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"uid-api-docs-list-{page.width}.png"))
    answer = page.goto(f"{page.base}/api/v1/")
    assert answer.status == 200 and answer.json()["links"]["openapi"].endswith("/api/v1/openapi.json")
