"""Reconciliation pages: upload, report, differences table, Excel download, tenancy (404)."""
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from billing.models import Reconciliation
from logs.models import ExportJob
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(recon_platform):
    """acme, with the platform's export of the reconciliation fixture ingested."""
    return recon_platform[0]


@pytest.fixture
def bob():
    return factories.user("bob", customer_obj=factories.customer("globex"))


def _upload(client, fixtures_dir, capture, **data):
    with open(fixtures_dir / "recon_local.csv", "rb") as fh, capture(execute=True):
        return client.post(reverse("billing:reconcile"), {"file": fh, **data})


def test_customer_uploads_and_reads_the_report(client, alice, fixtures_dir, eager,
                                               django_capture_on_commit_callbacks):
    client.force_login(alice)
    response = _upload(client, fixtures_dir, django_capture_on_commit_callbacks)
    recon = Reconciliation.objects.get()
    assert response.status_code == 302 and response.url == reverse("billing:reconciliation", args=[recon.pk])
    recon.refresh_from_db()
    assert recon.status == "done" and recon.customer.slug == "acme" and recon.created_by == alice

    page = client.get(response.url)
    html = page.content.decode()
    assert page.status_code == 200
    # over-charged (to cents, the exact sum beside it), charged without a local record
    assert "US$0.11" in html and "(exact US$0.1103)" in html and "US$0.05" in html
    # the differences table: every category but match, each linking to its call where there is one;
    # the reimbursable failure comes after them, in a collapsed section of its own
    for rid in ("rc-02", "rc-03", "rc-04", "rc-05", "rc-06", "rc-07", "rc-08", "rc-09"):
        assert rid in html
    details = html.index('<details class="card" id="reimbursable">')
    assert html.index(">rc-02<") > details > max(html.index(f">{rid}<") for rid in ("rc-03", "rc-08", "rc-09"))
    rc08 = recon.items.get(request_id="rc-08")
    assert f'href="/logs/{rc08.call_id}/"' in html
    assert ">rc-01<" not in html  # a match is not a difference

    only = client.get(response.url, {"category": "amount_mismatch"}).content.decode()
    assert "rc-08" in only and "rc-09" not in only

    listing = client.get(reverse("billing:reconcile")).content.decode()
    assert reverse("billing:reconciliation", args=[recon.pk]) in listing


def test_status_endpoint_reports_progress(client, alice, acme, fixtures_dir):
    recon = Reconciliation.objects.create(customer=acme, status="running", rows_done=1234)
    client.force_login(alice)
    data = client.get(reverse("billing:reconciliation_status", args=[recon.pk])).json()
    # the one status shape of every job (ingest batch, export, reconciliation)
    assert data == {"id": recon.pk, "status": "running", "status_label": "Running", "badge": "badge-warn",
                    "active": True, "finished": False, "rows_done": 1234, "rows_total": None, "percent": 0,
                    "error": ""}
    page = client.get(reverse("billing:reconciliation", args=[recon.pk])).content.decode()
    assert "1,234" in page and "refreshes by itself" in page


def test_excel_download_holds_the_figures_and_the_differences(client, alice, fixtures_dir, eager,
                                                              django_capture_on_commit_callbacks):
    client.force_login(alice)
    _upload(client, fixtures_dir, django_capture_on_commit_callbacks)
    recon = Reconciliation.objects.get()
    url = reverse("billing:reconciliation_xlsx", args=[recon.pk])
    # The download is an export job, written by the export worker (eager here) ...
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(url, {"category": "duplicate_charge"})
    job = ExportJob.objects.get(kind="reconciliation")
    assert response.status_code == 302 and response.url == f"{reverse('logs:tasks')}#job-{job.pk}"
    job.refresh_from_db()
    assert job.status == "done" and job.created_by == alice and job.customer == recon.customer, job.error
    # ... and the same link, once it is done, serves its file (no second job).
    response = client.get(url, {"category": "duplicate_charge"})
    assert response.status_code == 302 and response.url == reverse("logs:task_download", args=[job.pk])
    assert ExportJob.objects.count() == 1
    response = client.get(response.url)
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    summary = {row[0]: row[1] for row in wb["Summary"].iter_rows(values_only=True) if row and row[0]}
    assert str(summary["overcharged_usd"]) == "0.1103"
    rows = list(wb["Request IDs"].iter_rows(values_only=True))
    assert rows[0][0] == "Request ID"
    assert [r[0] for r in rows[1:]] == ["rc-09"]


def test_refused_log_shows_the_reason(client, alice, tmp_path, eager, django_capture_on_commit_callbacks):
    client.force_login(alice)
    path = tmp_path / "local.csv"
    path.write_text("request_id,created_at\nrc-01,2026-10-10 12:00:00\n")
    with open(path, "rb") as fh, django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("billing:reconcile"), {"file": fh, "date_from": "2026-11-01",
                                                               "date_to": "2026-11-30"})
    recon = Reconciliation.objects.get()
    assert recon.status == "failed"
    page = client.get(response.url).content.decode()
    assert "no row in the period 2026-11-01 to 2026-11-30" in page
    assert "Traceback" not in page


def test_customer_cannot_see_another_customers_reconciliation(client, acme, alice, bob, fixtures_dir, eager,
                                                              django_capture_on_commit_callbacks):
    client.force_login(alice)
    _upload(client, fixtures_dir, django_capture_on_commit_callbacks)
    recon = Reconciliation.objects.get()
    client.force_login(bob)
    for name in ("billing:reconciliation", "billing:reconciliation_status", "billing:reconciliation_xlsx"):
        assert client.get(reverse(name, args=[recon.pk])).status_code == 404
    assert f"/billing/reconcile/{recon.pk}/" not in client.get(reverse("billing:reconcile")).content.decode()


def test_customer_cannot_reconcile_another_customers_data(client, acme, bob, fixtures_dir,
                                                          django_capture_on_commit_callbacks):
    client.force_login(bob)
    response = _upload(client, fixtures_dir, django_capture_on_commit_callbacks, customer="acme")
    assert response.status_code == 404
    assert not Reconciliation.objects.exists()


def test_customer_reconciles_its_own_data_only(client, acme, bob, fixtures_dir, eager,
                                               django_capture_on_commit_callbacks):
    """Without naming a customer, bob's upload is matched against globex's calls, never acme's."""
    client.force_login(bob)
    _upload(client, fixtures_dir, django_capture_on_commit_callbacks)
    recon = Reconciliation.objects.get()
    assert recon.customer.slug == "globex"
    assert recon.categories["missing_on_platform"] == 8 and recon.platform_rows == 0


def test_staff_reconciles_any_customer(client, staff, acme, fixtures_dir, eager,
                                       django_capture_on_commit_callbacks):
    client.force_login(staff)
    response = _upload(client, fixtures_dir, django_capture_on_commit_callbacks, customer="acme",
                       date_from="2026-10-10", date_to="2026-10-10")
    recon = Reconciliation.objects.get()
    assert response.status_code == 302 and recon.customer == acme and recon.status == "done"
    assert str(recon.overcharged_usd) == "0.110300"
    assert client.get(reverse("billing:reconciliation", args=[recon.pk])).status_code == 200


def test_period_that_ends_before_it_starts_is_a_form_error(client, alice, fixtures_dir,
                                                           django_capture_on_commit_callbacks):
    client.force_login(alice)
    response = _upload(client, fixtures_dir, django_capture_on_commit_callbacks,
                       date_from="2026-10-11", date_to="2026-10-10")
    assert response.status_code == 200
    assert "The period starts after it ends." in response.content.decode()
    assert not Reconciliation.objects.exists()


def test_past_reconciliations_and_a_reports_request_ids_page_by_key(client, alice, acme):
    import re

    from billing.models import ReconciliationItem
    from tests import keyset_walk

    client.force_login(alice)
    recons = Reconciliation.objects.bulk_create([
        Reconciliation(customer=acme, filename=f"local-{i}.csv", status="done") for i in range(30)])
    expected = [str(r.pk) for r in sorted(recons, key=lambda r: (r.created_at, r.pk), reverse=True)]
    pages, sql = keyset_walk(client, reverse("billing:reconcile"),
                             lambda html: re.findall(r'<a href="/billing/reconcile/(\d+)/">', html),
                             table="billing_reconciliation")
    assert sum(pages, []) == expected and [len(p) for p in pages] == [25, 5]
    assert " OFFSET " not in sql and "COUNT(" not in sql

    recon = recons[0]
    ReconciliationItem.objects.bulk_create([
        ReconciliationItem(reconciliation=recon, request_id=f"item-{i:03d}", category="amount_mismatch")
        for i in range(120)] + [ReconciliationItem(reconciliation=recon, request_id="same", category="match")])
    pages, sql = keyset_walk(client, reverse("billing:reconciliation", args=[recon.pk]),
                             lambda html: re.findall(r"<td >(item-\d+|same)</td>", html),
                             table="billing_reconciliationitem")
    assert sum(pages, []) == [f"item-{i:03d}" for i in range(120)] and [len(p) for p in pages] == [50, 50, 20]
    assert " OFFSET " not in sql and "COUNT(" not in sql
