"""Billing's kinds of long job on the Async Tasks page (logs.selectors.jobs), registered from
BillingConfig.ready so that logs never imports billing: reconciliations and tally computations
("compute now"). A tally's download is an export job, listed as every export is."""
from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse

from billing.selectors import reconciliations_visible, tally_runs_visible
from logs.selectors.jobs import JobKind, job_kind_register


def _run_url(run) -> str:
    query = {"month": f"{run.month:%Y-%m}", "run": run.pk}
    if run.customer_id:
        query["customer"] = run.customer.slug
    return reverse("billing:tallies") + "?" + urlencode(query)


def _recon_detail(recon) -> str:
    days = f" · {recon.date_from} to {recon.date_to}" if recon.date_from else ""
    return f"{recon.customer.slug}{days}"


def register() -> None:
    job_kind_register(JobKind(
        name="reconciliation", label="Reconciliation", visible=lambda user: reconciliations_visible(user),
        title=lambda recon: recon.filename or "local log", detail=_recon_detail, unit="local rows",
        status_url=lambda recon: reverse("billing:reconciliation_status", args=[recon.pk]),
        url=lambda recon: reverse("billing:reconciliation", args=[recon.pk])))
    job_kind_register(JobKind(
        name="tally", label="Tally computation", visible=tally_runs_visible,
        title=lambda run: f"Tallies for {run.month:%Y-%m}",
        detail=lambda run: run.customer.slug if run.customer_id else "every enrolled customer",
        unit="customers", url=_run_url, staff_only=True,
        status_url=lambda run: reverse("billing:tally_run_status", args=[run.pk])))
