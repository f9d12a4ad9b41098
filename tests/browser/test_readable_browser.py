"""In Chromium at 1,366 and 390 px: what a person reads is labels and money in one format.

- Reconciliation: three rows the customer logged at US$0.05 against a US$0.10 charge are amount
  mismatches showing all three amounts; the real differences come first and the reimbursable
  failures sit in a collapsed section; nbaudit's own Excel export uploads as a local log.
- The call page: labelled fields with units, the raw response in a collapsible block.
- Logs, the tally page and the export dialog: money as US$ with its places, labels not codes.

Tasks run eagerly in the server thread. Screenshots go to tests/artifacts/readable-*.png.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from logs.choices import Category
from logs.models import ExportJob
from logs.services.exports import export_filters_clean, export_write
from logs.services.rollups import rollups_rebuild
from tests import ARTIFACTS, factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WIDTHS = [1366, 390]
UTC8 = dt.timezone(dt.timedelta(hours=8))
DAY = dt.datetime(2026, 10, 10, 12, 0, tzinfo=UTC8)
HEADER = ("request_id,created_at,model,http_status,finish_reason,block_reason,finish_message,"
          "prompt_tokens,output_tokens,total_tokens,images,charged_usd")
PRO = "gemini-3-pro-image-preview"


@pytest.fixture(params=WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def page(request, live_server, monkeypatch):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # playwright's loop runs in this thread
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    width = request.param
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        context = browser.new_context(viewport={"width": width, "height": 900 if width > 400 else 844})
        pg = context.new_page()
        pg.width = width
        host = urlsplit(live_server.url).netloc
        outside, refused = [], []

        def watch(req):
            if urlsplit(req.url).netloc not in ("", host) and not req.url.startswith("data:"):
                outside.append(req.url)

        pg.on("request", watch)
        pg.on("console", lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None)
        yield pg
        context.close()
        browser.close()
    assert outside == [], f"requests left the local server: {outside}"
    assert refused == [], f"the page's policy refused: {refused}"


def _login(page, live_server, client, user):
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


def _shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"readable-{name}-{page.width}.png"), full_page=True)


def _cards_fit(page):
    """Every card of the page's content fits the window (wide tables scroll inside their own card)."""
    widest = page.evaluate(
        "Math.max(...[...document.querySelectorAll('main .card, main .kpis, .card')]"
        ".map(e => e.getBoundingClientRect().right))")
    assert widest <= page.width + 1, f"a card reaches {widest}px in a {page.width}px window"
    width = page.evaluate("document.documentElement.scrollWidth")  # the page never scrolls sideways
    assert width <= page.width, f"the page is {width}px wide in a {page.width}px window"


@pytest.fixture
def acme(db):
    return f.customer("acme", name="Acme Studio")


@pytest.fixture
def alice(acme):
    return f.user("alice", customer_obj=acme)


def _platform(acme):
    for rid in ("lo-1", "lo-2", "lo-3"):  # the catalog expects 0.10 (group ratio 2); the customer logged 0.05
        f.call(acme, request_id=rid, created_at=DAY, charged_usd=Decimal("0.10"), expected_usd=Decimal("0.10"),
               group_ratio=Decimal(2))
    f.call(acme, request_id="ok-1", created_at=DAY)
    f.call(acme, request_id="refused-1", created_at=DAY, category=Category.TEXT_REFUSAL, output_tokens=173,
           reason="text only, no image")
    f.call(acme, request_id="gone-1", created_at=DAY)  # not in the local log


def _local_csv(tmp_path):
    rows = [f"{rid},2026-10-10 12:00:00,{PRO},200,STOP,,,20,1120,1140,1,0.05" for rid in ("lo-1", "lo-2", "lo-3")]
    rows += [f"ok-1,2026-10-10 12:00:00,{PRO},200,STOP,,,20,1120,1140,1,",
             f"refused-1,2026-10-10 12:00:00,{PRO},200,STOP,,,20,173,193,0,"]
    path = tmp_path / "our-log.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


def _upload(page, live_server, path):
    page.goto(f"{live_server.url}/billing/reconcile/")
    page.set_input_files("input[type=file]", str(path))
    page.click("form[enctype] button[type=submit]")
    page.wait_for_url("**/billing/reconcile/*/")
    page.wait_for_load_state("networkidle")


def test_reconciliation_shows_the_local_amount_and_lists_real_differences_first(
        page, live_server, client, eager, acme, alice, tmp_path):
    _platform(acme)
    _login(page, live_server, client, alice)
    _upload(page, live_server, _local_csv(tmp_path))
    html = page.content()
    assert "Acme Studio" in page.inner_text("h1")

    by_cat = page.locator("#by-category tr[data-category=amount_mismatch]")
    assert by_cat.locator("td").nth(1).inner_text() == "3"
    # the three amounts of one row: the platform's charge, the catalog's, the customer's own
    row = page.locator("#differences tbody tr", has_text="lo-1")
    cells = row.locator("td").all_inner_texts()
    assert "Amount mismatch" in cells and "US$0.10" in cells and "US$0.05" in cells
    assert cells.count("US$0.10") == 2  # charged and expected agree; the local log's amount does not
    # who owes whom, in words
    assert "the platform charged Acme Studio this much more than expected" in page.inner_text(".kpis")
    assert "amount_mismatch" not in page.inner_text("#differences tbody")  # a label, not the code

    # real differences first; the reimbursable failure apart, collapsed
    details = page.locator("details#reimbursable")
    assert details.get_attribute("open") is None
    assert not page.locator("details#reimbursable tbody tr", has_text="refused-1").is_visible()
    assert page.locator("#differences tbody tr", has_text="refused-1").count() == 0
    assert html.index('id="differences"') < html.index('id="reimbursable"')
    _shot(page, "recon-report")
    _cards_fit(page)
    page.click("details#reimbursable summary")
    assert page.locator("details#reimbursable tbody tr", has_text="refused-1").is_visible()
    _shot(page, "recon-report-reimbursable-open")


def test_nbaudits_own_export_is_accepted_as_a_local_log(page, live_server, client, eager, acme, alice, tmp_path):
    _platform(acme)
    job = ExportJob(owner=alice, customer=acme, date_from=dt.date(2026, 10, 1), date_to=dt.date(2026, 10, 31),
                    filters=export_filters_clean({}))
    path = export_write(job=job, out_path=tmp_path / "nbaudit-acme-2026-10.xlsx")["path"]
    _login(page, live_server, client, alice)
    _upload(page, live_server, path)
    text = page.inner_text("main") if page.locator("main").count() else page.inner_text("body")
    assert "no sheet has a header row" not in text
    assert page.locator("#recon .badge").first.inner_text() == "Done"
    # the export came from this platform: everything matches but the reimbursable failure
    assert page.locator("#by-category tr[data-category=match] td").nth(1).inner_text() == "5"
    assert page.locator("#by-category tr[data-category=missing_locally] td").nth(1).inner_text() == "0"
    _shot(page, "recon-from-export")
    _cards_fit(page)


def test_call_page_fields_are_labelled_with_units(page, live_server, client, acme, alice):
    response = {"candidates": [{"content": {"parts": [{"text": "I can't make that image."}]},
                                "finishReason": "STOP"}]}
    call = f.call(acme, request_id="req-readable", created_at=DAY, category=Category.TEXT_REFUSAL,
                  reason="text only, no image", latency_ms=102_855, charged_usd=Decimal("0.05"),
                  expected_usd=Decimal("0.1"), response=response, request_id_synthetic=False)
    _login(page, live_server, client, alice)
    page.goto(f"{live_server.url}/logs/{call.pk}/")
    fields = page.inner_text("#fields")
    for text in ("Latency\n102.9 s", "Input tokens\n20 tokens", "Charged\nUS$0.05", "Expected (catalog)\nUS$0.10",
                 "Model family\nNano Banana Pro", "Customer\nAcme Studio", "API key\nprod-web"):
        assert text in fields.replace("\t", "\n"), text
    for dump in ("Request id synthetic", "Latency ms", "102855"):
        assert dump not in fields, dump
    assert "under-charged the platform charged US$0.05 less than expected" in page.inner_text("#charge")
    assert not page.locator("#response").is_visible()  # the raw response is collapsed
    _shot(page, "call")
    _cards_fit(page)
    page.click("#response-block summary")
    assert page.locator("#response").is_visible() and "I can't make that image." in page.inner_text("#response")
    _shot(page, "call-raw-open")


def test_money_and_labels_on_logs_tally_and_export_dialog(page, live_server, client, eager, acme, alice):
    from billing.services.tally import tally_compute

    f.call(acme, request_id="cheap-1", created_at=DAY, model="gemini-3.1-flash-image", charged_usd=Decimal("0.06748"),
           billing_mode="per_token", expected_usd=Decimal("0.06748"), route="")
    f.call(acme, request_id="round-1", created_at=DAY, charged_usd=Decimal("0.1"), expected_usd=Decimal("0.1"))
    f.call(acme, request_id="empty-1", created_at=DAY, category=Category.EMPTY_OUTPUT, reason="no parts")
    rollups_rebuild()
    acme.enrolled_from = dt.date(2026, 5, 1)
    acme.save()
    tally = tally_compute(customer=acme, month=dt.date(2026, 10, 1))
    _login(page, live_server, client, alice)

    page.goto(f"{live_server.url}/logs/?date_from=2026-10-10&date_to=2026-10-10&columns=charged_usd")
    table = page.inner_text("table.calls")
    assert "US$0.06748" in table and "US$0.10" in table and "$0.1\t" not in table
    _shot(page, "logs")

    page.goto(f"{live_server.url}/billing/tallies/{tally.pk}/")
    body = page.inner_text("body")
    assert "Spend below the threshold" in body and "spend_below_threshold" not in body
    breakdown = page.inner_text("table >> nth=0")
    assert "Nano Banana Pro" in breakdown and "Empty output" in breakdown
    assert "empty_output" not in breakdown and "\tpro\t" not in breakdown
    assert "Top-up discount factor" in body and "Discount factor" not in body
    _shot(page, "tally")
    _cards_fit(page)

    page.goto(f"{live_server.url}/logs/?date_from=2026-10-10&date_to=2026-10-10&model=pro&category=empty_output")
    page.click("#export-open")
    chips = page.inner_text("#export-dialog .chips")
    assert "model: Nano Banana Pro" in chips and "category: Empty output" in chips
    assert "model: pro" not in chips
    _shot(page, "export-dialog")
