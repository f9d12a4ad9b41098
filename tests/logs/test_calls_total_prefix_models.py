"""The Logs page: a total for the current filters (from the rollups, never a COUNT over the
call table), request-ID search by prefix, and the model filter by family with the raw IDs."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from logs.models import Call
from logs.selectors.calls import calls_filter
from logs.services.rollups import rollups_rebuild
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_alice(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def many(acme, globex):
    """60 calls of acme in the last hours (more than a page of 50), a few of globex."""
    now = timezone.now()
    for i in range(60):
        f.call(acme, created_at=now - dt.timedelta(minutes=5 + i), request_id=f"req-{i:03d}",
               category="success" if i % 3 else "rate_limited", http_status=200 if i % 3 else 429,
               model="gemini-3-pro-image-preview" if i % 2 else "gemini-3.1-flash-image-preview")
    for i in range(5):
        f.call(globex, created_at=now - dt.timedelta(minutes=5 + i), request_id=f"req-{i:03d}")
    rollups_rebuild()
    return now


def _total(html: str) -> str | None:
    m = re.search(r'<strong id="calls-total"[^>]*>([^<]*)</strong>', html)
    return m.group(1) if m else None


def _call_counts(queries) -> list[str]:
    return [q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and '"logs_call"' in q["sql"]]


def test_total_from_rollups_without_counting_calls(client_alice, many):
    url = reverse("logs:calls")
    cases = {"": 60, "?failed=on": 20, "?category=rate_limited": 20,
             "?model=pro": 30, "?model=gemini-3.1-flash-image-preview&failed=on": 10,
             "?failed=on&http_status=429": 20}
    for query, expected in cases.items():
        with CaptureQueriesContext(connection) as ctx:
            html = client_alice.get(url + query).content.decode()
        assert not _call_counts(ctx.captured_queries), query
        assert _total(html) == f"{expected:,} call{'s' if expected != 1 else ''} match", query
        assert any('"logs_hourlyrollup"' in q["sql"] for q in ctx.captured_queries) or expected <= 50


def test_no_total_when_the_filters_are_not_rollup_dimensions(client_alice, many):
    with CaptureQueriesContext(connection) as ctx:
        html = client_alice.get(reverse("logs:calls") + "?request_id=req-0").content.decode()
    assert not _call_counts(ctx.captured_queries)
    assert _total(html) == "More than 50 calls match"  # 60 match; a request ID is no rollup dimension
    html = client_alice.get(reverse("logs:calls") + "?request_id=req-0&after=x").content.decode()
    assert _total(html) is not None  # a bad cursor is the first page again
    # A page that holds every match is its own total.
    html = client_alice.get(reverse("logs:calls") + "?request_id=req-05").content.decode()
    assert _total(html) == "10 calls match"


def test_request_id_by_prefix(client_alice, many):
    html = client_alice.get(reverse("logs:calls") + "?request_id=req-01").content.decode()
    shown = set(re.findall(r"req-\d{3}", html))
    assert shown == {f"req-{i:03d}" for i in range(10, 20)}
    html = client_alice.get(reverse("logs:calls") + "?request_id=req-017").content.decode()
    assert set(re.findall(r"req-\d{3}", html)) == {"req-017"}  # a whole ID finds its call
    assert _total(html) == "1 call match"


def test_model_filter_lists_families_with_their_model_ids(client_alice, many):
    html = client_alice.get(reverse("logs:calls")).content.decode()
    select = html[html.index('name="model"'):]
    select = select[:select.index("</select>")]
    pro = select[select.index('<optgroup label="Nano Banana Pro">'):]
    pro = pro[:pro.index("</optgroup>")]
    assert 'value="pro"' in pro and 'value="gemini-3-pro-image-preview"' in pro
    assert "gemini-3.1-flash-image-preview" not in pro
    nb2 = select[select.index('<optgroup label="Nano Banana 2">'):]
    assert 'value="gemini-3.1-flash-image-preview"' in nb2[:nb2.index("</optgroup>")]


@pytest.mark.postgres
def test_prefix_search_walks_the_request_id_index(on_postgres, acme, many):
    if not on_postgres:
        pytest.skip("needs PostgreSQL")
    qs = calls_filter(Call.objects.filter(customer=acme), request_id="req-01")
    with connection.cursor() as cur:
        cur.execute("SET enable_seqscan = off")
        cur.execute("ANALYZE logs_call")
        sql, params = qs.query.sql_with_params()
        cur.execute("EXPLAIN " + sql, params)
        plan = "\n".join(r[0] for r in cur.fetchall())
        cur.execute("RESET enable_seqscan")
    print(plan)
    assert "request_id" in plan and re.search(r"Index.*(call_customer_request_uniq|request)", plan), plan
    assert "Index Cond" in plan and ">=" in plan
