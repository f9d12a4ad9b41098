"""PostgreSQL: two ingests of one customer's hours at once, and a worker process killed
mid-file, leave rollups equal to a fresh rebuild from the calls."""
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from django.db import connection

from logs.models import Call, IngestBatch
from logs.services.ingest import calls_ingest
from tests.logs.rollups.helpers import assert_exact, export, export_rows

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _at_once(bodies: list[bytes]) -> list:
    """Ingest each body in its own thread (and connection), all started together; the batches."""
    start, errors, batches = threading.Barrier(len(bodies)), [], []

    def worker(body):
        try:
            start.wait()
            batches.append(calls_ingest(source=body))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(body,)) for body in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return batches


@pytest.mark.parametrize("run", range(3))
def test_two_ingests_at_once(monkeypatch, run):
    """Overlapping files (the same hours, some of the same calls) ingested by two threads."""
    import logs.services.ingest as ingest

    monkeypatch.setattr(ingest, "CHUNK_COPY", 20)
    # All in two hours: every chunk of both files writes the same few rollup rows.
    a = export(export_rows(300, prefix="x", step_s=20))
    b = export(export_rows(300, prefix="x", offset=150, step_s=20) + export_rows(100, prefix="y", step_s=60))
    batches = _at_once([a, b])
    assert sum(b.inserted for b in batches) == Call.objects.count() == 550
    assert assert_exact() == 550


def test_two_merges_of_the_same_calls_at_once(monkeypatch):
    """Envelopes filling in the same stored calls (another category, latency, size) at once."""
    import json

    import logs.services.ingest as ingest

    monkeypatch.setattr(ingest, "CHUNK_COPY", 30)
    calls_ingest(source=export(export_rows(120, step_s=20)))
    real_apply = ingest.rollups_apply

    def slow_apply(**kw):  # each chunk holds its row locks a while before committing
        time.sleep(0.2)
        return real_apply(**kw)

    monkeypatch.setattr(ingest, "rollups_apply", slow_apply)
    # Every other delivered call: the rows they leave keep counting the rest.
    merged = list(Call.objects.filter(category="success").order_by("request_id"))[::2]
    bodies = []
    for latency in (2500, 47000):
        lines = [json.dumps({
            "request_id": c.request_id, "created_at": c.created_at.isoformat(), "customer": "acme",
            "model": c.model, "http_status": 200, "latency_ms": latency, "image_size": "2K",
            "response": {"candidates": [{"finishReason": "IMAGE_SAFETY"}]},
        }) for c in merged]
        bodies.append(("\n".join(lines) + "\n").encode())
    _at_once(bodies)
    assert Call.objects.filter(category="image_blocked").count() == len(merged)
    assert assert_exact() == 120


def _db_url() -> str:
    s = connection.settings_dict
    return (f"postgres://{s['USER']}{':' + s['PASSWORD'] if s['PASSWORD'] else ''}@{s['HOST'] or '127.0.0.1'}:"
            f"{s['PORT'] or 5432}/{s['NAME']}")


WORKER = """
import sys, time
import django
django.setup()
import logs.services.ingest as ingest
import logs.services.ingest_sql as ingest_sql
ingest.CHUNK_COPY = 50
ingest.GATEWAY_SQL = sys.argv[2] == "sql"
owner, name = (ingest_sql.GatewaySQL, "_store_staged") if ingest.GATEWAY_SQL else (ingest._Run, "apply")
real = getattr(owner, name)
def slow(self, chunk):
    out = real(self, chunk)
    time.sleep(0.3)   # room for the kill to land mid-file
    return out
setattr(owner, name, slow)
ingest.calls_ingest(source=sys.argv[1])
"""


@pytest.mark.parametrize("way", ["python", "sql"])  # the SQL path's chunks: 83 lines (on two lanes)
def test_killed_worker_then_the_file_again(tmp_path, way):
    import logs.services.ingest as ingest
    import logs.services.ingest_sql as ingest_sql

    # (the worker has no transaction of its own open: the SQL path's chunks go on two lanes)
    whole = 50 if way == "python" else ingest_sql.lines_per_chunk(50, read_ahead=ingest.READ_AHEAD,
                                                                  lanes=ingest_sql.LANES)
    path = tmp_path / "export.csv"
    path.write_bytes(export(export_rows(1000)))
    env = {**os.environ, "DATABASE_URL": _db_url(), "DJANGO_SETTINGS_MODULE": "nbaudit.settings"}
    env.pop("NBAUDIT_TEST_DB_NAME", None)
    proc = subprocess.Popen([sys.executable, "-c", WORKER, str(path), way], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            batch = IngestBatch.objects.first()
            if batch is not None and batch.rows_done >= 200:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the worker finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    stored = Call.objects.count()
    assert 200 <= stored < 1000 and stored % whole == 0  # whole chunks only
    assert assert_exact() == stored
    again = calls_ingest(source=str(path))
    assert (again.inserted, again.duplicates) == (1000 - stored, stored)
    assert assert_exact() == 1000
