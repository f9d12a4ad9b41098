"""The Overview computed ahead after an ingest, and what a page load reads."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from logs.services.ingest import calls_ingest
from tests import factories
from tests.logs.rollups.test_cache import NOCACHE, _recent, _rollup_reads, _shown

pytestmark = pytest.mark.django_db
LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "warm-test"}}
# Reads: session, user, customer, facets (2), rollup version, the rollup sums (3 on SQLite, 4 on
# PostgreSQL, one more for staff), the unread-notification count (transaction statements aside),
# and billing's month-to-date estimate panel uncached (its overrides, rollup sums and tally: 3).
MAX_QUERIES = 14


@pytest.fixture
def locmem(settings):
    """A cache of the test's own, empty (a locmem cache lives on between tests by its LOCATION)."""
    from django.core.cache import cache

    settings.CACHES = LOCMEM
    cache.clear()


@pytest.fixture
def people():
    acme, globex = factories.customer("acme"), factories.customer("globex")
    alice = factories.user("alice", customer_obj=acme)
    berta = factories.user("berta", customer_obj=acme)
    berta.time_zone = "Europe/Berlin"
    berta.save()
    gina = factories.user("gina", customer_obj=globex)
    sam = factories.user("sam", staff=True)
    return {"alice": alice, "berta": berta, "gina": gina, "sam": sam}


def _uncached(client, user, settings, url="/"):
    old = settings.CACHES
    settings.CACHES = NOCACHE
    client.force_login(user)
    shown = _shown(client.get(url))
    settings.CACHES = old
    return shown


def test_an_ingest_warms_its_customers_and_staff_default_overview(client, people, settings, locmem,
                                                                    django_capture_on_commit_callbacks):
    settings.NBAUDIT_OVERVIEW_WARM = True
    with django_capture_on_commit_callbacks(execute=True):
        calls_ingest(source=_recent(120))
    for name in ("alice", "berta", "sam"):  # each zone of acme's users, and staff's all customers
        for url in ("/", "/?range=7d", "/?range=today"):
            client.force_login(people[name])
            with CaptureQueriesContext(connection) as ctx:
                shown = _shown(client.get(url))
            assert _rollup_reads(ctx) == 0, (name, url)
            assert shown == _uncached(client, people[name], settings, url), (name, url)
    client.force_login(people["alice"])
    assert client.get("/").context["totals"]["calls"] == 120
    with CaptureQueriesContext(connection) as ctx:  # a filter no one computed ahead: read on demand
        client.get("/?range=30d&model=pro")
    assert _rollup_reads(ctx) > 0
    client.force_login(people["gina"])  # another customer: its own (empty) figures, never acme's
    assert client.get("/").context["totals"]["calls"] == 0


def test_warming_off_leaves_the_first_visit_to_compute(client, people, settings, locmem,
                                                        django_capture_on_commit_callbacks):
    settings.NBAUDIT_OVERVIEW_WARM = False
    with django_capture_on_commit_callbacks(execute=True):
        calls_ingest(source=_recent(30))
    client.force_login(people["alice"])
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/").context["totals"]["calls"] == 30
    assert _rollup_reads(ctx) > 0


@pytest.mark.parametrize("who", ["alice", "sam"])
@pytest.mark.parametrize("url", ["/", "/?range=today", "/?range=7d&model=pro"])
def test_an_overview_reads_rollups_only_in_a_few_queries(client, people, settings, who, url):
    settings.CACHES = NOCACHE
    calls_ingest(source=_recent(200))
    calls_ingest(source=_recent(20, user="globex"))
    client.force_login(people[who])
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(url)
    assert resp.status_code == 200
    assert url != "/" or resp.context["totals"]["calls"] > 0
    sqls = [q["sql"] for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert not [s for s in sqls if '"logs_call"' in s]
    # Staff's Overview also ranks the customers (billing's panel): uncached, its month-to-date
    # estimate reads 3 small rows per customer with calls (version, overrides, tally) beside its
    # 5 shared reads; cached (as served), it is 3 queries whatever the number of customers. On
    # PostgreSQL staff pages also look at the call table's partitions (3 catalog reads, cached
    # 10 minutes when served). Staff's "all customers" sums come in two parts, each read apart
    # (in one snapshot): the all-customers rollups and the coarse rows of the hours marked since
    # the last fold, so 4 more reads (its 3 sums and the failures by channel); over whole days
    # in three (the daily rows, less the marked hours' all-customers rows, plus their coarse
    # ones), so 8 more.
    parts = 4 if url == "/?range=today" else 8
    bound = MAX_QUERIES + (5 + 3 * 2 + (3 if connection.vendor == "postgresql" else 0) + parts if who == "sam" else 0)
    assert len(sqls) <= bound, "\n".join(s[:160] for s in sqls)


def test_a_new_database_never_reads_the_figures_of_the_old_one(client, people, locmem):
    from django.core.management import call_command

    calls_ingest(source=_recent(25))
    client.force_login(people["alice"])
    assert client.get("/").context["totals"]["calls"] == 25
    call_command("migrate", verbosity=0)  # as a fresh database would be: the cached figures go
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/").context["totals"]["calls"] == 25
    assert _rollup_reads(ctx) > 0
