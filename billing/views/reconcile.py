"""Reconciliation pages: upload, list, report (with polling), differences table, Excel download.

Thin views: reads are scoped (billing.selectors: a customer sees its own reconciliations only;
another's is a 404), writes go through billing.services.reconciliation; the Excel download is
an export job (billing.exports), written by the export worker and downloaded from the Async
Tasks page.
"""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from billing.choices import ReconCategory
from billing.exports import ITEM_FILTERS, reconciliation_export
from billing.filtersets import ItemFilterSet
from billing.forms.reconcile import ReconcileForm
from billing.selectors import reconciliation_get, reconciliations_visible
from billing.services.reconciliation import (
    ReconciliationRefused,
    reconciliation_create,
    reconciliation_enqueue,
    reconciliation_summary,
)
from billing.tables.reconcile import (
    ITEM_ORDER,
    RECONCILIATION_ORDER,
    ItemTable,
    ReconciliationTable,
    category_badge,
)
from logs.models.jobs import JobStatus
from logs.scoping import current_customer, is_staff
from logs.selectors.jobs import job_status
from logs.views.base import filter_status, keyset_list

PER_PAGE = 50
LIST_PER_PAGE = 25


def _customer_for(request, form) -> object:
    """The customer to reconcile: staff pick any; a customer only its own (else 404)."""
    if is_staff(request.user):
        return form.cleaned_data["customer"]
    named = request.POST.get("customer")
    own = request.user.customer
    if named and named != own.slug:
        raise Http404(_("No such customer."))
    return own


def reconcile(request):
    """The list of past reconciliations, with the upload form."""
    customer = current_customer(request)
    if request.method == "POST":
        form = ReconcileForm(request.POST, request.FILES, user=request.user, customer=customer)
        if not is_staff(request.user):
            _customer_for(request, form)  # 404 before anything else for another customer's slug
        if form.is_valid():
            target = _customer_for(request, form)
            upload = form.cleaned_data["file"]
            try:
                with transaction.atomic():
                    recon = reconciliation_create(
                        customer=target, user=request.user, upload=upload, filename=upload.name,
                        date_from=form.cleaned_data["date_from"], date_to=form.cleaned_data["date_to"],
                        notify=form.cleaned_data["notify"])
                    reconciliation_enqueue(reconciliation=recon)
            except ReconciliationRefused as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Reconciliation #%(n)s is queued.") % {"n": recon.pk})
                return redirect("billing:reconciliation", pk=recon.pk)
        elif is_staff(request.user) and "customer" in form.errors and request.POST.get("customer"):
            raise Http404(_("No such customer."))
    else:
        form = ReconcileForm(user=request.user, customer=customer)
    listed = keyset_list(request, reconciliations_visible(request.user, customer=current_customer(request)),
                         table_class=ReconciliationTable, order=RECONCILIATION_ORDER, per_page=LIST_PER_PAGE,
                         noun="reconciliation")
    return render(request, "billing/recon_list.html", {"form": form, "staff": is_staff(request.user),
                                                        **listed})


# The report's order (billing.md): the real differences first, then the reimbursable failures (a
# section of their own, collapsed), then the matches.
REPORT_ORDER = [c for c in ReconCategory.values
                if c not in (ReconCategory.REIMBURSABLE_FAILURE, ReconCategory.MATCH)] + [
    ReconCategory.REIMBURSABLE_FAILURE, ReconCategory.MATCH]
REIMBURSABLE_SHOWN = 50


def reconciliation_detail(request, pk: int):
    recon = reconciliation_get(request.user, pk)
    ctx = {"recon": recon, "running": JobStatus.is_active(recon.status)}
    if recon.status == JobStatus.DONE:
        filterset = ItemFilterSet(request.GET or None, recon.items.all())
        summary = reconciliation_summary(reconciliation=recon)
        # unfiltered, the table holds the real differences; reimbursable failures are listed apart
        unfiltered = not any(request.GET.getlist("category")) and not request.GET.get("request_id")
        items = filterset.qs
        reimbursable = None
        if unfiltered:
            items = items.exclude(category=ReconCategory.REIMBURSABLE_FAILURE)
            first = recon.items.filter(category=ReconCategory.REIMBURSABLE_FAILURE).order_by(*ITEM_ORDER)
            reimbursable = ItemTable(list(first[:REIMBURSABLE_SHOWN]), exclude=("over_usd", "under_usd"))
        labels = dict(ReconCategory.choices)
        ctx.update(
            filterset=filterset, filter_form=filterset.form,
            **keyset_list(request, items, table_class=ItemTable, order=ITEM_ORDER, per_page=PER_PAGE,
                          noun="request ID", table_kwargs={"empty_text": (
                              "No differences: your log and the platform's charges agree." if unfiltered
                              else "No request IDs match these filters.")}),
            summary=summary, unfiltered=unfiltered, reimbursable=reimbursable,
            reimbursable_count=summary["categories"].get(ReconCategory.REIMBURSABLE_FAILURE, 0),
            reimbursable_shown=REIMBURSABLE_SHOWN,
            categories=[{"code": code, "label": labels[code], "badge": category_badge(code),
                         "count": summary["categories"].get(code, 0), **recon.money.get(code, {})}
                        for code in REPORT_ORDER],
            export_url=reverse("billing:reconciliation_xlsx", args=[recon.pk]) + (
                "?" + request.GET.urlencode() if request.GET else ""),
        )
    return render(request, "billing/recon_detail.html", ctx, status=filter_status(ctx.get("filter_form")))


def reconciliation_status(request, pk: int):
    return JsonResponse(job_status(reconciliation_get(request.user, pk)))


@require_http_methods(["GET", "POST"])
def reconciliation_xlsx(request, pk: int):
    """The report as Excel, filtered as on the page: served when this user's export of it is
    done; else queued (once) for the export worker, and the user sent to the Async Tasks page."""
    recon = reconciliation_get(request.user, pk)
    if recon.status != JobStatus.DONE:
        raise Http404(_("This reconciliation has no result yet."))
    params = request.POST if request.method == "POST" else request.GET
    filters = {key: [v for v in params.getlist(key) if v] for key in ITEM_FILTERS}
    filters["request_id"] = (filters["request_id"] or [""])[0]
    try:
        job = reconciliation_export(user=request.user, reconciliation=recon, filters=filters)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("billing:reconciliation", pk=pk)
    if job.status == JobStatus.DONE:
        return redirect("logs:task_download", pk=job.pk)
    messages.success(request, _("Export queued: %(file)s. Download it here when it is done.") % {"file": job.filename})
    return redirect(f"{reverse('logs:tasks')}#job-{job.pk}")
