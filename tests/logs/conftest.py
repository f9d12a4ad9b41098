"""Fixtures shared by the tests of logs (on top of tests/conftest.py): acme's API token."""
from __future__ import annotations

import pytest


@pytest.fixture
def acme_token(acme):
    """The raw bearer token of an API token of acme."""
    from logs.services.tokens import apitoken_create

    return apitoken_create(customer=acme, name="acme-bot")[1]
