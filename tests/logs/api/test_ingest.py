"""POST /api/v1/calls and the `apitoken` command."""
import json

import pytest
from django.core.management import call_command

from logs.models import ApiToken, Call, IngestBatch
from logs.services.tokens import apitoken_create
from tests import factories

pytestmark = pytest.mark.django_db


def _env(rid, customer=None, **kw):
    e = {"request_id": rid, "created_at": "2026-10-03T09:00:00+08:00", "model": "gemini-3-pro-image-preview",
         "http_status": 429, "response": {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}}
    if customer:
        e["customer"] = customer
    e.update(kw)
    return e


def _post(client, raw, body, content_type="application/json"):
    return client.post("/api/v1/calls", data=body, content_type=content_type, HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_no_or_bad_token_is_401(client):
    assert client.post("/api/v1/calls", data="[]", content_type="application/json").status_code == 401
    assert _post(client, "nba_wrong", "[]").status_code == 401


def test_customer_token_ingests_ndjson_and_rejects_another_customer(client):
    acme, other = factories.customer("acme"), factories.customer("globex")
    _, raw = apitoken_create(customer=acme)
    body = "\n".join(json.dumps(e) for e in [_env("r1"), _env("r2", "acme"), _env("r3", "globex")])
    resp = _post(client, raw, body, "application/x-ndjson")
    assert resp.status_code == 200
    s = resp.json()
    assert s["inserted"] == 2 and s["categories"] == {"rate_limited": 2}
    assert s["rejected"] == [{"line": 3, "reason": "the envelope names customer 'globex', but this import is for 'acme'"}]
    assert not Call.objects.filter(customer=other).exists()
    assert IngestBatch.objects.get().origin == "api"


def test_gateway_token_takes_customers_from_envelopes(client):
    _, raw = apitoken_create(customer=None)
    resp = _post(client, raw, json.dumps([_env("g1", "acme"), _env("g2", "newco")]))
    assert resp.status_code == 200
    assert resp.json()["customers_created"] == ["acme", "newco"]
    again = _post(client, raw, json.dumps([_env("g1", "acme")])).json()
    assert again["inserted"] == 0 and again["duplicates"] == 1


def test_limits_answer_with_the_limit(client, settings):
    _, raw = apitoken_create(customer=factories.customer("acme"))
    settings.NBAUDIT_API_MAX_ENVELOPES = 3
    resp = _post(client, raw, json.dumps([_env(f"x{i}") for i in range(4)]))
    assert resp.status_code == 400 and "limit of 3" in resp.json()["error"]
    settings.NBAUDIT_API_MAX_BYTES = 100
    resp = _post(client, raw, json.dumps([_env("y")]))
    assert resp.status_code == 413 and "100 bytes" in resp.json()["error"]
    assert Call.objects.count() == 0


def test_ten_thousand_one_envelopes_is_400(client):
    _, raw = apitoken_create(customer=factories.customer("acme"))
    body = "\n".join(json.dumps({"request_id": str(i)}) for i in range(10_001))
    resp = _post(client, raw, body, "application/x-ndjson")
    assert resp.status_code == 400 and "10000" in resp.json()["error"]


def test_not_json_is_400_with_a_message(client):
    _, raw = apitoken_create(customer=factories.customer("acme"))
    resp = _post(client, raw, "Time,Type\n2026-10-01,consume\n", "text/csv")
    assert resp.status_code == 400 and "declared format 'calls'" in resp.json()["error"]


def test_revoked_token_is_refused(client):
    _, raw = apitoken_create(customer=factories.customer("acme"))
    call_command("apitoken", "--revoke", raw)
    assert _post(client, raw, "[]").status_code == 401


def test_apitoken_command_prints_the_token_once_on_the_last_line(capsys, client):
    factories.customer("acme")
    call_command("apitoken", "--customer", "acme")
    raw = capsys.readouterr().out.strip().splitlines()[-1]
    tok = ApiToken.objects.get()
    assert raw.startswith("nba_") and raw not in tok.key_hash and tok.customer.slug == "acme"
    assert _post(client, raw, json.dumps([_env("z1")])).status_code == 200


def test_upload_page_is_staff_only_and_ingests(client, fixtures_dir, django_capture_on_commit_callbacks):
    staff = factories.user("boss", staff=True)
    cust_user = factories.user("ann", customer_obj=factories.customer("acme"))
    client.force_login(cust_user)
    assert client.get("/ingest/").status_code in (302, 403)
    client.force_login(staff)
    with open(fixtures_dir / "gateway_export_zh.csv", "rb") as fh, \
            django_capture_on_commit_callbacks(execute=True):
        resp = client.post("/ingest/", {"file": fh, "format": "auto", "tz": "Asia/Shanghai"})
    assert resp.status_code == 302
    batch = IngestBatch.objects.get()
    assert batch.status == "done" and batch.inserted == 13
    page = client.get(resp["Location"]).content.decode()
    assert "Rejected lines" in page and "2026-13-45 25:00:00" in page
