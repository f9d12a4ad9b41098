"""GET /api/v1/calls and /api/v1/calls/<request_id>, as a customer's program uses them."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from logs.choices import Category
from logs.services.tokens import apitoken_create
from tests import factories as f

pytestmark = pytest.mark.django_db
UTC = dt.timezone.utc


def _auth(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def gateway_token():
    return apitoken_create(customer=None, name="gateway")[1]


def test_needs_a_token(client):
    resp = client.get("/api/v1/calls")
    assert resp.status_code == 401 and resp["WWW-Authenticate"] == "Bearer"
    assert client.get("/api/v1/calls", **_auth("nba_wrong")).status_code == 401


def test_list_fields_newest_first(client, acme, acme_token):
    f.call(acme, request_id="older", created_at=dt.datetime(2026, 10, 1, 1, tzinfo=UTC))
    f.call(acme, request_id="newer", created_at=dt.datetime(2026, 10, 2, 1, tzinfo=UTC),
           category=Category.NO_IMAGE, reason="finishReason=NO_IMAGE", charged_usd=Decimal("0.05"))
    body = client.get("/api/v1/calls", **_auth(acme_token)).json()
    assert [c["request_id"] for c in body["results"]] == ["newer", "older"]
    assert body["next"] is None
    first = body["results"][0]
    assert first["created_at"] == "2026-10-02T09:00:00+08:00"
    assert first["customer"] == "acme" and first["category"] == "no_image"
    assert first["reason"] == "finishReason=NO_IMAGE" and first["charged_usd"] == "0.050000"
    for key in ("model", "token_name", "http_status"):
        assert key in first


def test_filters_as_on_the_page(client, acme, acme_token):
    f.call(acme, request_id="a", created_at=dt.datetime(2026, 9, 30, 16, 30, tzinfo=UTC))  # Oct 1 UTC+8
    f.call(acme, request_id="b", created_at=dt.datetime(2026, 10, 1, 16, 30, tzinfo=UTC),
           category=Category.RATE_LIMITED, http_status=429, token_name="batch")
    f.call(acme, request_id="c", created_at=dt.datetime(2026, 10, 3, 1, tzinfo=UTC),
           model="gemini-3.1-flash-image", category=Category.TEXT_REFUSAL)

    def ids(**params):
        resp = client.get("/api/v1/calls", params, **_auth(acme_token))
        assert resp.status_code == 200, resp.content
        return [c["request_id"] for c in resp.json()["results"]]

    assert ids(**{"from": "2026-10-01", "to": "2026-10-01"}) == ["a"]
    assert ids(**{"from": "2026-10-02"}) == ["c", "b"]
    assert ids(**{"from": "2026-10-01T00:40:00+08:00", "to": "2026-10-03T01:00:00Z"}) == ["b"]
    assert ids(failed="1") == ["c", "b"]
    assert ids(category=["rate_limited", "text_refusal"]) == ["c", "b"]
    assert ids(model="nb2") == ["c"]
    assert ids(model="gemini-3-pro-image-preview") == ["b", "a"]
    assert ids(token_name="batch") == ["b"]
    assert ids(http_status="429") == ["b"]
    assert ids(request_id="a") == ["a"]


@pytest.mark.parametrize("params,word", [
    ({"from": "yesterday"}, "from"), ({"category": "oops"}, "category"),
    ({"http_status": "x"}, "http_status"), ({"limit": "-3"}, "limit"), ({"cursor": "###"}, "cursor"),
    ({"failed": "maybe"}, "failed"),
])
def test_bad_parameters_are_400_naming_them(client, acme_token, params, word):
    resp = client.get("/api/v1/calls", params, **_auth(acme_token))
    assert resp.status_code == 400 and word in resp.json()["error"]


@pytest.mark.parametrize("params,ok", [
    ({"from": "2026-10-03", "to": "2026-10-02"}, False),
    ({"from": "2026-10-02T10:00:00Z", "to": "2026-10-02T09:00:00Z"}, False),
    ({"from": "2026-10-03T00:30:00+08:00", "to": "2026-10-02"}, False),  # after the whole day
    ({"from": "2026-10-02", "to": "2026-10-02"}, True),  # one whole day
    ({"from": "2026-10-02T23:30:00+08:00", "to": "2026-10-02"}, True),  # inside that day
    ({"from": "2026-10-02T09:00:00Z", "to": "2026-10-02T09:00:00Z"}, True),  # empty, as asked
])
def test_a_reversed_from_to_is_a_400_in_words(client, acme_token, params, ok):
    resp = client.get("/api/v1/calls", params, **_auth(acme_token))
    if ok:
        assert resp.status_code == 200
    else:
        assert resp.status_code == 400
        assert "to:" in resp.json()["error"] and "reversed" in resp.json()["error"]


def test_keyset_cursor_walks_everything(client, acme, acme_token):
    base = dt.datetime(2026, 10, 1, tzinfo=UTC)
    for i in range(7):
        f.call(acme, request_id=f"r{i}", created_at=base + dt.timedelta(minutes=i // 2))
    seen, url = [], "/api/v1/calls?limit=3&failed=0"
    pages = 0
    while url:
        body = client.get(url, **_auth(acme_token)).json()
        seen += [c["request_id"] for c in body["results"]]
        url = body["next"]
        pages += 1
        if url:
            assert url.startswith("http://testserver/api/v1/calls?") and "failed=0" in url
    assert pages == 3 and sorted(seen) == [f"r{i}" for i in range(7)] and len(set(seen)) == 7


def test_limit_default_and_cap(client, acme, acme_token):
    from logs.models import Call

    base = dt.datetime(2026, 10, 1, tzinfo=UTC)
    Call.objects.bulk_create([
        Call(customer=acme, request_id=f"bulk-{i}", created_at=base + dt.timedelta(seconds=i),
             model="gemini-3-pro-image-preview", family="pro", source="calls", category="success",
             reason="t")
        for i in range(1005)
    ])
    body = client.get("/api/v1/calls", **_auth(acme_token)).json()
    assert len(body["results"]) == 100 and body["next"]
    body = client.get("/api/v1/calls", {"limit": 5000}, **_auth(acme_token)).json()
    assert len(body["results"]) == 1000 and body["next"]


def test_one_call(client, acme, acme_token):
    f.call(acme, request_id="req/with/slash", category=Category.IMAGE_BLOCKED, http_status=200,
           response={"candidates": [{"finishReason": "IMAGE_SAFETY"}]})
    body = client.get("/api/v1/calls/req/with/slash", **_auth(acme_token)).json()
    assert body["request_id"] == "req/with/slash" and body["category"] == "image_blocked"
    assert body["covered"] is True and body["response"]["candidates"][0]["finishReason"] == "IMAGE_SAFETY"
    assert client.get("/api/v1/calls/nope", **_auth(acme_token)).status_code == 404


def test_customer_token_sees_own_only(client, acme, globex, acme_token):
    f.call(globex, request_id="theirs")
    f.call(acme, request_id="mine")
    body = client.get("/api/v1/calls", **_auth(acme_token)).json()
    assert [c["request_id"] for c in body["results"]] == ["mine"]
    assert client.get("/api/v1/calls/theirs", **_auth(acme_token)).status_code == 404
    assert client.get("/api/v1/calls", {"customer": "globex"}, **_auth(acme_token)).status_code == 404
    assert client.get("/api/v1/calls/theirs", {"customer": "globex"}, **_auth(acme_token)).status_code == 404


def test_gateway_token_sees_all_and_picks(client, acme, globex, gateway_token):
    f.call(acme, request_id="shared", charged_usd=Decimal("0.05"))
    f.call(globex, request_id="shared", charged_usd=Decimal("0.09"))
    f.call(globex, request_id="g-only")
    body = client.get("/api/v1/calls", **_auth(gateway_token)).json()
    assert {(c["customer"], c["request_id"]) for c in body["results"]} == {
        ("acme", "shared"), ("globex", "shared"), ("globex", "g-only")}
    body = client.get("/api/v1/calls", {"customer": "globex"}, **_auth(gateway_token)).json()
    assert {c["request_id"] for c in body["results"]} == {"shared", "g-only"}
    resp = client.get("/api/v1/calls/shared", **_auth(gateway_token))
    assert resp.status_code == 400 and "customer" in resp.json()["error"]
    one = client.get("/api/v1/calls/shared", {"customer": "globex"}, **_auth(gateway_token)).json()
    assert one["customer"] == "globex" and one["charged_usd"] == "0.090000"
    assert client.get("/api/v1/calls/g-only", **_auth(gateway_token)).json()["customer"] == "globex"
    assert client.get("/api/v1/calls", {"customer": "nobody"}, **_auth(gateway_token)).status_code == 404


def test_revoked_token_refused(client, acme):
    from logs.services.tokens import apitoken_revoke

    _, raw = apitoken_create(customer=acme)
    apitoken_revoke(raw_or_prefix=raw)
    assert client.get("/api/v1/calls", **_auth(raw)).status_code == 401
