"""Reads of billing: tallies and reconciliations scoped to what the user may see, and the
tallies' JSON shape (billing.md)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext

from billing.choices import QuestionStatus, TallyStatus
from billing.models import (
    Reconciliation,
    Tally,
    TallyCall,
    TallyEvent,
    TallyMessage,
    TallyQuestion,
    TallyRun,
)
from logs.models.jobs import JobStatus
from logs.money import cents, q6
from logs.scoping import is_staff, scope_by_customer_field
from logs.timeutil import billing_today

OPEN = (TallyStatus.DRAFT, TallyStatus.APPROVED)  # not yet credited nor rejected


def tallies_visible(user) -> QuerySet:
    """Tallies the user may see: all for staff, the own customer's for a customer's user."""
    qs = Tally.objects.select_related("customer").order_by("-month", "customer__slug", "id")
    return scope_by_customer_field(user, qs)


def tallies_listed(user) -> QuerySet:
    """`tallies_visible` with whether each tally has a question waiting for staff (`open_question`)."""
    waiting = TallyQuestion.objects.filter(tally=OuterRef("pk"), status=QuestionStatus.OPEN)
    return tallies_visible(user).annotate(open_question=Exists(waiting))


def open_questions_q() -> Q:
    """Tallies with a question waiting for staff."""
    return Q(pk__in=TallyQuestion.objects.filter(status=QuestionStatus.OPEN).values("tally_id"))


def open_questions_count(user) -> int:
    """Questions waiting for staff (staff see every tally's; a small table)."""
    qs = TallyQuestion.objects.filter(status=QuestionStatus.OPEN)
    if not is_staff(user):
        qs = qs.filter(tally__customer_id=getattr(user, "customer_id", None) or 0)
    return qs.count()


def tally_questions(tally: Tally) -> list[TallyQuestion]:
    """A tally's questions, oldest first, each with its messages (and their authors)."""
    return list(TallyQuestion.objects.filter(tally=tally).select_related("opened_by")
                .prefetch_related(Prefetch("messages", TallyMessage.objects.select_related("by")))
                .order_by("opened_at", "id"))


def tally_question_get(user, tally_pk: int, pk: int) -> TallyQuestion:
    """A question of a tally the user may see; another customer's is a 404."""
    tally = tally_get(user, tally_pk)
    return get_object_or_404(TallyQuestion.objects.select_related("tally__customer"), tally=tally, pk=pk)


def tally_month_totals(qs, *, months) -> list[dict]:
    """Per month of `months` (those on the page), over the tallies of `qs` in them: how many,
    eligible, credit and amount (approved where staff set one, else the credit). A month holds
    one tally per customer at most, so the rows read are bounded by the page's months."""
    totals: dict = {}
    for month, eligible, credit, approved in (qs.filter(month__in=list(months)).order_by()
                                             .values_list("month", "eligible", "credit_usd", "approved_usd")):
        t = totals.setdefault(month, {"month": month, "tallies": 0, "eligible": 0,
                                      "credit_usd": Decimal(0), "amount_usd": Decimal(0)})
        t["tallies"] += 1
        t["eligible"] += bool(eligible)
        t["credit_usd"] += credit or 0
        t["amount_usd"] += approved if approved is not None else (credit or 0)
    return [{**t, "credit_usd": cents(t["credit_usd"]), "amount_usd": cents(t["amount_usd"])}
            for _, t in sorted(totals.items(), reverse=True)]


def tally_get(user, pk: int) -> Tally:
    """One tally the user may see; another customer's is a 404."""
    return get_object_or_404(tallies_visible(user), pk=pk)


def tally_calls(tally: Tally) -> QuerySet:
    return TallyCall.objects.filter(tally=tally).order_by("created_at", "id")


def tally_call_find(tally: Tally, request_id: str) -> TallyCall | None:
    """The tally's covered call with that request ID (surrounding blanks ignored), or None."""
    return TallyCall.objects.filter(tally=tally, request_id=request_id.strip()).first()


def tally_events(tally: Tally) -> QuerySet:
    return TallyEvent.objects.filter(tally=tally).select_related("by").order_by("at", "id")


def tally_is_overdue(tally: Tally, today: dt.date | None = None) -> bool:
    """Due and not credited yet (drafts and approved ones past the due date)."""
    return tally.status in OPEN and tally.due_date < (today or billing_today())


def tallies_overdue_q(today: dt.date | None = None) -> Q:
    return Q(status__in=OPEN, due_date__lt=today or billing_today())


def factor_str(value: Decimal) -> str:
    """1.1500 -> "1.15", 1.0000 -> "1"."""
    text = format(Decimal(value).normalize(), "f")
    return text


def tally_as_dict(tally: Tally) -> dict:
    """The figures of a tally with billing.md's JSON keys (amounts and factor as strings)."""
    return {
        "customer": tally.customer.slug,
        "month": f"{tally.month:%Y-%m}",
        "eligible": bool(tally.eligible),
        "reason": tally.reason or None,
        "spend_usd": str(cents(tally.spend_usd)),
        "failed_calls": tally.failed_calls,
        "excluded_calls": tally.excluded_calls,
        "counted_calls": tally.counted_calls,
        "gross_usd": str(q6(tally.gross_usd)),
        "discount_factor": factor_str(tally.discount_factor),
        "credit_usd": str(cents(tally.credit_usd)),
        "status": tally.status,
        "due_date": tally.due_date.isoformat(),
    }


# --- reconciliations ---------------------------------------------------------------------------

def reconciliations_visible(user, *, customer=None) -> QuerySet:
    """Reconciliations the user may see (staff: every customer's, or `customer`'s when picked;
    a customer's user: its own customer's only)."""
    qs = scope_by_customer_field(user, Reconciliation.objects.select_related("customer"))
    if customer is not None and is_staff(user):
        qs = qs.filter(customer=customer)
    return qs


def reconciliation_get(user, pk: int) -> Reconciliation:
    """One reconciliation the user may see; another customer's is a 404."""
    obj = scope_by_customer_field(user, Reconciliation.objects.select_related("customer")).filter(pk=pk).first()
    if obj is None:
        raise Http404(gettext("No such reconciliation."))
    return obj


# --- "compute now" jobs ------------------------------------------------------------------------

def tally_runs_visible(user) -> QuerySet:
    """Staff "compute now" jobs: staff see every one; a customer's user none (staff's work)."""
    qs = TallyRun.objects.select_related("customer", "created_by")
    return qs if is_staff(user) else qs.none()


def tally_runs_shown(user, *, run_id=None) -> list:
    """The computations the tallies page shows: those queued or running, and the one just
    started (`run_id`, from the redirect) even when it has ended."""
    qs = tally_runs_visible(user)
    active = list(qs.filter(status__in=JobStatus.ACTIVE)[:10])
    try:
        pk = int(run_id) if run_id else None
    except (TypeError, ValueError):
        pk = None
    if pk is not None and all(r.pk != pk for r in active):
        active = [*qs.filter(pk=pk), *active]
    return active
