"""PostgreSQL: the new calls' rollups summed by the database (`rollups_add_calls`) are the very rows
the Python delta writes, over files that add to hours already counted, and both equal the calls."""
import json

import pytest

import logs.services.ingest as ingest
from logs.models import Call, Customer, HourlyRollup
from logs.services.ingest import calls_ingest
from tests.logs.rollups.helpers import assert_exact, export, export_rows, snapshot

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _ingest_all(monkeypatch, in_sql: bool) -> list[tuple]:
    monkeypatch.setattr(ingest, "CHUNK_COPY", 70)
    monkeypatch.setattr(ingest, "ROLLUPS_IN_SQL", in_sql)
    calls_ingest(source=export(export_rows(400, prefix="a", step_s=40)))
    # The same hours again (some calls already stored, some new), and another customer.
    calls_ingest(source=export(export_rows(400, prefix="a", offset=200, step_s=40)
                               + export_rows(150, prefix="b", user="globex", step_s=90)))
    # Envelopes filling in stored calls: their rollups move (the Python delta, in either case).
    merged = list(Call.objects.filter(customer__slug="acme", category="success").order_by("request_id"))[::5]
    calls_ingest(source="\n".join(json.dumps({
        "request_id": c.request_id, "created_at": c.created_at.isoformat(), "customer": "acme", "model": c.model,
        "http_status": 200, "latency_ms": 2500, "image_size": "2K",
        "response": {"candidates": [{"finishReason": "IMAGE_SAFETY"}]},
    }) for c in merged).encode())
    assert assert_exact("acme") == 600
    assert assert_exact("globex") == 150
    rows = [(slug, *row) for slug in ("acme", "globex") for row in snapshot(Customer.objects.get(slug=slug).pk)]
    Call.objects.all().delete()
    HourlyRollup.objects.all().delete()
    return rows


def test_rollups_summed_in_the_database_are_the_python_delta_s(monkeypatch):
    in_sql = _ingest_all(monkeypatch, True)
    in_python = _ingest_all(monkeypatch, False)
    assert in_sql == in_python
    assert len(in_sql) > 50
