"""API tokens in the UI: staff make and revoke gateway and customer tokens; a customer's user
makes and revokes its own read tokens; a token's value is shown once; tenancy."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse

from logs.models import ApiToken
from logs.services.tokens import apitoken_create
from tests import factories as f

pytestmark = pytest.mark.django_db


def _shown(html: str) -> str | None:
    m = re.search(r'id="new-token-value" value="(nba_[^"]+)"', html)
    return m.group(1) if m else None


def test_customer_makes_a_read_token_shown_once_that_reads_but_cannot_push(client, alice, acme, globex):
    client.force_login(alice)
    r = client.post(reverse("logs:tokens"), {"name": "nightly report"}, follow=True)
    raw = _shown(r.content.decode())
    assert raw
    token = ApiToken.objects.get()
    assert token.customer == acme and token.read_only and token.name == "nightly report"
    assert _shown(client.get(reverse("logs:tokens")).content.decode()) is None  # only once
    api = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert client.get("/api/v1/calls", **api).status_code == 200
    r = client.post("/api/v1/calls", data=b"[]", content_type="application/json", **api)
    assert r.status_code == 403 and "reading only" in r.json()["error"]


def test_customer_sees_only_its_own_tokens_and_revokes_its_read_tokens(client, alice, acme, globex):
    # names with a space: a random CSRF token on the page (letters and digits) never holds one
    mine, _ = apitoken_create(customer=acme, name="mine report", read_only=True)
    push, _ = apitoken_create(customer=acme, name="push feed")
    theirs, _ = apitoken_create(customer=globex, name="theirs report", read_only=True)
    gateway, _ = apitoken_create(customer=None, name="gw shared")
    client.force_login(alice)
    html = client.get(reverse("logs:tokens")).content.decode()
    assert "mine report" in html and "push feed" in html
    assert "theirs report" not in html and "gw shared" not in html
    assert client.post(reverse("logs:token_revoke", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("logs:token_revoke", args=[gateway.pk])).status_code == 404
    assert client.post(reverse("logs:token_revoke", args=[push.pk])).status_code == 404  # staff's to revoke
    assert client.post(reverse("logs:token_revoke", args=[mine.pk])).status_code == 302
    mine.refresh_from_db(), theirs.refresh_from_db(), push.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None and push.revoked_at is None


def test_staff_make_gateway_and_customer_tokens_and_revoke_them(staff_client, acme):
    r = staff_client.post(reverse("logs:tokens"), {"owner": "__gateway__", "kind": "push", "name": "gw"}, follow=True)
    raw = _shown(r.content.decode())
    gw = ApiToken.objects.get(name="gw")
    assert gw.customer is None and not gw.read_only
    f.call(acme, request_id="x-1")
    assert staff_client.get("/api/v1/calls", HTTP_AUTHORIZATION=f"Bearer {raw}").json()["results"]
    staff_client.post(reverse("logs:tokens"), {"owner": "acme", "kind": "read", "name": "ro"})
    assert ApiToken.objects.get(name="ro").read_only
    r = staff_client.post(reverse("logs:tokens"), {"owner": "__gateway__", "kind": "read", "name": "bad"})
    assert r.status_code == 400 and "gateway token pushes" in r.content.decode()
    assert staff_client.post(reverse("logs:token_revoke", args=[gw.pk])).status_code == 302
    assert staff_client.get("/api/v1/calls", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_apitoken_command_makes_a_read_only_token(capsys, client, acme):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    call_command("apitoken", "--customer", "acme", "--read-only", "--name", "bi")
    raw = capsys.readouterr().out.strip().splitlines()[-1]
    assert ApiToken.objects.get(name="bi").read_only
    assert client.post("/api/v1/calls", data=b"[]", content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 403
    with pytest.raises(CommandError, match="needs --customer"):
        call_command("apitoken", "--gateway", "--read-only")
