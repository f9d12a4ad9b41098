"""Fixtures shared by the tests of logs: two customers, a customer's user and staff (logged in), a token."""
from __future__ import annotations

import pytest

from tests import factories as f


@pytest.fixture
def acme():
    return f.customer("acme")


@pytest.fixture
def globex():
    return f.customer("globex")


@pytest.fixture
def alice(client, acme):
    u = f.user("alice", customer_obj=acme)
    client.force_login(u)
    return u


@pytest.fixture
def staff(client):
    u = f.user("sam", staff=True)
    client.force_login(u)
    return u


@pytest.fixture
def acme_token(acme):
    from logs.api.auth import apitoken_create

    return apitoken_create(customer=acme, name="acme-bot")[1]
