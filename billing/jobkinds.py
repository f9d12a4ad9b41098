"""Billing's kinds of long job on the Async Tasks page (logs.selectors.jobs), registered from
BillingConfig.ready so that logs never imports billing: reconciliations and tally computations
("compute now"). A tally's download is an export job, listed as every export is."""
from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _, gettext_lazy

from billing.selectors import reconciliations_visible, tally_runs_visible
from logs.selectors.jobs import JobKind, job_kind_register


def _run_url(run) -> str:
    query = {"month": f"{run.month:%Y-%m}", "run": run.pk}
    if run.customer_id:
        query["customer"] = run.customer.slug
    return reverse("billing:tallies") + "?" + urlencode(query)


def _recon_detail(recon) -> str:
    who = recon.customer.display_name
    if not recon.date_from:
        return who
    return _("%(customer)s · %(first)s to %(last)s") % {"customer": who, "first": recon.date_from,
                                                         "last": recon.date_to}


def _run_title(run) -> str:
    return _("Tallies for %(month)s") % {"month": f"{run.month:%Y-%m}"}


def _run_detail(run) -> str:
    return run.customer.display_name if run.customer_id else _("every enrolled customer")


def register() -> None:
    job_kind_register(JobKind(
        name="reconciliation", label=gettext_lazy("Reconciliation"), visible=lambda user: reconciliations_visible(user),
        title=lambda recon: recon.filename or _("local log"), detail=_recon_detail, unit="local rows",
        status_url=lambda recon: reverse("billing:reconciliation_status", args=[recon.pk]),
        url=lambda recon: reverse("billing:reconciliation", args=[recon.pk])))
    job_kind_register(JobKind(
        name="tally", label=gettext_lazy("Tally computation"), visible=tally_runs_visible,
        title=_run_title, detail=_run_detail,
        unit="customers", url=_run_url, staff_only=True,
        status_url=lambda run: reverse("billing:tally_run_status", args=[run.pk])))
