"""A customer sees only its own data, on every page and in the API; another's call is a 404."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from logs.choices import Category
from logs.scoping import SESSION_KEY
from logs.services.rollups import rollups_rebuild
from logs.services.tokens import apitoken_create
from tests import factories as f

pytestmark = pytest.mark.django_db
UTC = dt.timezone.utc


@pytest.fixture
def world(client):
    acme, globex = f.customer("acme"), f.customer("globex")
    when = dt.datetime.now(UTC) - dt.timedelta(hours=5)
    mine = f.call(acme, request_id="acme-1", created_at=when, token_name="acme-key")
    theirs = f.call(globex, request_id="globex-1", created_at=when, token_name="globex-secret-key",
                    model="gemini-3.1-flash-image", category=Category.OVERLOADED, http_status=503)
    f.call(globex, request_id="globex-2", created_at=when, token_name="globex-secret-key")
    rollups_rebuild()
    user = f.user("alice", customer_obj=acme)
    client.force_login(user)
    return {"acme": acme, "globex": globex, "mine": mine, "theirs": theirs, "user": user}


def test_call_page_of_another_customer_is_404(client, world):
    assert client.get(f"/logs/{world['mine'].pk}/").status_code == 200
    assert client.get(f"/logs/{world['theirs'].pk}/").status_code == 404


def test_logs_page_shows_nothing_of_another_customer(client, world):
    for params in ({}, {"request_id": "globex-1"}, {"token_name": "globex-secret-key"},
                   {"category": "overloaded"}, {"model": "nb2"}):
        html = client.get("/logs/", params).content.decode()
        rows = re.findall(r'<a class="mono" href="/logs/\d+/">([^<]+)</a>', html)
        assert not [r for r in rows if r.startswith("globex")], params
    # nor in the filter lists (models and keys come from rollups)
    assert "globex-secret-key" not in client.get("/logs/").content.decode()


def test_session_key_cannot_widen_a_customer_user(client, world):
    session = client.session
    session[SESSION_KEY] = world["globex"].pk
    session.save()
    html = client.get("/logs/").content.decode()
    assert "acme-1" in html and "globex-1" not in html
    assert client.get("/").context["totals"]["calls"] == 1


def test_overview_counts_own_rollups_only(client, world):
    resp = client.get("/")
    assert resp.context["totals"]["calls"] == 1
    assert "globex-secret-key" not in resp.content.decode()


def test_api_customer_token_cannot_reach_another(client, world):
    _, raw = apitoken_create(customer=world["acme"])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    body = client.get("/api/v1/calls", **auth).json()
    assert [c["customer"] for c in body["results"]] == ["acme"]
    assert client.get("/api/v1/calls/globex-1", **auth).status_code == 404
    assert client.get("/api/v1/calls/globex-1", {"customer": "globex"}, **auth).status_code == 404
    assert client.get("/api/v1/calls", {"customer": "globex"}, **auth).status_code == 404
    assert client.get("/api/v1/calls", {"request_id": "globex-1"}, **auth).json()["results"] == []


def test_user_without_customer_sees_nothing(client, world):
    lost = f.user("lost")  # neither staff nor linked to a customer
    client.force_login(lost)
    assert client.get("/logs/").status_code == 403
    assert client.get(f"/logs/{world['mine'].pk}/").status_code == 404


def _plain_urls(resolver=None, prefix=""):
    """Every URL pattern without parameters."""
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from _plain_urls(p, route)
        elif isinstance(p, URLPattern) and "<" not in route and "(?P" not in route and "^" not in route:
            yield "/" + route.lstrip("^").rstrip("$")


PUBLIC_API = ("/api/v1/", "/api/v1/openapi.json")


def test_every_page_needs_login(client):
    open_ = ("/accounts/login/", "/accounts/password_reset/", "/accounts/reset/done/",
             "/accounts/password_reset/done/", "/accounts/logout/")
    urls = sorted(set(_plain_urls()))
    assert "/logs/" in urls and "/" in urls
    for url in urls:
        if url.startswith(open_) or url.startswith("/admin/"):
            continue
        resp = client.get(url)
        if url in PUBLIC_API:  # what the API is (links, its OpenAPI description): no data, no token
            assert resp.status_code == 200 and resp["Content-Type"].startswith("application/json"), url
        elif url.startswith("/api/"):
            assert resp.status_code == 401, url
        else:
            assert resp.status_code in (302, 405), url
            if resp.status_code == 302:
                assert resp["Location"].startswith(("/accounts/login/", "/admin/login/")), url
