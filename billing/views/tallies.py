"""Tally pages: thin views over billing.selectors (reads) and billing.services.tally (steps).

Staff see every tally and act on them; a customer's user sees its own, read-only (another
customer's tally is a 404). Every step is a POST that calls one service and redirects.
"""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import HiddenInput
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from billing.choices import QuestionKind, TallyStatus
from billing.filtersets import TallyCallFilterSet, TallyFilterSet
from billing.forms.tallies import (
    QuestionForm,
    ReplyForm,
    TallyApproveForm,
    TallyCallActionForm,
    TallyComputeForm,
    TallyCreditedForm,
    TallyRejectForm,
)
from billing.models import TallyRun
from billing.selectors import (
    open_questions_count,
    tallies_listed,
    tallies_visible,
    tally_as_dict,
    tally_call_find,
    tally_calls,
    tally_events,
    tally_get,
    tally_is_overdue,
    tally_month_totals,
    tally_question_get,
    tally_questions,
    tally_runs_shown,
)
from billing.services import questions as qsvc, tally as svc
from billing.services.estimate import credit_estimate
from billing.tables.tallies import TALLY_ORDER, TallyCallTable, TallyTable
from billing.texts import detail_text
from logs.scoping import current_customer, is_staff, staff_only
from logs.selectors.jobs import job_status
from logs.services.exports import export_create
from logs.timeutil import billing_today, next_month
from logs.views.base import filter_status, keyset_list

PER_PAGE = 50


staff_required = staff_only(gettext_lazy("Only staff may act on tallies."))


# The steps of a tally's audit trail (TallyEvent.action codes: billing.services.tally and .questions),
# as a person reads them; an action not listed is shown as stored.
ACTION_LABELS = {
    "computed": gettext_lazy("computed"), "approved": gettext_lazy("approved"),
    "rejected": gettext_lazy("rejected"), "credited": gettext_lazy("credited"),
    "call excluded": gettext_lazy("call excluded"), "call re-included": gettext_lazy("call re-included"),
    "question raised": gettext_lazy("question raised"), "dispute raised": gettext_lazy("dispute raised"),
    "question answered": gettext_lazy("question answered"),
    "question answered and closed": gettext_lazy("question answered and closed"),
    "question follow-up": gettext_lazy("question follow-up"), "question closed": gettext_lazy("question closed"),
}


def _events(tally) -> list:
    """The audit trail with each step's action and stored detail in the reader's language
    (statuses: the template's `label` filter)."""
    events = list(tally_events(tally))
    for e in events:
        e.action_label = ACTION_LABELS.get(e.action, e.action)
        e.detail_shown = detail_text(e.detail)
    return events


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _form_errors(form) -> str:
    return " ".join(f"{form.fields[k].label if k in form.fields else k}: {' '.join(v)}"
                    if k != "__all__" else " ".join(v) for k, v in form.errors.items())


def _estimates(request, filterset, staff) -> list:
    """The month-to-date estimate of the customer the list is about (the own one; for staff the
    filtered or switched-to one), and last month's while its tally is not computed yet."""
    customer = None
    if filterset.form.is_bound and filterset.form.is_valid():
        customer = filterset.form.cleaned_data.get("customer")
    if customer is None:
        try:
            customer = current_customer(request)
        except PermissionDenied:  # a user linked to no customer: the (empty) list, no estimate
            return []
    if customer is None:
        return []
    current = credit_estimate(customer=customer)
    shown = [current]
    last = svc.previous_month(current.month + dt.timedelta(days=1))
    enrolled = customer.enrolled_from is not None and customer.enrolled_from < current.month
    if enrolled and last >= settings.NBAUDIT_PLAN_START and not tallies_visible(request.user).filter(
            customer=customer, month=last).exists():
        shown.insert(0, credit_estimate(customer=customer, month=last))
    return shown


def tally_list(request):
    staff = is_staff(request.user)
    data = request.GET.copy()
    # The list follows the customer picked at the top (staff), unless the filter names one.
    picked = current_customer(request) if staff else None
    if picked is not None and "customer" not in data:
        data["customer"] = picked.slug
    filterset = TallyFilterSet(data or None, tallies_listed(request.user), request=request)
    listed = keyset_list(request, filterset.qs, table_class=TallyTable, order=TALLY_ORDER, per_page=PER_PAGE,
                         noun="tally", nouns="tallies", drop=("run",))
    runs = tally_runs_shown(request.user, run_id=request.GET.get("run"))
    if any(r.is_active for r in runs):  # not "No tallies match" while they are being computed
        listed["table"].empty_text = _("Computing: the tallies appear here when the computation above ends.")
    return render(request, "billing/tally_list.html", {
        "filterset": filterset, "filter_form": filterset.form, "staff": staff, "runs": runs, **listed,
        "compute_form": TallyComputeForm(initial={"month": f"{svc.previous_month():%Y-%m}"}) if staff else None,
        "estimates": _estimates(request, filterset, staff),
        "month_totals": tally_month_totals(filterset.qs, months={t.month for t in listed["page"].rows})
        if not filterset.form.errors else [],
        "open_questions": open_questions_count(request.user) if staff else 0,
    }, status=filter_status(filterset.form))


@require_GET
@staff_required
def tally_run_status(request, pk: int):
    """A "compute now" job's status (the one job status shape), for poll.js."""
    run = get_object_or_404(TallyRun, pk=pk)
    return JsonResponse(job_status(run, tallies=list(run.tally_ids)))


def tally_detail(request, pk: int):
    return _detail(request, tally_get(request.user, pk))


def _detail(request, tally, *, bound: dict | None = None, status: int = 200):
    """The tally page; `bound`: a step's form as it was sent, with its errors beside its fields."""
    staff = is_staff(request.user)
    can_act = staff and tally.status == TallyStatus.DRAFT
    calls_fs = TallyCallFilterSet(request.GET or None, tally_calls(tally))
    calls = keyset_list(request, calls_fs.qs, table_class=TallyCallTable, per_page=PER_PAGE,
                        table_kwargs={"can_act": can_act}, noun="call", drop=("call", "action"))
    call_form = None
    if can_act:
        call_form = TallyCallActionForm(initial={"request_id": request.GET.get("call", ""),
                                                 "action": request.GET.get("action", "exclude")})
    forms = {
        "approve_form": TallyApproveForm() if can_act else None,
        "reject_form": TallyRejectForm() if can_act else None,
        "credited_form": TallyCreditedForm() if staff and tally.status == TallyStatus.APPROVED else None,
        "call_form": call_form,
    }
    forms.update({name: form for name, form in (bound or {}).items() if forms.get(name) is not None})
    return render(request, "billing/tally_detail.html", {
        "tally": tally, "figures": tally_as_dict(tally), "amount": svc.tally_amount(tally),
        "overdue": tally_is_overdue(tally), "staff": staff, "can_act": can_act,
        "calls_filter": calls_fs, **calls, "calls_table": calls["table"],
        "events": _events(tally),
        "month_label": date_format(tally.month, "YEAR_MONTH_FORMAT"),
        **forms,
        "today": billing_today(),
        "questions": tally_questions(tally),
        "question_form": QuestionForm(),
        "reply_form": ReplyForm(),
    }, status=status)


def _field_for(form, message: str) -> str | None:
    """The field a step's refusal is about (named in its words), so it shows beside that field."""
    text = message.lower()
    found = []
    for name, field in form.fields.items():
        if isinstance(field.widget, HiddenInput):
            continue
        for word in (name.replace("_", " "), str(field.label or "").lower()):
            at = text.find(word) if word else -1
            if at >= 0:
                found.append((at, name))
    return min(found)[1] if found else None  # the field named first


def _step(request, pk, form_class, run, done: str, *, name: str):
    """Run one staff step from a POSTed form. Done: back to the tally page with a message.
    Refused: the page again (400) with the form as it was typed and the error beside its field."""
    tally = tally_get(request.user, pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            run(tally, form.cleaned_data)
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(_field_for(form, message), message)
        else:
            messages.success(request, done)
            return redirect("billing:tally", pk=pk)
    messages.error(request, _("Nothing was changed: see the error beside the field below."))
    return _detail(request, tally_get(request.user, pk), bound={name: form}, status=400)


@require_POST
@staff_required
def tally_approve(request, pk: int):
    return _step(request, pk, TallyApproveForm,
                 lambda t, d: svc.tally_approve(tally=t, by=request.user, amount=d["amount"], reason=d["reason"]),
                 _("Tally approved."), name="approve_form")


@require_POST
@staff_required
def tally_reject(request, pk: int):
    return _step(request, pk, TallyRejectForm,
                 lambda t, d: svc.tally_reject(tally=t, by=request.user, reason=d["reason"]), _("Tally rejected."),
                 name="reject_form")


@require_POST
@staff_required
def tally_credited(request, pk: int):
    return _step(request, pk, TallyCreditedForm,
                 lambda t, d: svc.tally_mark_credited(tally=t, by=request.user, reference=d["reference"]),
                 _("Tally marked credited."), name="credited_form")


@require_POST
@staff_required
def tally_call_action(request, pk: int):
    def run(tally, data):
        row = tally_call_find(tally, data["request_id"])
        if row is None or row.call_id is None:
            raise svc.TallyError(_("No covered call %(id)r in this tally.") % {"id": data["request_id"]})
        step = svc.tally_call_exclude if data["action"] == "exclude" else svc.tally_call_include
        step(tally=tally, call=row.call_id, by=request.user, reason=data["reason"])

    return _step(request, pk, TallyCallActionForm, run, _("Call updated and tally recomputed."), name="call_form")


@require_POST
@staff_required
def tally_compute_now(request):
    """One customer: computed now (a customer-month is a few seconds at most); all: queued."""
    form = TallyComputeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("billing:tallies")
    month, customer = form.cleaned_data["month"], form.cleaned_data["customer"]
    run = svc.tally_run_create(user=request.user, month=month, customer=customer)
    shown = {"month": date_format(month, "YEAR_MONTH_FORMAT"), "pk": run.pk}
    if customer is not None:
        shown["customer"] = customer.display_name
    if run.existing:
        if customer is not None:
            text = _("The tallies of %(customer)s for %(month)s are already being computed (#%(pk)s); "
                     "no second computation was started.")
        else:
            text = _("The tallies of every enrolled customer for %(month)s are already being computed "
                     "(#%(pk)s); no second computation was started.")
        messages.info(request, text % shown)
    else:
        if customer is not None:
            text = _("Computing the tallies of %(customer)s for %(month)s: progress below; they are listed "
                     "when it ends (frozen tallies are left as they are).")
        else:
            text = _("Computing the tallies of every enrolled customer for %(month)s: progress below; they "
                     "are listed when it ends (frozen tallies are left as they are).")
        messages.success(request, text % shown)
    query = {"month": f"{month:%Y-%m}", "run": run.pk}
    if customer is not None:
        query["customer"] = customer.slug
    return redirect(reverse("billing:tallies") + "?" + urlencode(query))


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
    if job.existing:
        messages.info(request, _("This download is already %(status)s (#%(pk)s); no second one was started. "
                                 "Download it here when it is done.") % {
            "status": job.get_status_display().lower(), "pk": job.pk})
    else:
        messages.success(request, _("Export queued: %(file)s. Download it here when it is done.") % {
            "file": job.filename})
    return redirect(f"{reverse('logs:tasks')}#job-{job.pk}")


@require_POST
def tally_question_open(request, pk: int):
    """A customer raises a question or dispute on its tally (staff may too, on its behalf)."""
    tally = tally_get(request.user, pk)
    form = QuestionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect(reverse("billing:tally", args=[pk]) + "#questions")
    try:
        question = qsvc.question_open(tally=tally, by=request.user, text=form.cleaned_data["text"],
                                      kind=form.cleaned_data["kind"])
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect(reverse("billing:tally", args=[pk]) + "#questions")
    messages.success(request, _("Your dispute was sent; staff answer here.") if question.kind == QuestionKind.DISPUTE
                     else _("Your question was sent; staff answer here."))
    return redirect(reverse("billing:tally", args=[pk]) + f"#question-{question.pk}")


@require_POST
def tally_question_reply(request, pk: int, qid: int):
    question = tally_question_get(request.user, pk, qid)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
    else:
        try:
            qsvc.question_reply(question=question, by=request.user, text=form.cleaned_data["text"],
                                close=bool(form.cleaned_data.get("close")) and is_staff(request.user))
        except ValidationError as exc:
            messages.error(request, _errors(exc))
        else:
            messages.success(request, _("Reply sent."))
    return redirect(reverse("billing:tally", args=[pk]) + f"#question-{qid}")


@require_POST
def tally_question_close(request, pk: int, qid: int):
    question = tally_question_get(request.user, pk, qid)
    try:
        qsvc.question_close(question=question, by=request.user)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, _("Question closed."))
    return redirect(reverse("billing:tally", args=[pk]) + f"#question-{qid}")
