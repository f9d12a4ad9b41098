"""Every list pages through one keyset list view (logs.views.base.keyset_list): each row once,
forward and back, with no OFFSET and no COUNT; a page link of another list falls back to the first."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.messages.storage.fallback import FallbackStorage

from logs.models import ExportJob, IngestBatch
from logs.pagination import Key
from logs.tables.ingest import IngestBatchTable
from logs.views.base import keyset_list
from tests import factories as f, keyset_walk

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, staff):
    """A staff user, logged in on `client`."""
    client.force_login(staff)
    return staff


def _job_rows(html):
    return re.findall(r'<tr id="job-(\d+)"', html)


def _batch_rows(html):
    return re.findall(r'<a href="/ingest/(\d+)/">', html)


def test_export_jobs_page_by_keyset(client, staff):
    acme = f.customer("acme")
    jobs = ExportJob.objects.bulk_create([
        ExportJob(owner=staff, customer=acme, filename=f"job-{i}.xlsx", status="done") for i in range(60)])
    expected = [str(j.pk) for j in sorted(jobs, key=lambda j: (j.created_at, j.pk), reverse=True)]
    pages, sql = keyset_walk(client, "/tasks/?per_page=25", _job_rows, table="logs_exportjob")
    assert sum(pages, []) == expected and [len(p) for p in pages] == [25, 25, 10]
    assert " OFFSET " not in sql and "COUNT(" not in sql
    html = client.get("/tasks/?per_page=25").content.decode()
    assert "25 tasks on this page" in html and "Older ›" in html


def test_ingest_batches_page_by_keyset_forward_and_back(client, staff):
    batches = IngestBatch.objects.bulk_create([IngestBatch(filename=f"f{i}.ndjson", status="done")
                                              for i in range(30)])
    expected = [str(b.pk) for b in sorted(batches, key=lambda b: (b.created_at, b.pk), reverse=True)]
    pages, sql = keyset_walk(client, "/ingest/", _batch_rows, table="logs_ingestbatch")
    assert sum(pages, []) == expected and [len(p) for p in pages] == [25, 5]
    assert " OFFSET " not in sql and "COUNT(" not in sql
    last = client.get("/ingest/").content.decode()
    nxt = re.search(r'href="(\?[^"]*)" rel="next"', last).group(1).replace("&amp;", "&")
    back, _ = keyset_walk(client, "/ingest/" + nxt, _batch_rows, table="logs_ingestbatch", rel="prev")
    assert back == [expected[25:], expected[:25]]


def test_a_cursor_of_another_list_falls_back_to_the_first_page(rf):
    IngestBatch.objects.create(filename="one.ndjson")
    tallies = Key(dt.date(2026, 6, 1), "acme", 7).encode()  # (month, customer, id)
    wrong_types = Key("acme", 7).encode()
    for cursor in (tallies, wrong_types, "!!garbage"):
        request = rf.get("/ingest/", {"after": cursor})
        request.session = {}
        request._messages = FallbackStorage(request)
        ctx = keyset_list(request, IngestBatch.objects.all(), table_class=IngestBatchTable)
        assert [b.filename for b in ctx["page"].rows] == ["one.ndjson"] and ctx["page"].is_first
        assert "not valid" in str(list(request._messages)[0])
