"""Login throttling: wrong passwords lock a (username, address) pair, in words, for a while.

Each test uses usernames of its own, so no other test's logins can be locked by these."""
from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

from logs.services.tokens import apitoken_create
from tests import factories as f

pytestmark = pytest.mark.django_db
PASSWORD = "right-pass-123"
LOGIN = "/accounts/login/"


def _client(address="203.0.113.7", **meta) -> Client:
    return Client(REMOTE_ADDR=address, **meta)


def _try(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


@pytest.fixture
def locky():
    return f.user("locky", customer_obj=f.customer("lockco"), password=PASSWORD)


def test_five_wrong_passwords_lock_the_login_and_say_so(locky):
    client = _client()
    for _ in range(4):
        resp = _try(client, "locky", "wrong-guess")
        assert resp.status_code == 200
        assert "didn't match" in resp.content.decode()
    resp = _try(client, "locky", "wrong-guess")  # the fifth
    assert resp.status_code == 429
    page = resp.content.decode()
    assert "Too many failed logins for “locky” from your address" in page
    assert "locked for 15 minutes" in page
    assert 'id="id_username"' in page and "Log in to nbaudit" in page  # the login page, not a bare 403
    # the right password does not get in while the lock lasts
    resp = _try(client, "locky", PASSWORD)
    assert resp.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lock_ends_after_15_minutes(locky):
    client = _client()
    for _ in range(5):
        _try(client, "locky", "wrong-guess")
    assert _try(client, "locky", PASSWORD).status_code == 429
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16), tick=False):
        resp = _try(client, "locky", PASSWORD)
    assert resp.status_code == 302 and resp["Location"] == "/"


def test_a_try_during_the_lock_starts_the_wait_again(locky):
    client = _client()
    start = timezone.now()
    for _ in range(5):
        _try(client, "locky", "wrong-guess")
    with time_machine.travel(start + dt.timedelta(minutes=10), tick=False):
        assert _try(client, "locky", PASSWORD).status_code == 429
    with time_machine.travel(start + dt.timedelta(minutes=20), tick=False):
        assert _try(client, "locky", PASSWORD).status_code == 429  # 10 minutes after the last try
    with time_machine.travel(start + dt.timedelta(minutes=36), tick=False):
        assert _try(client, "locky", PASSWORD).status_code == 302


def test_the_lock_is_per_username_and_address(locky):
    f.user("other-user", customer_obj=locky.customer, password=PASSWORD)
    attacker = _client("198.51.100.66")
    for _ in range(6):
        _try(attacker, "locky", "wrong-guess")
    assert _try(attacker, "locky", PASSWORD).status_code == 429
    # the account's owner elsewhere still logs in, and so does another user from that address
    assert _try(_client("203.0.113.8"), "locky", PASSWORD).status_code == 302
    assert _try(attacker, "other-user", PASSWORD).status_code == 302


def test_a_good_login_clears_the_count(locky):
    client = _client()
    for _ in range(4):
        _try(client, "locky", "wrong-guess")
    assert _try(client, "locky", PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    for _ in range(4):
        assert _try(client, "locky", "wrong-guess").status_code == 200
    assert _try(client, "locky", PASSWORD).status_code == 302


def test_a_flood_of_wrong_passwords_is_refused_after_the_fifth(locky):
    client = _client()
    codes = [_try(client, "locky", f"guess-{i}").status_code for i in range(30)]
    assert codes[:4] == [200] * 4
    assert set(codes[4:]) == {429}


def test_staff_see_and_clear_the_lock_in_the_admin(locky):
    client = _client()
    for _ in range(5):
        _try(client, "locky", "wrong-guess")
    staff = _client("192.0.2.1")
    staff.force_login(f.user("lock-admin", staff=True))
    page = staff.get("/admin/axes/accessattempt/?locked_out=yes")
    assert page.status_code == 200
    assert "locky" in page.content.decode() and "203.0.113.7" in page.content.decode()
    attempt = AccessAttempt.objects.get(username="locky")
    resp = staff.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert resp.status_code == 302
    assert _try(client, "locky", PASSWORD).status_code == 302


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(settings, locky):
    settings.NBAUDIT_PROXY_COUNT = 1
    # the client sends a forged X-Forwarded-For; the proxy appends the real address
    for forged in range(5):
        client = _client("10.0.0.2", HTTP_X_FORWARDED_FOR=f"192.0.2.{forged}, 198.51.100.9")
        _try(client, "locky", "wrong-guess")
    assert AccessAttempt.objects.get(username="locky").ip_address == "198.51.100.9"
    assert _try(client, "locky", PASSWORD).status_code == 429
    # another client behind the same proxy is not locked
    other = _client("10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.10")
    assert _try(other, "locky", PASSWORD).status_code == 302


def test_api_tokens_are_not_logins():
    acme = f.customer("tokenco")
    raw = apitoken_create(customer=acme, name="bot")[1]
    client = _client()
    for _ in range(10):
        assert client.get("/api/v1/calls", HTTP_AUTHORIZATION="Bearer nba_wrong").status_code == 401
    assert client.get("/api/v1/calls", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    assert not AccessAttempt.objects.exists()


def test_the_test_clients_login_is_not_counted(locky):
    client = Client()
    for _ in range(6):
        assert client.login(username="locky", password="wrong-guess") is False
    assert client.login(username="locky", password=PASSWORD) is True
