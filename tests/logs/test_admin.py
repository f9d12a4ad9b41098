"""The admin changes customers and tokens through the services the commands use."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from logs.models import ApiToken, Customer
from logs.services.tokens import apitoken_create
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(f.user("root", staff=True))
    return client


def _customer_form(**values):
    return {"slug": "acme", "name": "Acme", "enrolled_from": "", "topup_factor": "1", **values}


def test_admin_refuses_a_topup_factor_below_1_as_the_command_does(admin_client):
    acme = f.customer("acme", topup_factor=Decimal("1.15"))
    url = reverse("admin:logs_customer_change", args=[acme.pk])
    resp = admin_client.post(url, _customer_form(topup_factor="0.9"))
    assert resp.status_code == 200  # the form again, with the error
    assert "the top-up discount factor is 1 or more" in resp.content.decode()
    assert Customer.objects.get(pk=acme.pk).topup_factor == Decimal("1.15")

    resp = admin_client.post(reverse("admin:logs_customer_add"),
                             _customer_form(slug="globex", topup_factor="0.5"))
    assert resp.status_code == 200 and "the top-up discount factor is 1 or more" in resp.content.decode()
    assert not Customer.objects.filter(slug="globex").exists()


def test_admin_edits_and_adds_customers(admin_client):
    acme = f.customer("acme")
    url = reverse("admin:logs_customer_change", args=[acme.pk])
    resp = admin_client.post(url, _customer_form(slug="acme-studio", name="Acme Studio",
                                                 enrolled_from="2026-05-10", topup_factor="1.15"))
    assert resp.status_code == 302
    acme.refresh_from_db()
    assert (acme.slug, acme.name, acme.enrolled_from, acme.topup_factor) == (
        "acme-studio", "Acme Studio", dt.date(2026, 5, 10), Decimal("1.15"))
    resp = admin_client.post(url, _customer_form(slug="acme-studio", name="Acme Studio"))
    assert resp.status_code == 302
    acme.refresh_from_db()
    assert acme.enrolled_from is None and acme.topup_factor == Decimal("1")

    resp = admin_client.post(reverse("admin:logs_customer_add"), _customer_form(slug="globex", name="Globex"))
    assert resp.status_code == 302
    assert Customer.objects.get(slug="globex").name == "Globex"


def test_admin_revokes_tokens(admin_client, client):
    live, raw = apitoken_create(customer=f.customer("acme"))
    other, other_raw = apitoken_create(customer=None)
    resp = admin_client.post(reverse("admin:logs_apitoken_changelist"),
                             {"action": "revoke", "_selected_action": [live.pk]}, follow=True)
    assert "Revoked 1 token(s)." in resp.content.decode()
    assert ApiToken.objects.get(pk=live.pk).revoked_at is not None
    assert ApiToken.objects.get(pk=other.pk).revoked_at is None
    client.logout()
    assert client.get("/api/v1/calls", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    assert client.get("/api/v1/calls", HTTP_AUTHORIZATION=f"Bearer {other_raw}").status_code == 200


@pytest.mark.parametrize("slug", ["two words", "<b>acme</b>", "x" * 65])
def test_admin_and_command_refuse_a_slug_formats_md_refuses(admin_client, slug):
    from io import StringIO

    from django.core.management import CommandError, call_command

    resp = admin_client.post(reverse("admin:logs_customer_add"), _customer_form(slug=slug))
    assert resp.status_code == 200 and "errorlist" in resp.content.decode()  # the form again, with the error
    with pytest.raises(CommandError, match="is not a customer slug"):
        call_command("customer", slug, stdout=StringIO())
    assert not Customer.objects.exists()
