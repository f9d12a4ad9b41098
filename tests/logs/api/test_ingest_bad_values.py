"""POST /api/v1/calls with one bad envelope between two good ones, for every class of bad value.

What the caller checks: the answer is JSON (never an HTML 500), both good calls are stored,
and the bad one is rejected with its line (or array position) and a reason that names what
is wrong. The bad envelopes are those of formats.md, "What makes a row bad" and "Values that
parse but cannot be true", each written as raw JSON text (so NaN, 1e400, deep nesting and
lone surrogates reach the server as a client would send them).
"""
import datetime as dt
import json

import pytest

from logs.models import Call, IngestBatch
from logs.services.tokens import apitoken_create

pytestmark = pytest.mark.django_db

PRO = "gemini-3-pro-image-preview"
OK_RESPONSE = {"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "image/png", "data": "aGk="}}]},
                               "finishReason": "STOP"}]}


def _good(rid):
    return json.dumps({"request_id": rid, "created_at": "2026-10-03T09:00:00+08:00", "customer": "acme",
                       "model": PRO, "http_status": 200, "response": OK_RESPONSE})


def _with(**fields):
    """An envelope that is good but for `fields`, as JSON text."""
    env = {"request_id": "bad-1", "created_at": "2026-10-03T09:00:00+08:00", "customer": "acme", "model": PRO,
           "http_status": 200, "response": OK_RESPONSE}
    for key, value in fields.items():
        if value is _ABSENT:
            env.pop(key, None)
        else:
            env[key] = value
    return json.dumps(env)


def _raw(field, text):
    """An envelope whose `field` is the raw JSON `text` (NaN, 1e400, ...)."""
    return _with(**{field: "@@RAW@@"}).replace('"@@RAW@@"', text)


def _nested(levels):
    return "[" * levels + "]" * levels


_ABSENT = object()
_FUTURE = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)).isoformat()

# (id, bad envelope as JSON text, a word the reason must hold)
CASES = [
    # the line itself
    ("not-json", "{not json", "invalid JSON"),
    ("truncated", '{"request_id": "bad-1", "created_at": ', "invalid JSON"),
    ("trailing-garbage", _with() + " x", "invalid JSON"),
    ("array-not-object", "[1, 2]", "JSON object"),
    ("string-not-object", '"hello"', "JSON object"),
    ("number-not-object", "42", "JSON object"),
    ("null-not-object", "null", "JSON object"),
    ("nested-1000", _raw("response", _nested(1000)), "nested deeper"),
    ("nested-101", _raw("response", _nested(101)), "nested deeper"),
    ("nested-objects-150", _raw("response", '{"a":' * 150 + "1" + "}" * 150), "nested deeper"),
    ("nan-in-response", _raw("response", '{"x": NaN}'), "not finite"),
    ("infinity-in-response", _raw("response", '{"x": Infinity}'), "not finite"),
    ("minus-infinity-in-response", _raw("response", '[-Infinity]'), "not finite"),
    ("float-overflow-in-response", _raw("response", '{"x": 1e400}'), "not finite"),
    ("int-5000-digits-in-response", _raw("response", "9" * 5000), "number"),
    ("lone-surrogate-in-response", _raw("response", '{"text": "\\ud800"}'), "not valid text"),
    ("lone-low-surrogate-in-response", _raw("response", '["\\udfff x"]'), "not valid text"),
    ("lone-surrogate-key", _raw("response", '{"\\udc00": 1}'), "not valid text"),
    ("lone-surrogate-prompt", _raw("prompt", '"a cat \\ud83d"'), "not valid text"),
    ("lone-surrogate-error", _raw("error", '"timeout \\udbff"'), "not valid text"),
    # request_id
    ("request-id-missing", _with(request_id=_ABSENT), "request_id"),
    ("request-id-null", _with(request_id=None), "request_id"),
    ("request-id-empty", _with(request_id=""), "request_id"),
    ("request-id-blank", _with(request_id="   "), "request_id"),
    ("request-id-201", _with(request_id="r" * 201), "request_id"),
    ("request-id-5000", _with(request_id="r" * 5000), "request_id"),
    ("request-id-true", _with(request_id=True), "request_id"),
    ("request-id-list", _with(request_id=["a"]), "request_id"),
    ("request-id-object", _with(request_id={"a": 1}), "request_id"),
    ("request-id-surrogate", _raw("request_id", '"abc\\ud800"'), "not valid text"),
    ("request-id-int-5000-digits", _raw("request_id", "7" * 5000), "number"),
    ("request-id-int-300-digits", _raw("request_id", "7" * 300), "request_id"),
    # created_at
    ("time-missing", _with(created_at=_ABSENT), "created_at"),
    ("time-null", _with(created_at=None), "created_at"),
    ("time-empty", _with(created_at=""), "created_at"),
    ("time-words", _with(created_at="yesterday"), "created_at"),
    ("time-bad-month", _with(created_at="2026-13-45T25:00:00"), "created_at"),
    ("time-year-1", _with(created_at="0001-01-01T00:00:00"), "created_at"),
    ("time-year-1-utc", _with(created_at="0001-01-01T00:00:00+00:00"), "created_at"),
    ("time-year-1-offset", _with(created_at="0001-01-01T00:00:00+14:00"), "created_at"),
    ("time-year-9999", _with(created_at="9999-12-31T23:59:59"), "created_at"),
    ("time-year-9999-offset", _with(created_at="9999-12-31T23:59:59-14:00"), "created_at"),
    ("time-2019", _with(created_at="2019-12-31T23:59:59+00:00"), "2020"),
    ("time-1970", _with(created_at=0), "2020"),
    ("time-negative-seconds", _with(created_at=-1), "2020"),
    ("time-future", _with(created_at=_FUTURE), "ahead"),
    ("time-2099", _with(created_at="2099-01-01T00:00:00Z"), "ahead"),
    ("time-seconds-1e20", _with(created_at=1e20), "created_at"),
    ("time-seconds-huge-int", _with(created_at=10**30), "created_at"),
    ("time-seconds-string-huge", _with(created_at="99999999999999999999"), "created_at"),
    ("time-nan", _raw("created_at", "NaN"), "not finite"),
    ("time-infinity", _raw("created_at", "Infinity"), "not finite"),
    ("time-true", _with(created_at=True), "created_at"),
    ("time-list", _with(created_at=[2026]), "created_at"),
    ("time-long-string", _with(created_at="2026-10-03T09:00:00" + "0" * 500), "created_at"),
    # customer
    ("customer-other", _with(customer="globex"), "customer"),
    # model
    ("model-missing", _with(model=_ABSENT), "model"),
    ("model-empty", _with(model=""), "model"),
    ("model-number", _with(model=5), "model"),
    ("model-list", _with(model=["m"]), "model"),
    ("model-201", _with(model="m" * 201), "model"),
    ("model-surrogate", _raw("model", '"gemini\\udc80"'), "not valid text"),
    # http_status
    ("status-99999", _with(http_status=99999), "http_status"),
    ("status-600", _with(http_status=600), "http_status"),
    ("status-42", _with(http_status=42), "http_status"),
    ("status-negative", _with(http_status=-1), "http_status"),
    ("status-2-63", _with(http_status=2**63), "http_status"),
    ("status-2-64", _with(http_status=2**64), "http_status"),
    ("status-float", _with(http_status=200.5), "http_status"),
    ("status-float-big", _with(http_status=1e300), "http_status"),
    ("status-words", _with(http_status="abc"), "http_status"),
    ("status-true", _with(http_status=True), "http_status"),
    ("status-string-1e400", _with(http_status="1e400"), "http_status"),
    ("status-string-1e999999999", _with(http_status="1e999999999"), "http_status"),
    ("status-nan", _raw("http_status", "NaN"), "not finite"),
    # latency_ms
    ("latency-1e12", _with(latency_ms=10**12), "latency_ms"),
    ("latency-2-31", _with(latency_ms=2**31), "latency_ms"),
    ("latency-negative", _with(latency_ms=-5), "latency_ms"),
    ("latency-2-63", _with(latency_ms=2**63), "latency_ms"),
    ("latency-words", _with(latency_ms="slow"), "latency_ms"),
    ("latency-fraction", _with(latency_ms=1.5), "latency_ms"),
    ("latency-infinity", _raw("latency_ms", "Infinity"), "not finite"),
    # charged_usd
    ("charged-1e30", _with(charged_usd="1e30"), "charged_usd"),
    ("charged-1e30-number", _raw("charged_usd", "1e30"), "charged_usd"),
    ("charged-over-a-million", _with(charged_usd="1000000.000001"), "charged_usd"),
    ("charged-negative", _with(charged_usd="-0.05"), "charged_usd"),
    ("charged-negative-dollar", _with(charged_usd="$-1"), "charged_usd"),
    ("charged-infinity-string", _with(charged_usd="Infinity"), "charged_usd"),
    ("charged-nan-string", _with(charged_usd="NaN"), "charged_usd"),
    ("charged-snan-string", _with(charged_usd="sNaN"), "charged_usd"),
    ("charged-nan", _raw("charged_usd", "NaN"), "not finite"),
    ("charged-infinity", _raw("charged_usd", "Infinity"), "not finite"),
    ("charged-float-overflow", _raw("charged_usd", "1e400"), "not finite"),
    ("charged-exponent-huge", _with(charged_usd="1e999999999"), "charged_usd"),
    ("charged-words", _with(charged_usd="lots"), "charged_usd"),
    ("charged-true", _with(charged_usd=True), "charged_usd"),
    ("charged-list", _with(charged_usd=[1]), "charged_usd"),
    ("charged-long-digits", _with(charged_usd="1" * 100), "charged_usd"),
    # quota
    ("quota-1e30", _with(quota="1e30"), "quota"),
    ("quota-over-a-million-dollars", _with(quota=500_000 * 1_000_000 + 1), "quota"),
    ("quota-negative", _with(quota=-1), "quota"),
    ("quota-words", _with(quota="abc"), "quota"),
    ("quota-infinity", _raw("quota", "Infinity"), "not finite"),
    # group_ratio
    ("ratio-1001", _with(group_ratio=1001), "group_ratio"),
    ("ratio-1e7", _with(group_ratio="1e7"), "group_ratio"),
    ("ratio-negative", _with(group_ratio=-1), "group_ratio"),
    ("ratio-1e30", _with(group_ratio="1e30"), "group_ratio"),
    ("ratio-nan-string", _with(group_ratio="NaN"), "group_ratio"),
    ("ratio-words", _with(group_ratio="abc"), "group_ratio"),
    ("ratio-true", _with(group_ratio=True), "group_ratio"),
    ("ratio-nan", _raw("group_ratio", "NaN"), "not finite"),
    # free text longer than its column
    ("token-name-201", _with(token_name="t" * 201), "token_name"),
    ("route-65", _with(route="r" * 65), "route"),
    ("image-size-33", _with(image_size="4" * 33), "image_size"),
    # counts read from the response's usage block
    ("usage-prompt-3e9", _with(response={"usageMetadata": {"promptTokenCount": 3_000_000_000}}), "tokens"),
    ("usage-output-2-63", _with(response={"usageMetadata": {"candidatesTokenCount": 2**63}}), "tokens"),
    ("usage-total-2-64", _with(response={"usageMetadata": {"totalTokenCount": 2**64}}), "tokens"),
    ("usage-openai-3e9", _with(model="gpt-image-1", response={"object": "chat.completion", "choices": [],
                                                              "usage": {"completion_tokens": 3_000_000_000}}),
     "tokens"),
]


# In a JSON array a broken syntax leaves no element boundaries to go on by: the body is refused
# whole, in words, with where it breaks (an NDJSON line costs only itself).
SYNTAX = {"not-json", "truncated", "trailing-garbage"}


def _body(bad, form):
    good1, good2 = _good("good-1"), _good("good-2")
    if form == "ndjson":
        return "\n".join([good1, bad, good2]), "application/x-ndjson"
    return "[" + ",\n".join([good1, bad, good2]) + "]", "application/json"


@pytest.fixture
def customer_token():
    from tests import factories

    _, raw = apitoken_create(customer=factories.customer("acme"))
    return raw


@pytest.mark.parametrize("form", ["ndjson", "array"])
@pytest.mark.parametrize("case, bad, word", CASES, ids=[c[0] for c in CASES])
def test_one_bad_envelope_costs_only_itself(client, customer_token, case, bad, word, form):
    body, content_type = _body(bad, form)
    resp = client.post("/api/v1/calls", data=body, content_type=content_type,
                       HTTP_AUTHORIZATION=f"Bearer {customer_token}")
    assert resp["Content-Type"].startswith("application/json")
    if form == "array" and case in SYNTAX:
        assert resp.status_code == 400 and "the JSON array does not parse" in resp.json()["error"]
        assert not Call.objects.exists()
        return
    assert resp.status_code == 200, resp.content[:500]
    summary = resp.json()
    assert summary["inserted"] == 2
    assert set(Call.objects.values_list("request_id", flat=True)) == {"good-1", "good-2"}
    assert len(summary["rejected"]) == 1, summary["rejected"]
    rejected = summary["rejected"][0]
    assert rejected["line"] == 2
    assert word.lower() in rejected["reason"].lower(), rejected["reason"]
    assert summary["rows"] == 3


SLUG_CASES = [
    ("slug-65", "a" * 65, "customer"),
    ("slug-300", "a" * 300, "customer"),
    ("slug-markup", "<script>alert(1)</script>", "customer"),
    ("slug-space", "acme corp", "customer"),
    ("slug-slash", "acme/../x", "customer"),
    ("slug-non-ascii", "客户", "customer"),
    ("slug-surrogate", "\ud800", "not valid text"),
]


@pytest.mark.parametrize("case, slug, word", SLUG_CASES, ids=[c[0] for c in SLUG_CASES])
def test_a_customer_slug_from_the_data_is_checked(client, case, slug, word):
    _, raw = apitoken_create(customer=None)
    bad = json.loads(_good("bad-1"))
    bad["customer"] = slug
    body = "\n".join([_good("good-1"), json.dumps(bad), _good("good-2")])
    resp = client.post("/api/v1/calls", data=body, content_type="application/x-ndjson",
                       HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert resp.status_code == 200
    summary = resp.json()
    assert summary["inserted"] == 2 and summary["customers_created"] == ["acme"]
    assert [r["line"] for r in summary["rejected"]] == [2]
    assert word in summary["rejected"][0]["reason"]


def test_an_unexpected_error_is_answered_in_json(client, customer_token, monkeypatch):
    import logs.services.ingest as ingest

    def boom(self, records):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(ingest._Run, "apply", boom)
    resp = client.post("/api/v1/calls", data=_good("good-1"), content_type="application/x-ndjson",
                       HTTP_AUTHORIZATION=f"Bearer {customer_token}")
    assert resp.status_code == 500 and resp["Content-Type"].startswith("application/json")
    answer = resp.json()
    assert "unexpected error" in answer["error"] and "secret" not in answer["error"]
    assert IngestBatch.objects.get(pk=answer["batch"]).status == "failed"


def test_a_body_too_deep_to_count_is_answered_in_json(client, customer_token):
    body = "[" + _good("good-1") + "," + _nested(5000) + "]"
    resp = client.post("/api/v1/calls", data=body, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {customer_token}")
    assert resp.status_code == 200
    summary = resp.json()
    assert summary["inserted"] == 1 and [r["line"] for r in summary["rejected"]] == [2]
