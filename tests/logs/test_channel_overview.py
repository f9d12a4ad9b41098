"""Failures by gateway channel on the Overview: staff see which upstream key fails how; customers never see a channel."""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from logs.choices import Category
from logs.scoping import SESSION_KEY
from logs.services.rollups import rollups_rebuild
from tests import factories as f

pytestmark = pytest.mark.django_db
UTC = dt.timezone.utc


def _calls():
    """acme: channel 3 gives two 503s and one success, channel 4 a blocked prompt, one call has no channel."""
    acme = f.customer("acme")
    now = dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - dt.timedelta(days=1)
    f.call(acme, created_at=now, channel_id=3)
    for _ in range(2):
        f.call(acme, created_at=now, category=Category.OVERLOADED, http_status=503, charged_usd=0, channel_id=3)
    f.call(acme, created_at=now, category=Category.PROMPT_BLOCKED, charged_usd=0, channel_id=4)
    f.call(acme, created_at=now, category=Category.RATE_LIMITED, http_status=429, charged_usd=0)
    f.call(acme, created_at=now + dt.timedelta(minutes=5), category=Category.OVERLOADED, http_status=503,
           charged_usd=0, channel_id=4)
    rollups_rebuild(customer_id=acme.pk)
    return acme


def _stacks(resp) -> dict:
    """{trace name: {channel label: failed calls}} of the page's channel figure."""
    fig = json.loads(resp.context["figures"]["channels"])
    return {t["name"]: dict(zip(t["x"], t["y"])) for t in fig["data"]}


def test_staff_see_failures_by_channel_stacked_by_category(client):
    _calls()
    client.force_login(f.user("root", staff=True))
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get("/")
    # The figures are rollups only. The one read of calls allowed is billing's month-to-date estimate
    # panel (its repeated-prompt rule needs the covered calls of the month, read only when the
    # rollups show candidates, and cached under the rollup version).
    on_calls = [q["sql"] for q in ctx.captured_queries if '"logs_call"' in q["sql"]]
    assert all("prompt_fingerprint" in sql for sql in on_calls), on_calls
    html = resp.content.decode()
    assert "Failures by channel" in html and 'id="fig-channels"' in html
    assert _stacks(resp) == {
        "Prompt blocked": {"channel 3": 0, "channel 4": 1, "no channel": 0},
        "Rate limited (429)": {"channel 3": 0, "channel 4": 0, "no channel": 1},
        "Overloaded (503)": {"channel 3": 2, "channel 4": 1, "no channel": 0},
    }


def test_the_chart_follows_the_filters(client):
    _calls()
    client.force_login(f.user("root", staff=True))
    resp = client.get("/", {"range": "", "token_name": "nobody"})
    fig = json.loads(resp.context["figures"]["channels"])
    assert fig["data"] == [] and "No failed calls" in fig["layout"]["annotations"][0]["text"]


def test_customers_never_see_a_channel(client):
    acme = _calls()
    client.force_login(f.user("carol", customer_obj=acme))
    resp = client.get("/")
    html = resp.content.decode()
    assert resp.context["totals"]["failed"] == 5  # the same failures, without their channels
    assert "channels" not in resp.context["figures"]
    assert not re.search("channel", html, re.IGNORECASE)


def test_a_customer_never_gets_the_staff_entry_of_the_cache(client):
    """Staff looking at one customer run that customer's own query: the entry is filed apart."""
    acme = _calls()
    client.force_login(f.user("root", staff=True))
    session = client.session
    session[SESSION_KEY] = acme.pk
    session.save()
    assert "channels" in client.get("/").context["figures"]
    client.force_login(f.user("carol", customer_obj=acme))
    resp = client.get("/")
    assert resp.context["totals"]["failed"] == 5
    assert "channels" not in resp.context["figures"]
    assert not re.search("channel", resp.content.decode(), re.IGNORECASE)
    client.force_login(f.user("root2", staff=True))
    session = client.session
    session[SESSION_KEY] = acme.pk
    session.save()
    assert "channels" in client.get("/").context["figures"]  # and staff never get a customer's entry


def test_a_staff_export_carries_the_channel_filter_and_a_customer_cannot_use_it():
    from django.core.exceptions import PermissionDenied

    from logs.services.exports import export_create, export_queryset

    acme = f.customer("acme-x")
    boss = f.user("boss-x", staff=True)
    alice = f.user("alice-x", customer_obj=acme)
    when = dt.datetime(2026, 10, 10, 12, tzinfo=f.UTC8)
    for i, channel in enumerate((3, 3, 4, None)):
        f.call(acme, request_id=f"ch-{i}", created_at=when, channel_id=channel)
    first, last = dt.date(2026, 10, 1), dt.date(2026, 10, 31)
    job = export_create(user=boss, customer=acme, date_from=first, date_to=last, filters={"channel": "3"})
    assert job.filters == {"channel": 3}
    assert sorted(export_queryset(job=job).values_list("request_id", flat=True)) == ["ch-0", "ch-1"]
    with pytest.raises(PermissionDenied):
        export_create(user=alice, customer=acme, date_from=first, date_to=last, filters={"channel": "3"})


def test_the_export_dialog_shows_the_channel_to_staff_only(client):
    acme = f.customer("acme-y")
    boss = f.user("boss-y", staff=True)
    alice = f.user("alice-y", customer_obj=acme)
    client.force_login(boss)
    assert 'name="channel" value="3"' in client.get("/exports/new?range=last_month&channel=3").content.decode()
    client.force_login(alice)
    assert 'name="channel"' not in client.get("/exports/new?range=last_month&channel=3").content.decode()
