"""The Overview's cache: the same figures as without it, and never older than the last ingest."""
import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from logs.scoping import SESSION_KEY
from logs.services.ingest import calls_ingest
from tests import factories
from tests.logs.rollups.helpers import export, export_rows

pytestmark = pytest.mark.django_db
ROLLUP_TABLE = re.compile(r'"logs_[a-z]*rollup"')
NOCACHE = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
URLS = ["/", "/?range=7d", "/?range=today", "/?range=&model=pro", "/?range=&token_name=batch"]


def _recent(n: int, *, offset: int = 0, user: str = "acme") -> bytes:
    """n calls within the last hours, in Beijing time as exports write it."""
    start = (dt.datetime.now(dt.timezone(dt.timedelta(hours=8))) - dt.timedelta(hours=20)).replace(tzinfo=None)
    return export(export_rows(n, start=start, step_s=20 * 3600 // (n + offset + 1), offset=offset, user=user))


def _shown(resp) -> dict:
    return {"totals": resp.context["totals"], "share": resp.context["share"], "figures": resp.context["figures"]}


def _rollup_reads(ctx) -> int:
    """Sums read from any rollup table (fine, coarse, daily, all customers)."""
    return len([q for q in ctx.captured_queries if "SUM(" in q["sql"] and ROLLUP_TABLE.search(q["sql"])])


@pytest.fixture
def alice(client):
    acme = factories.customer("acme")
    u = factories.user("alice", customer_obj=acme)
    client.force_login(u)
    return u


def test_cached_figures_are_the_uncached_ones(client, alice, settings):
    calls_ingest(source=_recent(300))
    settings.CACHES = NOCACHE
    uncached = {url: _shown(client.get(url)) for url in URLS}
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "overview-test"}}
    first = {url: _shown(client.get(url)) for url in URLS}
    with CaptureQueriesContext(connection) as ctx:
        second = {url: _shown(client.get(url)) for url in URLS}
    assert first == uncached and second == uncached
    assert uncached["/"]["totals"]["calls"] == 300
    assert _rollup_reads(ctx) == 0  # served from the cache


def test_an_ingest_shows_at_once(client, alice):
    calls_ingest(source=_recent(100))
    assert client.get("/").context["totals"]["calls"] == 100
    assert client.get("/?range=today").status_code == 200
    calls_ingest(source=_recent(50, offset=100))
    assert client.get("/").context["totals"]["calls"] == 150
    calls_ingest(source=_recent(50, offset=100))  # duplicates: same figures, from the cache
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/").context["totals"]["calls"] == 150
    assert _rollup_reads(ctx) == 0


def test_staff_all_customers_follow_any_customer(client):
    client.force_login(factories.user("sam", staff=True))
    calls_ingest(source=_recent(40))
    assert client.get("/").context["totals"]["calls"] == 40
    calls_ingest(source=_recent(30, user="globex"))  # a new customer
    assert client.get("/").context["totals"]["calls"] == 70
    globex = factories.customer("globex")
    session = client.session
    session[SESSION_KEY] = globex.pk
    session.save()
    assert client.get("/").context["totals"]["calls"] == 30
    calls_ingest(source=_recent(5, offset=30, user="globex"))
    assert client.get("/").context["totals"]["calls"] == 35


def test_customers_never_share_entries(client, alice):
    """Same filters, another customer: another key (the query names the customer)."""
    calls_ingest(source=_recent(20))
    calls_ingest(source=_recent(7, user="globex"))
    assert client.get("/").context["totals"]["calls"] == 20
    client.force_login(factories.user("gina", customer_obj=factories.customer("globex")))
    assert client.get("/").context["totals"]["calls"] == 7
