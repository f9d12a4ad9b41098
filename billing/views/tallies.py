"""Tally pages: thin views over billing.selectors (reads) and billing.services.tally (steps).

Staff see every tally and act on them; a customer's user sees its own, read-only (another
customer's tally is a 404). Every step is a POST that calls one service and redirects.
"""
from __future__ import annotations

import datetime as dt
from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.http import require_POST

from billing.choices import TallyStatus
from billing.filtersets import TallyCallFilterSet, TallyFilterSet
from billing.forms.tallies import (
    TallyApproveForm,
    TallyCallActionForm,
    TallyComputeForm,
    TallyCreditedForm,
    TallyRejectForm,
)
from billing.selectors import (
    tallies_visible,
    tally_as_dict,
    tally_call_find,
    tally_calls,
    tally_events,
    tally_get,
    tally_is_overdue,
)
from billing.services import tally as svc
from billing.tables.tallies import TALLY_ORDER, TallyCallTable, TallyTable
from billing.texts import detail_text
from logs.choices import Category, Family
from logs.scoping import is_staff
from logs.services.exports import export_create
from logs.timeutil import billing_today, next_month
from logs.views.base import filter_status, keyset_list

PER_PAGE = 50


def staff_required(view):
    @wraps(view)
    def wrapped(request, *args, **kw):
        if not is_staff(request.user):
            raise PermissionDenied(_("Only staff may act on tallies."))
        return view(request, *args, **kw)
    return wrapped


# The steps of a tally's audit trail (TallyEvent.action codes), as a person reads them.
ACTION_LABELS = {"computed": gettext_lazy("computed"), "approved": gettext_lazy("approved"),
                 "rejected": gettext_lazy("rejected"), "credited": gettext_lazy("credited"),
                 "call excluded": gettext_lazy("call excluded"), "call re-included": gettext_lazy("call re-included")}


def _label(choices, code) -> str:
    try:
        return str(choices(code).label)
    except ValueError:
        return code or ""


def _events(tally) -> list:
    events = list(tally_events(tally))
    for e in events:
        e.action_label = ACTION_LABELS.get(e.action, e.action)
        e.status_before_label = _label(TallyStatus, e.status_before)
        e.status_after_label = _label(TallyStatus, e.status_after)
        e.detail_shown = detail_text(e.detail)
    return events


def _breakdown(tally) -> list:
    return [{**b, "family_label": _label(Family, b.get("family")), "category_label": _label(Category, b.get("category"))}
            for b in (tally.breakdown or [])]


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _form_errors(form) -> str:
    return " ".join(f"{form.fields[k].label if k in form.fields else k}: {' '.join(v)}"
                    if k != "__all__" else " ".join(v) for k, v in form.errors.items())


def tally_list(request):
    filterset = TallyFilterSet(request.GET or None, tallies_visible(request.user), request=request)
    staff = is_staff(request.user)
    return render(request, "billing/tally_list.html", {
        "filterset": filterset, "filter_form": filterset.form, "staff": staff,
        **keyset_list(request, filterset.qs, table_class=TallyTable, order=TALLY_ORDER, per_page=PER_PAGE,
                      noun="tally", nouns="tallies"),
        "compute_form": TallyComputeForm(initial={"month": f"{svc.previous_month():%Y-%m}"}) if staff else None,
    }, status=filter_status(filterset.form))


def tally_detail(request, pk: int):
    tally = tally_get(request.user, pk)
    staff = is_staff(request.user)
    can_act = staff and tally.status == TallyStatus.DRAFT
    calls_fs = TallyCallFilterSet(request.GET or None, tally_calls(tally))
    calls = keyset_list(request, calls_fs.qs, table_class=TallyCallTable, per_page=PER_PAGE,
                        table_kwargs={"can_act": can_act}, noun="call", drop=("call", "action"))
    call_form = None
    if can_act:
        call_form = TallyCallActionForm(initial={"request_id": request.GET.get("call", ""),
                                                 "action": request.GET.get("action", "exclude")})
    return render(request, "billing/tally_detail.html", {
        "tally": tally, "figures": tally_as_dict(tally), "amount": svc.tally_amount(tally),
        "overdue": tally_is_overdue(tally), "staff": staff, "can_act": can_act,
        "calls_filter": calls_fs, **calls, "calls_table": calls["table"],
        "events": _events(tally), "breakdown": _breakdown(tally),
        "month_label": date_format(tally.month, "YEAR_MONTH_FORMAT"),
        "approve_form": TallyApproveForm() if can_act else None,
        "reject_form": TallyRejectForm() if can_act else None,
        "credited_form": TallyCreditedForm() if staff and tally.status == TallyStatus.APPROVED else None,
        "call_form": call_form,
        "today": billing_today(),
    })


def _step(request, pk, form_class, run, done: str):
    """Run one staff step from a POSTed form; errors come back as a message on the tally page."""
    tally = tally_get(request.user, pk)
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
    else:
        try:
            run(tally, form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, _errors(exc))
        else:
            messages.success(request, done)
    return redirect("billing:tally", pk=pk)


@require_POST
@staff_required
def tally_approve(request, pk: int):
    return _step(request, pk, TallyApproveForm,
                 lambda t, d: svc.tally_approve(tally=t, by=request.user, amount=d["amount"], reason=d["reason"]),
                 _("Tally approved."))


@require_POST
@staff_required
def tally_reject(request, pk: int):
    return _step(request, pk, TallyRejectForm,
                 lambda t, d: svc.tally_reject(tally=t, by=request.user, reason=d["reason"]), _("Tally rejected."))


@require_POST
@staff_required
def tally_credited(request, pk: int):
    return _step(request, pk, TallyCreditedForm,
                 lambda t, d: svc.tally_mark_credited(tally=t, by=request.user, reference=d["reference"]),
                 _("Tally marked credited."))


@require_POST
@staff_required
def tally_call_action(request, pk: int):
    def run(tally, data):
        row = tally_call_find(tally, data["request_id"])
        if row is None or row.call_id is None:
            raise svc.TallyError(_("No covered call %(id)r in this tally.") % {"id": data["request_id"]})
        step = svc.tally_call_exclude if data["action"] == "exclude" else svc.tally_call_include
        step(tally=tally, call=row.call_id, by=request.user, reason=data["reason"])

    return _step(request, pk, TallyCallActionForm, run, _("Call updated and tally recomputed."))


@require_POST
@staff_required
def tally_compute_now(request):
    """One customer: computed now (a customer-month is a few seconds at most); all: queued."""
    form = TallyComputeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("billing:tallies")
    month, customer = form.cleaned_data["month"], form.cleaned_data["customer"]
    if customer is not None:
        tally = svc.tally_compute(customer=customer, month=month, by=request.user)
        if tally.status != TallyStatus.DRAFT:
            messages.info(request, _("This tally is %(status)s: it is frozen and was not recomputed.") % {
                "status": tally.get_status_display()})
        else:
            messages.success(request, _("Tally of %(customer)s for %(month)s computed.") % {
                "customer": customer.slug, "month": date_format(month, "YEAR_MONTH_FORMAT")})
        return redirect("billing:tally", pk=tally.pk)
    from billing.tasks import tally_compute_now as task

    user_id = request.user.pk
    transaction.on_commit(lambda: task.delay(f"{month:%Y-%m}", None, user_id))
    messages.success(request, _("Tallies of every enrolled customer for %(month)s queued; "
                                "they appear here when computed.") % {"month": date_format(month, "YEAR_MONTH_FORMAT")})
    return redirect(reverse("billing:tallies") + f"?month={month:%Y-%m}")


@require_POST
def tally_export(request, pk: int):
    """Download a tally's calls (Excel): an export job of kind "tally", on the Async Tasks page.
    Staff and the tally's own customer only (another customer's tally is a 404)."""
    tally = tally_get(request.user, pk)
    try:
        job = export_create(user=request.user, customer=tally.customer, date_from=tally.month,
                            date_to=next_month(tally.month) - dt.timedelta(days=1),
                            filters={"tally": tally.pk}, kind="tally")
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("billing:tally", pk=pk)
    messages.success(request, _("Export queued: %(file)s. Download it here when it is done.") % {"file": job.filename})
    return redirect(f"{reverse('logs:tasks')}#job-{job.pk}")
