"""The Async Tasks page lists every long job a user started, of every kind, with progress:
exports, tally computations, reconciliations and (staff) uploads; scoped as each kind's page."""
from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Reconciliation, TallyRun
from logs.models import ExportJob, IngestBatch
from logs.models.jobs import JobStatus
from logs.selectors.jobs import jobs_page
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def jobs(acme, globex, alice, staff):
    bob = f.user("bob", customer_obj=globex)
    day = dt.date(2026, 10, 1)
    mine = ExportJob.objects.create(created_by=alice, customer=acme, date_from=day, date_to=day,
                                    filename="nbaudit-acme.xlsx", status=JobStatus.RUNNING, rows_done=12683,
                                    rows_total=40000)
    theirs = ExportJob.objects.create(created_by=bob, customer=globex, date_from=day, date_to=day,
                                      filename="nbaudit-globex.xlsx")
    recon = Reconciliation.objects.create(customer=acme, created_by=alice, filename="our-log.csv",
                                          status=JobStatus.RUNNING, rows_done=250)
    other_recon = Reconciliation.objects.create(customer=globex, created_by=bob, filename="globex-log.csv")
    run = TallyRun.objects.create(month=dt.date(2026, 9, 1), created_by=staff, status=JobStatus.RUNNING,
                                  rows_done=3, rows_total=12)
    upload = IngestBatch.objects.create(origin="upload", filename="platform.csv", created_by=staff,
                                        status=JobStatus.RUNNING, rows_done=5000)
    IngestBatch.objects.create(origin="api", filename="push")  # not a job anyone waits on
    return {"mine": mine, "theirs": theirs, "recon": recon, "other_recon": other_recon, "run": run,
            "upload": upload}


def _rows(html: str) -> list[str]:
    import re

    return re.findall(r'<tr[^>]* id="([a-z]+-\d+)"', html)


def test_staff_see_every_kind_with_progress(staff_client, jobs):
    html = staff_client.get(reverse("logs:tasks")).content.decode()
    rows = _rows(html)
    assert set(rows) == {f"job-{jobs['mine'].pk}", f"job-{jobs['theirs'].pk}", f"reconciliation-{jobs['recon'].pk}",
                         f"reconciliation-{jobs['other_recon'].pk}", f"tally-{jobs['run'].pk}",
                         f"ingest-{jobs['upload'].pk}"}
    assert "12,683 of 40,000 rows" in html
    assert '<span class="js-rows-done">3</span> of 12 customers' in html
    assert "Tallies for 2026-09" in html and "platform.csv" in html and "our-log.csv" in html
    # Each row is polled at its kind's status endpoint.
    assert reverse("billing:tally_run_status", args=[jobs["run"].pk]) in html
    assert reverse("billing:reconciliation_status", args=[jobs["recon"].pk]) in html
    assert reverse("logs:ingest_batch_status", args=[jobs["upload"].pk]) in html


def test_a_customer_sees_its_own_exports_and_its_customers_reconciliations(client, alice, jobs):
    client.force_login(alice)
    html = client.get(reverse("logs:tasks")).content.decode()
    assert sorted(_rows(html)) == sorted([f"job-{jobs['mine'].pk}", f"reconciliation-{jobs['recon'].pk}"])
    assert "globex" not in html and "Tallies for" not in html and "platform.csv" not in html
    assert "?kind=export" in html and "?kind=tally" not in html and "?kind=ingest" not in html


def test_one_kind(staff_client, jobs):
    html = staff_client.get(reverse("logs:tasks") + "?kind=tally").content.decode()
    assert _rows(html) == [f"tally-{jobs['run'].pk}"]


def test_paging_over_kinds_lists_every_job_once_newest_first(staff, jobs):
    # Same creation instant across kinds: the cursor (created_at, kind, id) still orders them.
    same = timezone.now() - dt.timedelta(hours=1)
    ExportJob.objects.filter(pk=jobs["mine"].pk).update(created_at=same)
    TallyRun.objects.filter(pk=jobs["run"].pk).update(created_at=same)
    Reconciliation.objects.filter(pk=jobs["recon"].pk).update(created_at=same)
    seen, after = [], None
    while True:
        page = jobs_page(staff, per_page=2, after=after)
        seen.extend((j.job_kind.name, j.pk, j.created_at) for j in page)
        if not page.has_next:
            break
        after = page.next_cursor
    assert len(seen) == len({(k, pk) for k, pk, _ in seen}) == 6
    times = [t for _, _, t in seen]
    assert times == sorted(times, reverse=True)
    # And back, from the last page to the first: the same pages, in reverse.
    back, before = [], page.prev_cursor
    while before:
        prev = jobs_page(staff, per_page=2, before=before)
        back = [(j.job_kind.name, j.pk, j.created_at) for j in prev] + back
        before = prev.prev_cursor
    assert back + [(j.job_kind.name, j.pk, j.created_at) for j in page] == seen


def test_a_bad_cursor_shows_the_first_page(staff_client, jobs):
    r = staff_client.get(reverse("logs:tasks") + "?after=bogus")
    assert r.status_code == 200 and len(_rows(r.content.decode())) == 6


def test_the_pager_goes_older_and_back_newer(staff_client, staff, acme):
    from tests import keyset_walk

    for i in range(7):
        ExportJob.objects.create(owner=staff, customer=acme, filename=f"e{i}.xlsx", status="done")
        TallyRun.objects.create(month=dt.date(2026, 1 + i, 1), created_by=staff, status="done")
    pages, sql = keyset_walk(staff_client, "/tasks/?per_page=25", _rows, table="logs_exportjob")
    assert [len(p) for p in pages] == [14]
    pages, sql = keyset_walk(staff_client, "/tasks/?per_page=25&kind=", _rows, table="logs_exportjob")
    rows = sum(pages, [])
    assert len(rows) == len(set(rows)) == 14 and " OFFSET " not in sql and "COUNT(" not in sql
    # Backwards from the last page of 5 (per_page 5 is no choice: 25 is the smallest), by jobs_page.
    first = jobs_page(staff, per_page=5)
    second = jobs_page(staff, per_page=5, after=first.next_cursor)
    back = jobs_page(staff, per_page=5, before=second.prev_cursor)
    assert [(j.job_kind.name, j.pk) for j in back] == [(j.job_kind.name, j.pk) for j in first]
    assert back.is_first and not back.has_previous and back.has_next


def test_an_export_row_says_what_it_carries(client, alice, acme):
    day = dt.date(2026, 10, 1)
    ExportJob.objects.create(created_by=alice, customer=acme, date_from=day, date_to=day, filename="x.csv",
                             format="csv", filters={"failed": True, "token_name": "batch"})
    client.force_login(alice)
    html = client.get(reverse("logs:tasks")).content.decode()
    assert "2026-10-01 to 2026-10-01" in html and "CSV" in html and "batch" in html
