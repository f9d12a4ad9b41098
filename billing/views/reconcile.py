"""Reconciliation pages: upload, list, report (with polling), differences table, Excel download.

Thin views: reads are scoped (a customer sees its own reconciliations only; another's is a
404), writes go through billing.services.reconciliation.
"""
from __future__ import annotations

import tempfile

from django.contrib import messages
from django.db import transaction
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django_tables2 import RequestConfig

from billing.choices import ReconCategory
from billing.forms.reconcile import ItemFilterSet, ReconcileForm
from billing.models import Reconciliation
from billing.services.reconciliation import (
    ReconciliationRefused,
    reconciliation_create,
    reconciliation_enqueue,
    reconciliation_summary,
    reconciliation_xlsx_write,
)
from billing.tables.reconcile import ItemTable, ReconciliationTable, category_badge
from logs.models.ingest import JobStatus
from logs.scoping import current_customer, is_staff, scope_by_customer_field

PER_PAGE = 50
RUNNING = (JobStatus.QUEUED, JobStatus.RUNNING)


def reconciliations_visible(request):
    qs = scope_by_customer_field(request.user, Reconciliation.objects.select_related("customer"))
    if is_staff(request.user):
        customer = current_customer(request)
        if customer is not None:
            qs = qs.filter(customer=customer)
    return qs


def reconciliation_get(request, pk: int) -> Reconciliation:
    obj = scope_by_customer_field(request.user, Reconciliation.objects.select_related("customer")).filter(pk=pk).first()
    if obj is None:
        raise Http404("No such reconciliation.")
    return obj


def _customer_for(request, form) -> object:
    """The customer to reconcile: staff pick any; a customer only its own (else 404)."""
    if is_staff(request.user):
        return form.cleaned_data["customer"]
    named = request.POST.get("customer")
    own = request.user.customer
    if named and named != own.slug:
        raise Http404("No such customer.")
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
                        date_from=form.cleaned_data["date_from"], date_to=form.cleaned_data["date_to"])
                    reconciliation_enqueue(reconciliation=recon)
            except ReconciliationRefused as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Reconciliation #{recon.pk} is queued.")
                return redirect("billing:reconciliation", pk=recon.pk)
        elif is_staff(request.user) and "customer" in form.errors and request.POST.get("customer"):
            raise Http404("No such customer.")
    else:
        form = ReconcileForm(user=request.user, customer=customer)
    table = ReconciliationTable(reconciliations_visible(request))
    RequestConfig(request, paginate={"per_page": 25}).configure(table)
    return render(request, "billing/recon_list.html", {"form": form, "table": table,
                                                        "staff": is_staff(request.user)})


def _page(request, qs):
    """Keyset paging by id: continue after the last id seen (no OFFSET, no COUNT)."""
    try:
        after = int(request.GET.get("after") or 0)
    except ValueError:
        after = 0
    rows = list(qs.filter(id__gt=after).order_by("id")[: PER_PAGE + 1]) if after else \
        list(qs.order_by("id")[: PER_PAGE + 1])
    more = len(rows) > PER_PAGE
    rows = rows[:PER_PAGE]
    params = request.GET.copy()
    params.pop("after", None)
    next_url = None
    if more:
        params["after"] = rows[-1].pk
        next_url = "?" + params.urlencode()
        params.pop("after")
    first_url = ("?" + params.urlencode()) if after else None
    return rows, next_url, first_url


def reconciliation_detail(request, pk: int):
    recon = reconciliation_get(request, pk)
    ctx = {"recon": recon, "running": recon.status in RUNNING}
    if recon.status == JobStatus.DONE:
        filterset = ItemFilterSet(request.GET or None, recon.items.all())
        rows, next_url, first_url = _page(request, filterset.qs)
        summary = reconciliation_summary(reconciliation=recon)
        ctx.update(
            filterset=filterset, table=ItemTable(rows), next_url=next_url, first_url=first_url,
            summary=summary,
            categories=[{"code": code, "label": label, "badge": category_badge(code),
                         "count": summary["categories"].get(code, 0), **recon.money.get(code, {})}
                        for code, label in ReconCategory.choices],
            export_url=reverse("billing:reconciliation_xlsx", args=[recon.pk]) + (
                "?" + request.GET.urlencode() if request.GET else ""),
        )
    return render(request, "billing/recon_detail.html", ctx)


def reconciliation_status(request, pk: int):
    recon = reconciliation_get(request, pk)
    return JsonResponse({"status": recon.status, "rows_done": recon.rows_done, "error": recon.error})


def reconciliation_xlsx(request, pk: int):
    recon = reconciliation_get(request, pk)
    if recon.status != JobStatus.DONE:
        raise Http404("This reconciliation has no result yet.")
    params = request.GET.copy()
    params.pop("after", None)
    filterset = ItemFilterSet(params or None, recon.items.all())
    fh = tempfile.TemporaryFile(suffix=".xlsx")
    reconciliation_xlsx_write(reconciliation=recon, items=filterset.qs, fh=fh)
    fh.seek(0)
    name = f"reconciliation-{recon.customer.slug}-{recon.pk}.xlsx"
    return FileResponse(fh, as_attachment=True, filename=name,
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
