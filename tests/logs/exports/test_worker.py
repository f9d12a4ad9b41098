"""A real Celery worker process against Redis and PostgreSQL: from the Export button to the file.

Runs where CI runs it: DATABASE_URL=postgres://... and CELERY_BROKER_URL=redis://... (else skipped).
The worker gets the test database's name, so it reads the rows this test commits.
"""
from __future__ import annotations

import datetime as dt
import io
import os
import signal
import subprocess
import sys
import time
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.urls import reverse
from python_calamine import CalamineWorkbook

from logs.timeutil import billing_today
from tests import ROOT, factories as f

CELERY = ROOT / ".venv" / "bin" / "celery"
REDIS_DB = os.environ.get("NBAUDIT_TEST_REDIS_DB", "13")  # apart from the default queues


def _database_url() -> str:
    db = settings.DATABASES["default"]
    auth = quote(db.get("USER") or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    host = f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    return f"postgres://{auth}@{host}/{db['NAME']}"


def _broker_url() -> str:
    parts = urlsplit(os.environ["CELERY_BROKER_URL"])
    return urlunsplit((parts.scheme, parts.netloc, f"/{REDIS_DB}", parts.query, ""))


@pytest.fixture
def broker(monkeypatch):
    """Point this process's Celery app at the test's Redis database, and restore it after.

    Celery reads CELERY_BROKER_URL from the environment before its configuration.
    """
    from nbaudit.celery import app

    url = _broker_url()
    old = app.conf.broker_url, app.conf.task_always_eager
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    app.conf.broker_url, app.conf.task_always_eager = url, False
    app._pool = None
    app.amqp._producer_pool = None
    with app.connection_for_write() as conn:
        assert conn.as_uri().endswith(f"/{REDIS_DB}")
    yield url
    app.conf.broker_url, app.conf.task_always_eager = old
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def worker(broker, tmp_path, settings):
    data = tmp_path / "worker-data"
    settings.NBAUDIT_EXPORT_DIR = data / "exports"  # the worker's export folder, seen from here
    env = dict(os.environ, DATABASE_URL=_database_url(), CELERY_BROKER_URL=broker,
               NBAUDIT_DATA_DIR=str(data))
    env.pop("NBAUDIT_TEST_DB_NAME", None)
    log = open(tmp_path / "worker.log", "w")
    proc = subprocess.Popen(
        [str(CELERY), "-A", "nbaudit", "worker", "-Q", "celery,exports", "-P", "solo", "-c", "1",
         "--without-gossip", "--without-mingle", "-n", f"test-exports-{os.getpid()}@%h", "-l", "info"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    yield proc
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()
    sys.stdout.write((tmp_path / "worker.log").read_text()[-3000:])


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_real_worker_exports_and_the_file_downloads(client, worker):
    acme = f.customer("acme")
    client.force_login(f.user("alice", customer_obj=acme))
    today = billing_today()
    start = dt.datetime.combine(today, dt.time(0, 5), tzinfo=f.UTC8)
    calls = [f.call(acme, created_at=start + dt.timedelta(seconds=i),
                    category="rate_limited" if i % 3 else "success", http_status=429 if i % 3 else 200)
             for i in range(30)]
    f.call(f.customer("globex"), created_at=start)

    resp = client.post(reverse("logs:export_new"), {"range": "today"})
    assert resp.status_code == 302
    page = client.get(reverse("logs:tasks")).content.decode()
    job_id = int(page.split('id="job-', 1)[1].split('"', 1)[0])

    state = {}
    deadline = time.monotonic() + 90  # a guard against a hung worker, not a speed assertion
    while time.monotonic() < deadline:
        state = client.get(reverse("logs:task_status", args=[job_id])).json()
        if state["finished"]:
            break
        if state["status"] != "done":
            assert client.get(reverse("logs:task_download", args=[job_id])).status_code == 409
        assert worker.poll() is None, "the worker process exited"
        time.sleep(0.5)
    assert state.get("status") == "done", state
    assert state["rows_done"] == state["rows_total"] == len(calls)

    resp = client.get(state["download_url"])
    assert resp.status_code == 200
    assert f"nbaudit-acme-{today}-{today}.xlsx" in resp["Content-Disposition"]
    rows = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(resp.streaming_content))) \
        .get_sheet_by_name("Calls").to_python()
    ids = [r[rows[0].index("Request ID")] for r in rows[1:]]
    assert sorted(ids) == sorted(c.request_id for c in calls)
