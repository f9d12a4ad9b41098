"""The dashboard as a user sees it: login, the Logs page, a call's page, the overview, the switch."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from logs.choices import Category
from logs.filtersets import range_dates
from logs.scoping import SESSION_KEY
from logs.services.rollups import rollups_rebuild
from tests import factories as f

pytestmark = pytest.mark.django_db
UTC = dt.timezone.utc


@pytest.fixture
def alice(client, alice):
    """acme's alice, logged in on `client`."""
    client.force_login(alice)
    return alice


@pytest.fixture
def staff(client, staff):
    """A staff user, logged in on `client`."""
    client.force_login(staff)
    return staff


def _rows(html: str) -> list[str]:
    """The request IDs in the Logs table, in order."""
    return re.findall(r'<a class="mono" href="/logs/\d+/">([^<]+)</a>', html)


# --- login ----------------------------------------------------------------------------------

def test_pages_need_login(client, acme):
    call = f.call(acme)
    for url in ("/", "/logs/", f"/logs/{call.pk}/", "/account/"):
        resp = client.get(url)
        assert resp.status_code == 302 and resp["Location"].startswith("/accounts/login/"), url


def test_login_page_logs_in(client, acme):
    f.user("alice", customer_obj=acme, password="pass-12345")
    page = client.get("/accounts/login/")
    assert page.status_code == 200 and b"Log in to nbaudit" in page.content
    bad = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert "didn't match" in bad.content.decode()
    ok = client.post("/accounts/login/", {"username": "alice", "password": "pass-12345"})
    assert ok.status_code == 302 and ok["Location"] == "/"
    assert client.get("/").status_code == 200


def test_password_change(client, alice):
    page = client.get(reverse("password_change"))
    assert page.status_code == 200 and b"Change password" in page.content
    resp = client.post(reverse("password_change"), {
        "old_password": "pass-12345", "new_password1": "a-new-secret-1", "new_password2": "a-new-secret-1"})
    assert resp.status_code == 302
    assert b"Your password was changed" in client.get(resp["Location"]).content
    alice.refresh_from_db()
    assert alice.check_password("a-new-secret-1")


# --- Logs page --------------------------------------------------------------------------------

def test_logs_newest_first_failed_flagged_with_reason(client, alice, acme):
    f.call(acme, request_id="old-ok", created_at=dt.datetime(2026, 10, 1, 3, tzinfo=UTC))
    f.call(acme, request_id="mid-blocked", created_at=dt.datetime(2026, 10, 2, 3, tzinfo=UTC),
           category=Category.IMAGE_BLOCKED, reason="finishReason=IMAGE_SAFETY")
    f.call(acme, request_id="new-429", created_at=dt.datetime(2026, 10, 3, 3, tzinfo=UTC),
           category=Category.RATE_LIMITED, http_status=429, reason="HTTP 429 RESOURCE_EXHAUSTED")
    html = client.get("/logs/").content.decode()
    assert _rows(html) == ["new-429", "mid-blocked", "old-ok"]
    assert "finishReason=IMAGE_SAFETY" in html and "HTTP 429 RESOURCE_EXHAUSTED" in html
    assert html.count('<tr class="failed') == 2
    assert "Export" not in html or 'id="export-slot"' in html
    assert 'id="export-slot"' in html


def test_times_in_user_zone_named(client, alice, acme):
    f.call(acme, request_id="r1", created_at=dt.datetime(2026, 10, 1, 16, 30, tzinfo=UTC))
    html = client.get("/logs/").content.decode()
    assert "2026-10-02 00:30:00" in html and "Asia/Shanghai" in html  # default: billing zone
    alice.time_zone = "America/New_York"
    alice.save()
    html = client.get("/logs/").content.decode()
    assert "2026-10-01 12:30:00" in html and "America/New_York" in html


def test_account_sets_time_zone(client, alice):
    resp = client.post("/account/", {"time_zone": "Europe/Berlin"})
    assert resp.status_code == 302
    alice.refresh_from_db()
    assert alice.time_zone == "Europe/Berlin"
    assert "Europe/Berlin" in client.get("/logs/").content.decode()


def test_filters(client, alice, acme):
    t = dt.datetime(2026, 10, 5, 4, tzinfo=UTC)
    f.call(acme, request_id="pro-ok", created_at=t, token_name="web")
    f.call(acme, request_id="nb2-ok", created_at=t + dt.timedelta(minutes=1),
           model="gemini-3.1-flash-image", token_name="batch")
    f.call(acme, request_id="pro-503", created_at=t + dt.timedelta(minutes=2),
           category=Category.OVERLOADED, http_status=503, token_name="batch")
    f.call(acme, request_id="pro-noimg", created_at=t + dt.timedelta(minutes=3),
           model="models/gemini-3-pro-image-preview-vip", category=Category.NO_IMAGE)
    f.call(acme, request_id="sept", created_at=dt.datetime(2026, 9, 30, 16, 30, tzinfo=UTC))  # Oct 1 UTC+8

    def ids(**params):
        resp = client.get("/logs/", params)
        assert resp.status_code == 200
        return set(_rows(resp.content.decode()))

    assert ids(failed="on") == {"pro-503", "pro-noimg"}
    assert ids(category=["overloaded", "no_image"]) == {"pro-503", "pro-noimg"}
    assert ids(model="nb2") == {"nb2-ok"}
    assert ids(model="pro") == {"pro-ok", "pro-503", "pro-noimg", "sept"}
    assert ids(model="models/gemini-3-pro-image-preview-vip") == {"pro-noimg"}
    assert ids(token_name="batch") == {"nb2-ok", "pro-503"}
    assert ids(http_status="503") == {"pro-503"}
    assert ids(request_id="nb2-ok") == {"nb2-ok"}
    # Custom range: days in the user's zone (UTC+8): 2026-09-30 15:00 UTC is Oct 1.
    assert ids(range="custom", date_from="2026-10-01", date_to="2026-10-01") == {"sept"}
    assert ids(range="custom", date_from="2026-10-02") == {"pro-ok", "nb2-ok", "pro-503", "pro-noimg"}


def test_bad_filter_shows_message_and_no_rows(client, alice, acme):
    f.call(acme, request_id="r1")
    html = client.get("/logs/", {"http_status": "abc"}).content.decode()
    assert _rows(html) == [] and "Enter a number" in html


def test_range_presets():
    today = dt.date(2026, 3, 15)
    assert range_dates("today", today) == (today, today)
    assert range_dates("7d", today) == (dt.date(2026, 3, 9), today)
    assert range_dates("this_month", today) == (dt.date(2026, 3, 1), today)
    assert range_dates("last_month", today) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert range_dates("last_month", dt.date(2026, 1, 3)) == (dt.date(2025, 12, 1), dt.date(2025, 12, 31))
    assert range_dates("custom", today, date_from=dt.date(2026, 1, 1)) == (dt.date(2026, 1, 1), None)
    assert range_dates(None, today) == (None, None)


def test_columns_chosen(client, alice, acme):
    f.call(acme, request_id="r1", route="vertex")
    def headers():
        return re.findall(r"<th[^>]*>([^<]+)</th>", client.get("/logs/").content.decode())

    assert "Route" not in headers() and "API key" in headers()
    resp = client.post("/logs/?failed=on", {"columns": ["route", "charged_usd"]})
    assert resp.status_code == 302 and resp["Location"] == "/logs/?failed=on"
    assert "Route" in headers() and "API key" not in headers()
    assert "vertex" in client.get("/logs/").content.decode()
    assert "Request ID" in headers()  # always shown
    client.post("/logs/", {"reset": "1"})
    assert "API key" in headers()


def test_keyset_pages_forward_and_back_without_offset_or_count(client, alice, acme):
    base = dt.datetime(2026, 10, 1, tzinfo=UTC)
    # 60 calls, pairs sharing a timestamp: the id breaks ties.
    for i in range(60):
        f.call(acme, request_id=f"r{i:03d}", created_at=base + dt.timedelta(minutes=i // 2))
    expected = [c for c in _expected_order(acme)]
    seen, url, pages = [], "/logs/?per_page=25", []
    with CaptureQueriesContext(connection) as ctx:
        while url:
            html = client.get(url).content.decode()
            pages.append(url)
            seen += _rows(html)
            m = re.search(r'href="(\?[^"]*)" rel="next"', html)
            url = "/logs/" + m.group(1).replace("&amp;", "&") if m else None
    assert seen == expected and len(pages) == 3
    sql = " ".join(q["sql"] for q in ctx.captured_queries if "logs_call" in q["sql"]).upper()
    assert " OFFSET " not in sql and "COUNT(" not in sql
    # back from the last page
    html = client.get(pages[-1]).content.decode()
    m = re.search(r'href="(\?[^"]*)" rel="prev"', html)
    back = client.get("/logs/" + m.group(1).replace("&amp;", "&")).content.decode()
    assert _rows(back) == expected[25:50]
    m = re.search(r'href="(\?[^"]*)" rel="prev"', back)
    assert _rows(client.get("/logs/" + m.group(1).replace("&amp;", "&")).content.decode()) == expected[:25]


def _expected_order(customer):
    from logs.models import Call

    return list(Call.objects.filter(customer=customer).order_by("-created_at", "-id")
                .values_list("request_id", flat=True))


def test_bad_cursor_falls_back_to_first_page(client, alice, acme):
    f.call(acme, request_id="r1")
    resp = client.get("/logs/", {"after": "!!garbage"})
    assert resp.status_code == 200 and _rows(resp.content.decode()) == ["r1"]
    assert "not valid" in resp.content.decode()


# --- a call's page ----------------------------------------------------------------------------

def test_call_page(client, alice, acme):
    response = {"candidates": [{"content": {"parts": [
        {"inlineData": {"mimeType": "image/jpeg", "data": 48213}, "thought": True},
        {"text": "I can't make that image."}]}, "finishReason": "IMAGE_SAFETY"}]}
    call = f.call(acme, request_id="req-blocked", category=Category.IMAGE_BLOCKED,
                  reason="finishReason=IMAGE_SAFETY", response=response, drafts=1,
                  charged_usd=Decimal("0.05"), expected_usd=Decimal("0.05"), finish_reason="IMAGE_SAFETY")
    html = client.get(f"/logs/{call.pk}/").content.decode()
    assert "finishReason=IMAGE_SAFETY" in html
    assert "image data: 48,213 characters, elided" in html
    assert "Counts for reimbursement" in html and "Covered:" in html
    assert "$0.050000" in html and "as expected" in html
    assert re.search(r"Drafts \(thinking images\)</dt><dd>1</dd>", html)
    for label in ("Request ID", "API key (token)", "Finish reason", "Latency (ms)", "Ingested at"):
        assert f"<dt>{label}</dt>" in html, label


def test_call_page_not_covered_says_why(client, alice, acme):
    call = f.call(acme, category=Category.RATE_LIMITED, http_status=429, charged_usd=Decimal("0.05"),
                  expected_usd=Decimal("0"), reason="HTTP 429 RESOURCE_EXHAUSTED")
    html = client.get(f"/logs/{call.pk}/").content.decode()
    assert "Does not count" in html and "request error" in html
    assert "+$0.050000 over" in html


# --- overview ---------------------------------------------------------------------------------

def test_overview_reads_rollups_only(client, alice, acme):
    now = dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - dt.timedelta(days=1)
    f.call(acme, created_at=now)
    f.call(acme, created_at=now, category=Category.RATE_LIMITED, http_status=429, charged_usd=0)
    f.call(acme, created_at=now, category=Category.RATE_LIMITED, http_status=429, charged_usd=0)
    f.call(acme, created_at=now, category=Category.OVERLOADED, http_status=503, charged_usd=0)
    rollups_rebuild(customer_id=acme.pk)
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get("/")
    assert resp.status_code == 200
    assert not [q for q in ctx.captured_queries if '"logs_call"' in q["sql"]]
    html = resp.content.decode()
    for name in ("calls", "errors", "share", "heatmap", "spend", "latency"):
        assert f'id="fig-{name}"' in html
    assert "67% were 429" in html and "client sends requests too fast" in html
    assert "/static/plotly/plotly.min.js" in html
    assert resp.context["totals"]["calls"] == 4


def test_overview_filters(client, alice, acme):
    now = dt.datetime.now(UTC) - dt.timedelta(hours=3)
    f.call(acme, created_at=now, token_name="web")
    f.call(acme, created_at=now, token_name="batch", model="gemini-3.1-flash-image")
    f.call(acme, created_at=now - dt.timedelta(days=60), token_name="web")
    rollups_rebuild(customer_id=acme.pk)
    assert client.get("/").context["totals"]["calls"] == 2  # default: last 30 days
    assert client.get("/", {"range": ""}).context["totals"]["calls"] == 3
    assert client.get("/", {"token_name": "batch"}).context["totals"]["calls"] == 1
    assert client.get("/", {"model": "pro"}).context["totals"]["calls"] == 1
    assert client.get("/", {"range": "today"}).context["hourly"] is True


# --- customer switch --------------------------------------------------------------------------

def test_staff_switches_customer(client, staff, acme, globex):
    f.call(acme, request_id="a1")
    f.call(globex, request_id="g1")
    html = client.get("/logs/").content.decode()
    assert set(_rows(html)) == {"a1", "g1"} and "All customers" in html
    resp = client.post("/customer/", {"customer": str(globex.pk), "next": "/logs/?after=xyz"})
    assert resp.status_code == 302 and resp["Location"] == "/logs/"
    assert client.session[SESSION_KEY] == globex.pk
    assert _rows(client.get("/logs/").content.decode()) == ["g1"]
    client.post("/customer/", {"customer": "", "next": "/logs/"})
    assert set(_rows(client.get("/logs/").content.decode())) == {"a1", "g1"}


def test_switch_rejects_unknown_and_offsite(client, staff, acme):
    resp = client.post("/customer/", {"customer": "99999", "next": "https://evil.example/"})
    assert resp.status_code == 302 and resp["Location"] == "/"
    assert SESSION_KEY not in client.session


def test_customer_user_cannot_switch(client, alice, acme, globex):
    f.call(globex, request_id="g1")
    f.call(acme, request_id="a1")
    client.post("/customer/", {"customer": str(globex.pk)})
    assert _rows(client.get("/logs/").content.decode()) == ["a1"]
    html = client.get("/logs/").content.decode()
    assert 'id="customer-switch"' not in html and "Acme" in html
