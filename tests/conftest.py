"""Shared test set-up: service skips, the frozen clock, eager Celery, and the fixtures most tests use."""
import json
import os
import shutil
import socket
from pathlib import Path

import pytest
from django.db import connection
from hypothesis import settings as hypothesis_settings

from tests import FIXTURES, factories


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


_clock = None

# Property tests (hypothesis) draw new examples on every run here; in CI (CI=true) the examples are
# the same on every run, so that a landing never depends on the draw. Bounds are per test.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


def pytest_sessionstart(session):
    """NBAUDIT_TEST_NOW=2027-01-01T00:05:00+08:00 runs the whole suite on that date (the clock ticks
    on from there): CI runs it on a month's first and last minutes and on 29 February."""
    global _clock
    when = os.environ.get("NBAUDIT_TEST_NOW")
    if when:
        import datetime as dt

        import time_machine

        _clock = time_machine.travel(dt.datetime.fromisoformat(when), tick=True)
        _clock.start()


def pytest_report_header(config):
    if os.environ.get("NBAUDIT_TEST_NOW"):
        return f"clock: NBAUDIT_TEST_NOW={os.environ['NBAUDIT_TEST_NOW']}"
    return None


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    on_pg = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    broker = os.environ.get("CELERY_BROKER_URL", "")
    redis_ok = broker.startswith("redis://") and _port_open("127.0.0.1", 6379)
    chromium = shutil.which("chromium") or os.path.exists("/usr/bin/chromium")
    try:
        import playwright  # noqa: F401
        have_pw = True
    except ImportError:
        have_pw = False
    for item in items:
        if "postgres" in item.keywords and not on_pg:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL"))
        if ("redis" in item.keywords or "worker" in item.keywords) and not redis_ok:
            item.add_marker(pytest.mark.skip(reason="needs Redis: set CELERY_BROKER_URL=redis://..."))
        if "browser" in item.keywords and not (chromium and have_pw):
            item.add_marker(pytest.mark.skip(reason="needs Debian's chromium and playwright"))


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    """Files written by a test (uploads, exports) go to a temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "files"
    settings.NBAUDIT_EXPORT_DIR = tmp_path / "exports"


@pytest.fixture(autouse=True)
def _english_after_each_test():
    """A request activates its language for the thread (LocaleMiddleware); code a test runs after
    one would go on in it. Each test starts in the default language, as a worker does."""
    from django.utils import translation

    yield
    translation.activate("en")


@pytest.fixture(autouse=True)
def _commands_in_english(monkeypatch):
    # A command's language comes from the environment (logs.management.output.command_language):
    # a developer's shell in zh_CN must not turn the English command tests Chinese.
    for name in ("NBAUDIT_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: ids and rollup versions repeat between tests."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def _celery_eager(request):
    """Tasks run in-process unless a test starts a real worker (marked `worker`)."""
    from nbaudit.celery import app

    if "worker" in request.keywords:
        yield
        return
    old = app.conf.task_always_eager
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = old


# --- shared fixtures: the customers, users and clients most tests start from ---------------------

@pytest.fixture
def eager():
    """Celery runs tasks in the calling process (what the worker would do, minus the broker)."""
    from nbaudit.celery import app

    old = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = old


@pytest.fixture
def acme(db):
    return factories.customer("acme")


@pytest.fixture
def globex(db):
    return factories.customer("globex")


@pytest.fixture
def alice(acme):
    """A user of acme (a module may override `acme`, e.g. with data ingested)."""
    return factories.user("alice", customer_obj=acme)


@pytest.fixture
def staff(db):
    return factories.user("boss", staff=True)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def _expected() -> dict:
    return json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture
def expected() -> dict:
    """tests/fixtures/expected.json: what ingesting and reconciling the shared fixtures gives."""
    return _expected()


@pytest.fixture
def recon_expected() -> dict:
    """The reconciliation part of expected.json (read here: a module may override `expected`)."""
    return _expected()["recon"]


@pytest.fixture
def recon_platform(fixtures_dir, recon_expected):
    """The reconciliation fixture's customer with the platform's export ingest: (customer, batch)."""
    from logs.services.ingest import calls_ingest

    customer = factories.customer(recon_expected["customer"])
    batch = calls_ingest(source=fixtures_dir / recon_expected["platform"], customer=customer)
    return customer, batch


@pytest.fixture
def other_tally(db):
    """Globex's June draft: enrolled, US$1,000 spent, one covered failure."""
    from billing.services.tally import tally_compute
    from tests.billing.tallies.helpers import JUNE, enrolled, failure, spend

    c = enrolled("globex")
    spend(c, "1000")
    failure(c, request_id="globex-1")
    return tally_compute(customer=c, month=JUNE)
