"""Issue 15 in Chromium, as a user would do it, at 1,366 and 390 pixels wide.

The Logs page's Category filter (tick, Apply, the calls listed); phones (no page wider than the
screen, the navigation in a Menu, tables scrolling inside their card, chart axes inside their
card); the one time-zone rule (a New York user's heatmap, Logs "Today" and the export dialog's
"Today" the same day, no "CST"); the export dialog's "Any time"; a reversed range in words;
and the small things (logged-out message, favicon, branded error pages, approve confirmation,
an error beside its field with what was typed, the audit trail's order, the Credits list and
the customer switch). Screenshots go to tests/artifacts/ui-*.png.
"""
from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from logs.choices import Category
from logs.services.rollups import rollups_rebuild
from logs.timeutil import billing_today, day_start, zone_label
from tests import ARTIFACTS, factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # playwright's sync API runs a loop
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE, DESKTOP = 390, 1366
NEW_YORK = "America/New_York"
UTC8 = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def world():
    """Two customers with last month's and this month's calls, a tally, a reconciliation, an
    alert with an incident, an export, an ingest batch and a gateway source: every page has rows."""
    from alerts.models import Incident, Notification
    from alerts.services.rules import alert_rule_save
    from billing.services.reconciliation import reconciliation_run
    from billing.services.tally import tally_compute
    from gateways.models import GatewaySource
    from logs.models import ExportJob
    from logs.services.ingest import calls_ingest

    acme = f.customer("acme", name="Acme Studio", enrolled_from=dt.date(2020, 1, 1), topup_factor=Decimal("1"))
    globex = f.customer("globex", name="Globex Media")
    first_of_month = billing_today().replace(day=1)
    last_month = (first_of_month - dt.timedelta(days=1)).replace(day=1)
    t0 = day_start(last_month + dt.timedelta(days=2))
    cats = [Category.SUCCESS] * 4 + [Category.IMAGE_BLOCKED, Category.RATE_LIMITED, Category.OVERLOADED,
                                     Category.NO_IMAGE, Category.TEXT_REFUSAL]
    status = {Category.RATE_LIMITED: 429, Category.OVERLOADED: 503}
    for day in range(10):
        for k, cat in enumerate(cats):
            f.call(acme, request_id=f"acme-{day:02d}-{k:02d}-a-long-request-identifier",
                   created_at=t0 + dt.timedelta(days=day, hours=k * 2), category=cat,
                   reason="finishReason=NO_IMAGE: the model returned text and no image at all" if cat != "success"
                   else "image delivered", http_status=status.get(cat, 200),
                   charged_usd=0 if cat in status else "0.05", token_name=["prod-web", "batch"][k % 2],
                   prompt=f"prompt {day} {k}", channel_id=3)
    f.call(acme, request_id="acme-spend", created_at=t0, model="gemini-3.1-flash-image", charged_usd="1200",
           billing_mode="per_token")
    month_start, now = day_start(first_of_month), timezone.now()
    for k in range(6):
        f.call(acme, request_id=f"acme-now-{k}", created_at=now - (now - month_start) * (k + 1) / 7,
               category=cats[k + 3], http_status=status.get(cats[k + 3], 200))
    f.call(globex, request_id="globex-secret", created_at=t0, category=Category.NO_IMAGE)
    rollups_rebuild()
    alice = f.user("alice", customer_obj=acme)
    nora = f.user("nora", customer_obj=acme)
    nora.time_zone = NEW_YORK
    nora.save(update_fields=["time_zone"])
    sam = f.user("sam", staff=True)
    tally = tally_compute(customer=acme, month=last_month)
    local = ("request_id,created_at,model,http_status,finish_reason,block_reason,finish_message,"
             "prompt_tokens,output_tokens,total_tokens,images,charged_usd\n")
    for day in range(3):
        when = (t0 + dt.timedelta(days=day)).astimezone(UTC8).strftime("%Y-%m-%d %H:%M:%S")
        local += f"acme-{day:02d}-00-a-long-request-identifier,{when},gemini-3-pro-image-preview,200,STOP,,,20,1120,1140,1,\n"
    recon = reconciliation_run(customer=acme, source=local.encode())
    rule = alert_rule_save(by=alice, name="acme failures", kind="failed_generation_rate", customer=acme,
                           threshold="0.2")
    incident = Incident.objects.create(rule=rule, customer=acme, subject=f"customer:{acme.pk}",
                                       opened_at=timezone.now() - dt.timedelta(hours=2))
    Notification.objects.create(user=alice, title="Failed-generation rate above 20% for Acme Studio")
    ExportJob.objects.create(created_by=alice, customer=acme, status="done", rows_done=54, rows_total=54,
                             size=12_345, filename="nbaudit-acme-2026-10-01-2026-10-31.xlsx",
                             date_from=last_month, date_to=first_of_month - dt.timedelta(days=1))
    batch = calls_ingest(source=(
        '{"request_id": "acme-ingested-1", "created_at": "' + now.isoformat() + '", "customer": "acme", '
        '"model": "gemini-3-pro-image-preview", "http_status": 429, "error": "RESOURCE_EXHAUSTED"}\n').encode(),
        fmt="calls", origin="upload", filename="upload-with-a-rather-long-file-name.ndjson")
    GatewaySource.objects.create(name="newapi-prod", kind="http", base_url="https://gateway.example.com",
                                 flavor="new-api")
    call = acme.calls.get(request_id="acme-00-04-a-long-request-identifier") if hasattr(acme, "calls") else None
    if call is None:
        from logs.models import Call

        call = Call.objects.get(request_id="acme-00-04-a-long-request-identifier")
    return dict(acme=acme, globex=globex, alice=alice, nora=nora, sam=sam, tally=tally, recon=recon,
                rule=rule, incident=incident, batch=batch, call=call, last_month=last_month)


@pytest.fixture
def browser(live_server):
    """open(user, width) -> a logged-in page; every page is watched for requests leaving the
    server, for 4xx/5xx answers to its own files (favicon, CSS, JS) and for CSP refusals."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    host = urlsplit(live_server.url).netloc
    outside, broken, refused = [], [], []
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        contexts = []

        def open_page(user=None, width=DESKTOP):
            context = chromium.new_context(viewport={"width": width, "height": 860})
            contexts.append(context)
            if user is not None:
                client = Client()
                client.force_login(user)
                context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                                      "url": live_server.url}])
            page = context.new_page()
            page.on("request", lambda r: outside.append(r.url)
                    if urlsplit(r.url).netloc not in ("", host) and not r.url.startswith("data:") else None)
            page.on("response", lambda r: broken.append(f"{r.status} {r.url}")
                    if r.status >= 400 and ("/static/" in r.url or "favicon" in r.url) else None)
            page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
            page.base = live_server.url
            return page

        yield open_page
        for context in contexts:
            context.close()
        chromium.close()
    assert outside == [], f"requests left the local server: {outside}"
    assert broken == [], f"the site's own files answered errors: {broken}"
    assert refused == [], f"the page's policy refused: {refused}"


def shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"ui-{name}.png"), full_page=True)


def goto(page, path):
    resp = page.goto(page.base + path)
    page.wait_for_load_state("networkidle")
    return resp


def scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def pages_of(w, *, staff: bool) -> list[str]:
    pages = ["/", "/logs/", f"/logs/{w['call'].pk}/", "/tasks/", "/exports/new", "/account/",
             "/accounts/password_change/", "/billing/tallies/", f"/billing/tallies/{w['tally'].pk}/",
             "/billing/reconcile/", f"/billing/reconcile/{w['recon'].pk}/", "/alerts/", f"/alerts/{w['rule'].pk}/",
             "/alerts/incidents/", f"/alerts/incidents/{w['incident'].pk}/", "/notifications/", "/no-such-page/"]
    if staff:
        pages += ["/ingest/", f"/ingest/{w['batch'].pk}/", "/gateways/"]
    return pages


# --- phones: no page wider than the screen ---------------------------------------------------

@pytest.mark.parametrize("who", ["alice", "sam"])
def test_no_page_is_wider_than_a_phone(world, browser, who):
    page = browser(world[who], PHONE)
    wide = {}
    for path in pages_of(world, staff=who == "sam"):
        resp = goto(page, path)
        assert resp.status == (404 if path == "/no-such-page/" else 200), path
        width = scroll_width(page)
        if width > PHONE:
            wide[path] = width
        assert not page.locator("#topnav").is_visible(), f"{path}: the navigation is not folded into the menu"
        name = path.strip("/").replace("/", "_") or "overview"
        shot(page, f"{who}-390-{name}")
    assert wide == {}, f"pages wider than {PHONE} px: {wide}"


@pytest.mark.parametrize("who", ["alice", "sam"])
def test_no_page_scrolls_sideways_on_a_laptop(world, browser, who):
    page = browser(world[who], DESKTOP)
    wide = {}
    for path in pages_of(world, staff=who == "sam"):
        goto(page, path)
        if scroll_width(page) > DESKTOP:
            wide[path] = scroll_width(page)
        assert page.locator("#topnav").is_visible() and not page.locator("[data-navtoggle]").is_visible()
        name = path.strip("/").replace("/", "_") or "overview"
        shot(page, f"{who}-1366-{name}")
    assert wide == {}, f"pages wider than {DESKTOP} px: {wide}"


def test_phone_menu_opens_with_every_link_and_log_out_on_screen(world, browser):
    page = browser(world["sam"], PHONE)
    goto(page, "/logs/")
    toggle = page.locator("[data-navtoggle]")
    assert toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    assert not page.get_by_role("link", name="Reconcile").is_visible()
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    for name in ("Overview", "Logs", "Async Tasks", "Credits", "Reconcile", "Alerts", "Ingest", "Gateways", "Account"):
        link = page.locator("#topnav").get_by_role("link", name=name, exact=True)
        box = link.bounding_box()
        assert link.is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= PHONE, name
    logout = page.get_by_role("button", name="Log out")
    box = logout.bounding_box()
    assert logout.is_visible() and box["x"] + box["width"] <= PHONE
    switch = page.locator("#switch-customer")
    assert switch.is_visible() and switch.bounding_box()["x"] + switch.bounding_box()["width"] <= PHONE
    page.screenshot(path=str(ARTIFACTS / "ui-390-menu-open.png"))
    toggle.click()
    assert not page.locator("#topnav").is_visible()


def test_phone_tables_scroll_inside_their_card_key_columns_first(world, browser):
    page = browser(world["alice"], PHONE)
    goto(page, "/logs/?range=last_month")
    headers = [h.strip().lower() for h in page.locator("table.calls thead th").all_inner_texts()]
    assert headers[:3] == ["time", "request id", "category / reason"]
    wrap = page.locator(".table-wrap").first
    inner, outer = wrap.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert inner > outer, "the table is as narrow as the phone: it should scroll inside its card"
    assert scroll_width(page) <= PHONE
    first = page.locator("table.calls tbody tr td").first
    wrap.evaluate("el => el.scrollBy(600, 0)")
    assert first.bounding_box()["x"] >= 0  # the key column stays in view while the rest scrolls
    page.screenshot(path=str(ARTIFACTS / "ui-390-logs-table-scrolled.png"))
    goto(page, "/tasks/")
    assert scroll_width(page) <= PHONE
    wrap = page.locator(".table-wrap").first
    wrap.evaluate("el => el.scrollBy(2000, 0)")
    assert page.get_by_role("link", name="Download").first.is_visible()
    page.screenshot(path=str(ARTIFACTS / "ui-390-tasks-scrolled.png"))


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_chart_axes_stay_inside_their_cards(world, browser, width):
    page = browser(world["alice"], width)
    goto(page, "/?range=last_month")
    page.wait_for_selector("#chart-heatmap .main-svg")
    for name in ("calls", "errors", "heatmap", "spend", "latency"):
        card = page.locator(f"#chart-{name}").locator("xpath=ancestor::div[contains(@class,'card')][1]")
        cbox = card.bounding_box()
        for part in page.locator(f"#chart-{name} .ytitle, #chart-{name} .xtitle, #chart-{name} .ytick text").all():
            box = part.bounding_box()
            if box is None or not box["width"]:
                continue
            assert box["x"] >= cbox["x"] - 1 and box["x"] + box["width"] <= cbox["x"] + cbox["width"] + 1, name
        if width == PHONE:
            size = page.locator(f"#chart-{name} .ytick text").first.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
            assert size <= 10, f"{name}: tick labels at {size}px on a phone"
    shot(page, f"{width}-overview-charts")


# --- the Category filter -----------------------------------------------------------------------

@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_category_filter_ticks_apply_and_lists_only_those(world, browser, width):
    page = browser(world["alice"], width)
    goto(page, "/logs/?range=last_month")
    box = page.locator("#category-filter")
    assert box.locator("summary").inner_text().strip() == "Any category"
    box.locator("summary").click()
    boxes = box.locator("input[type=checkbox][name=category]")
    assert boxes.count() == len(Category.values)
    labels = box.locator("label.check").all_inner_texts()
    assert [t.strip() for t in labels].count("Rate limited (429)") == 1, labels  # each label once
    box.get_by_label("Rate limited (429)").check()
    box.get_by_label("Overloaded (503)").check()
    assert box.locator("summary .chosen").all_inner_texts() == ["Rate limited (429)", "Overloaded (503)"]
    assert box.locator("summary .none").is_hidden()
    assert scroll_width(page) <= width
    page.screenshot(path=str(ARTIFACTS / f"ui-{width}-category-open.png"))
    if width == PHONE:  # the open list covers the form's Apply on a phone: the list has its own
        box.locator("[data-apply]").click()
    else:
        page.locator("#call-filters .f-actions button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    query = parse_qs(urlsplit(page.url).query)
    assert sorted(query["category"]) == ["overloaded", "rate_limited"]
    cells = page.locator("table.calls tbody tr td:nth-child(3)").all_inner_texts()
    assert len(cells) == 20 and all(("Rate limited" in c or "Overloaded" in c) for c in cells), cells
    chosen = page.locator("#category-filter summary .chosen").all_inner_texts()
    assert chosen == ["Rate limited (429)", "Overloaded (503)"]
    page.locator("#category-filter summary").click()
    assert page.locator("#category-filter").get_by_label("Overloaded (503)").is_checked()
    page.locator("#category-filter [data-clear]").click()
    assert page.locator("#category-filter summary").inner_text().strip() == "Any category"
    page.locator("h1").click()  # a click outside closes the dropdown
    assert not page.locator("#category-filter .dropdown-body").is_visible()
    shot(page, f"{width}-category-applied")


def test_category_typed_in_the_url_ticks_the_boxes(world, browser):
    page = browser(world["alice"], DESKTOP)
    goto(page, "/logs/?range=last_month&category=image_blocked,no_image")
    page.locator("#category-filter summary").click()
    dropdown = page.locator("#category-filter")
    assert dropdown.get_by_label("Image blocked").is_checked() and dropdown.get_by_label("No image").is_checked()
    assert not dropdown.get_by_label("Success").is_checked()


# --- time zones --------------------------------------------------------------------------------

@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_one_time_zone_rule_for_a_new_york_user(world, browser, width):
    page = browser(world["nora"], width)
    label = zone_label(NEW_YORK)
    # last billing month's days, named (New York's "last month" is another month in a month's
    # first hours in UTC+8)
    first = billing_today().replace(day=1)
    last_month_first = (first - dt.timedelta(days=1)).replace(day=1)
    goto(page, f"/?range=custom&date_from={last_month_first}&date_to={first - dt.timedelta(days=1)}")
    page.wait_for_selector("#chart-heatmap .main-svg")
    assert page.inner_text("#heatmap-title") == f"Failure rate by hour of day ({label}) and day of week"
    assert "Beijing" not in page.content()
    assert f"hour ({label})" in page.inner_text("#chart-heatmap")
    rule = page.inner_text("#tz-rule")
    assert f"Days and times in {label}" in rule and "billing months in Asia/Shanghai, UTC+8" in rule
    shot(page, f"{width}-ny-overview")
    goto(page, f"/logs/{world['call'].pk}/")
    text = page.inner_text("main")
    assert "CST" not in text and ("UTC\u22124" in text or "UTC\u22125" in text)
    shot(page, f"{width}-ny-call")


def test_logs_today_and_export_today_are_the_same_day(world, browser, eager):
    from logs.models import ExportJob

    page = browser(world["nora"], DESKTOP)
    ny_today = timezone.now().astimezone(ZoneInfo(NEW_YORK)).date()
    goto(page, "/logs/")
    page.select_option("#call-filters select[name=range]", "today")
    page.locator("#call-filters .f-actions button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert f"{ny_today} to {ny_today}" in page.inner_text(".tablebar")
    page.click("#export-open")
    assert page.locator("#export-range").input_value() == "today"  # the page's range, not another
    assert f"days in {zone_label(NEW_YORK)}" in page.inner_text("#export-form")
    page.screenshot(path=str(ARTIFACTS / "ui-1366-ny-export-today.png"))
    page.click("#export-submit")
    page.wait_for_load_state("networkidle")
    job = ExportJob.objects.get(created_by=world["nora"])
    assert (job.date_from, job.date_to, job.tz) == (ny_today, ny_today, NEW_YORK)


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_export_dialog_offers_any_time_and_keeps_the_pages_range(world, browser, width, eager):
    from logs.models import ExportJob

    page = browser(world["alice"], width)
    goto(page, "/logs/")
    page.click("#export-open")
    assert page.locator("#export-range").input_value() == ""
    assert page.locator("#export-range option:checked").inner_text() == "Any time"
    dialog = page.locator("#export-dialog").bounding_box()
    assert dialog["x"] >= 0 and dialog["x"] + dialog["width"] <= width
    page.screenshot(path=str(ARTIFACTS / f"ui-{width}-export-any-time.png"))
    page.click("#export-submit")
    page.wait_for_load_state("networkidle")
    job = ExportJob.objects.filter(filename__endswith="all-time.xlsx").get()
    assert job.date_from is None and job.date_to is None and job.rows_total > 50
    assert "any time" in page.inner_text(f"#job-{job.pk}")
    goto(page, "/logs/?range=7d")
    page.click("#export-open")
    assert page.locator("#export-range").input_value() == "7d"


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_a_reversed_range_is_an_error_in_words(world, browser, width):
    page = browser(world["alice"], width)
    goto(page, "/logs/")
    page.select_option("#call-filters select[name=range]", "custom")
    page.fill("#call-filters input[name=date_from]", "2026-10-20")
    page.fill("#call-filters input[name=date_to]", "2026-10-02")
    page.locator("#call-filters .f-actions button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    errors = page.inner_text("#call-filters .form-errors")
    assert "The first day (2026-10-20) is after the last day (2026-10-02)" in errors
    assert page.locator("#call-filters input[name=date_from]").input_value() == "2026-10-20"  # kept
    shot(page, f"{width}-reversed-range")


# --- small things ------------------------------------------------------------------------------

@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_log_out_says_so_and_the_favicon_is_there(world, browser, width):
    page = browser(world["alice"], width)
    goto(page, "/")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(page.base + icon).status == 200
    if width == PHONE:
        page.click("[data-navtoggle]")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state("networkidle")
    assert urlsplit(page.url).path == "/accounts/login/"
    assert "You have logged out." in page.inner_text(".messages")
    assert page.request.get(page.base + "/favicon.ico").status == 200  # followed to the icon
    shot(page, f"{width}-logged-out")


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_error_pages_are_branded_with_the_navigation(world, browser, width):
    page = browser(world["alice"], width)
    resp = goto(page, f"/logs/{world['acme'].pk + 10_000}/")
    assert resp.status == 404
    assert page.inner_text("#error-page h1") == "Page not found"
    assert page.locator("header.topbar .brand").is_visible()
    assert page.locator("#topnav").count() == 1
    shot(page, f"{width}-404")
    tally = world["tally"]
    goto(page, f"/billing/tallies/{tally.pk}/")
    page.evaluate("""url => { const f = document.createElement('form'); f.method = 'post'; f.action = url;
        const t = document.querySelector('input[name=csrfmiddlewaretoken]'); if (t) f.appendChild(t.cloneNode());
        document.body.appendChild(f); f.submit(); }""", f"/billing/tallies/{tally.pk}/approve/")
    page.wait_for_load_state("networkidle")
    assert page.inner_text("#error-page h1") == "Not allowed"
    assert "Only staff may act on tallies." in page.inner_text("#error-page")
    assert page.locator("header.topbar .brand").is_visible() and scroll_width(page) <= width
    shot(page, f"{width}-403")


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_approve_asks_first_and_a_refusal_keeps_what_was_typed(world, browser, width):
    tally = world["tally"]
    page = browser(world["sam"], width)
    goto(page, f"/billing/tallies/{tally.pk}/")
    page.fill("#approve-form input[name=amount]", "1.25")
    asked = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.locator("#approve-form button[type=submit]").click()
    page.wait_for_timeout(300)
    assert asked and asked[0].startswith("Approve the tally of Acme Studio")
    tally.refresh_from_db()
    assert tally.status == "draft"  # dismissed: nothing sent
    page.once("dialog", lambda d: d.accept())
    page.locator("#approve-form button[type=submit]").click()  # an adjusted amount needs a reason
    page.wait_for_load_state("networkidle")
    assert page.locator("#approve-form input[name=amount]").input_value() == "1.25"
    error = page.locator("#id_reason_error")
    assert "reason is required" in error.inner_text()
    reason_box, error_box = page.locator("#approve-form input[name=reason]").bounding_box(), error.bounding_box()
    assert 0 <= error_box["y"] - (reason_box["y"] + reason_box["height"]) < 40  # right under its field
    assert scroll_width(page) <= width
    shot(page, f"{width}-approve-refused")
    page.fill("#approve-form input[name=reason]", "goodwill")
    page.once("dialog", lambda d: d.accept())
    page.locator("#approve-form button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    tally.refresh_from_db()
    assert tally.status == "approved" and tally.approved_usd == Decimal("1.25")


def test_audit_trail_in_the_order_things_happened(world, browser):
    tally = world["tally"]
    page = browser(world["sam"], DESKTOP)
    goto(page, f"/billing/tallies/{tally.pk}/")
    page.fill("#call-action-form input[name=request_id]", "acme-01-07-a-long-request-identifier")
    page.fill("#call-action-form input[name=reason]", "the customer's own test")
    page.locator("#call-action-form button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    trail = page.locator("table.trail tbody tr td:nth-child(3)").all_inner_texts()
    assert trail == ["computed", "call excluded", "computed"]
    shot(page, "1366-audit-trail")


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_credits_list_follows_the_customer_switch(world, browser, width):
    from billing.services.tally import tally_compute

    tally_compute(customer=world["globex"], month=world["last_month"])
    page = browser(world["sam"], width)
    goto(page, "/billing/tallies/")
    assert page.locator("table.tallies tbody tr").count() == 2
    eligible = page.locator("select[name=eligible] option").all_inner_texts()
    assert eligible == ["Any", "Yes", "No"]
    if width == PHONE:
        page.click("[data-navtoggle]")
    with page.expect_navigation():
        page.select_option("#switch-customer", label="Globex Media")
    page.wait_for_load_state("networkidle")
    assert urlsplit(page.url).path == "/billing/tallies/"
    rows = page.locator("table.tallies tbody tr")
    assert rows.count() == 1 and "Globex Media" in rows.first.inner_text()
    shot(page, f"{width}-credits-switched")
