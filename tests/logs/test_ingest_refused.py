"""A value the database refuses costs only its row: the chunk is split until the row is found.

The checks at the door (logs.parsers.values) keep such values out; these tests let one through
on purpose (a check switched off) to show the last resort: on SQLite the driver refuses an
integer past 2^63, on PostgreSQL the COPY fails on an integer past 2^31 - 1.
"""
import json

import pytest

import logs.parsers.envelopes as envelopes
import logs.services.ingest as ingest
from logs.models import Call
from logs.services.ingest import calls_ingest

pytestmark = pytest.mark.django_db

PRO = "gemini-3-pro-image-preview"


def _env(rid, customer="acme", **usage):
    return json.dumps({"request_id": rid, "created_at": "2026-10-03T09:00:00+08:00", "customer": customer,
                       "model": PRO, "http_status": 200,
                       "response": {"candidates": [], "usageMetadata": usage or {"promptTokenCount": 10}}})


@pytest.mark.parametrize("chunk", [1, 4, 1000])
def test_rows_the_database_refuses_are_rejected_and_the_rest_stored(monkeypatch, chunk):
    monkeypatch.setattr(envelopes, "check_counts", lambda fields: None)  # let the bad value in
    monkeypatch.setattr(ingest, "CHUNK", chunk)
    monkeypatch.setattr(ingest, "CHUNK_COPY", chunk)
    lines = [_env(f"g-{i}", customer="newco" if i == 5 else "acme") for i in range(10)]
    lines.insert(3, _env("bad-a", promptTokenCount=2**63 + 5))
    lines.insert(8, _env("g-2"))  # a duplicate, in the same chunk as a refused row
    lines.insert(9, _env("bad-b", candidatesTokenCount=2**64))
    s = calls_ingest(source="\n".join(lines).encode()).summary()
    assert s["inserted"] == 10 and s["duplicates"] == 1
    assert [r["line"] for r in s["rejected"]] == [4, 10]
    assert all("the database cannot store this row" in r["reason"] for r in s["rejected"])
    assert s["customers_created"] == ["acme", "newco"]
    assert s["rows"] == s["inserted"] + s["duplicates"] + len(s["rejected"])
    assert Call.objects.count() == 10 and not Call.objects.filter(request_id__startswith="bad").exists()
