"""The failed-generation reimbursement plan (billing.md): month-end tallies and their approval.

`tally_compute` is the one place the rules live; the beat task, the staff "compute now"
button and `manage.py tally` all call it. The counting is done in SQL: the spend is an
aggregate, the repeated-request rule is a ROW_NUMBER() window over the month's covered
calls, and the tally's calls are written with one INSERT ... SELECT. Python only loops over
the calls that have no charge logged (priced from the catalog) and over staff overrides.

Decisions where billing.md is silent:

- Covered calls are `logs.coverage.COVERED` (HTTP 200 or no status, per-request Pro, a
  failed generation), the one rule the call page and the reconciliation use too.
- The repeat rule ranks every covered call of a fingerprint by (created_at, id); staff
  overrides are applied on top of it (a re-included call counts even as a 4th repeat, an
  excluded one does not free a place for a later repeat).
- An ineligible tally still shows its figures (spend, covered, counted, gross) but its
  credit is 0.00.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from contextlib import contextmanager
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from billing.choices import IneligibleReason, TallyCallStatus, TallyStatus
from billing.models import Tally, TallyCall, TallyEvent, TallyOverride, TallyRun
from logs.coverage import COVERED
from logs.models import Call, Customer
from logs.models.jobs import JobStatus
from logs.money import CENT, ZERO, cents, parse_amount, q6, usd, usd_total
from logs.pricing import Catalog
from logs.services.jobs import job_claim, job_fail, job_finish, job_progress, jobs_fail_silent
from logs.timeutil import billing_today, month_first, month_range, next_month

FROZEN = (TallyStatus.APPROVED, TallyStatus.REJECTED, TallyStatus.CREDITED)
REPEATED_REASON = gettext_noop("repeated request: the same prompt already had {limit} covered failures earlier this month")


class TallyError(ValidationError):
    """A tally step that the rules refuse; the message says why (shown to staff as is)."""


# --- dates -----------------------------------------------------------------------------------

def business_day_nth(*, first: dt.date, n: int, holidays=None) -> dt.date:
    """The n-th business day (Monday to Friday, less `holidays`) on or after `first`."""
    holidays = set(settings.NBAUDIT_HOLIDAYS if holidays is None else holidays)
    day, seen = first, 0
    while True:
        if day.weekday() < 5 and day not in holidays:
            seen += 1
            if seen == n:
                return day
        day += dt.timedelta(days=1)


def tally_due_date(*, month: dt.date) -> dt.date:
    """The credit is due on the 5th business day of the month after `month`."""
    return business_day_nth(first=next_month(month_first(month)),
                            n=settings.NBAUDIT_PLAN_DUE_BUSINESS_DAYS)


def previous_month(today: dt.date | None = None) -> dt.date:
    today = today or billing_today()
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


# --- the queries -----------------------------------------------------------------------------

def _month_calls(*, customer: Customer, month: dt.date):
    start, end = month_range(month)
    return Call.objects.filter(customer=customer, created_at__gte=start, created_at__lt=end)


def covered_calls(*, customer: Customer, month: dt.date):
    """Rule 1: per-request Pro calls of the month that returned HTTP 200 and failed to generate."""
    return _month_calls(customer=customer, month=month).filter(COVERED)


def month_spend(*, customer: Customer, month: dt.date) -> Decimal:
    """Rule 2: the exact sum of what was charged in the month, over all models."""
    total = _month_calls(customer=customer, month=month).aggregate(s=Sum("charged_usd"))["s"]
    return q6(total or 0)


def _eligibility(*, customer: Customer, month: dt.date, spend: Decimal) -> str:
    """The first reason that applies, or "" when eligible."""
    if month < settings.NBAUDIT_PLAN_START:
        return IneligibleReason.BEFORE_PLAN_START
    if customer.enrolled_from is None or month_first(customer.enrolled_from) > month:
        return IneligibleReason.NOT_ENROLLED
    if spend < settings.NBAUDIT_PLAN_MIN_SPEND:
        return IneligibleReason.SPEND_BELOW_THRESHOLD
    return ""


def _catalog_prices(*, tally: Tally) -> dict[int, Decimal]:
    """Calls with no charge logged: the catalog's per-request price at their time x group ratio."""
    ids = list(TallyCall.objects.filter(tally=tally, priced_from_catalog=True).values_list("call_id", flat=True))
    return catalog_prices(call_ids=ids)


def catalog_prices(*, call_ids) -> dict[int, Decimal]:
    """The catalog's per-request price x group ratio of these calls (rule 5, no charge logged)."""
    ids = list(call_ids)
    if not ids:
        return {}
    catalog = Catalog.load()
    prices = {}
    for i in range(0, len(ids), 500):
        rows = Call.objects.filter(pk__in=ids[i:i + 500]).values_list(
            "id", "family", "model", "route", "group_ratio", "created_at")
        for pk, family, model, route, ratio, at in rows:
            price = catalog.find(family=family, model=model, route=route, at=at)
            per_request = price.per_request if price is not None and price.per_request is not None else ZERO
            prices[pk] = q6(per_request * (ratio if ratio is not None else Decimal(1)))
    return prices


# PostgreSQL, for the one INSERT ... SELECT of a tally (restored right after): sort the month's
# covered calls for the window in memory, and read them with a bitmap scan of the
# (customer, category, created_at) index rather than walking every call of the customer in
# index order (which the planner prefers when a customer's calls are stored together, and
# which took 2-3 times as long on a 1,000,000-call month).
# JIT compiling is off for the tally's few queries: it cost more than it saved (~50 ms each).
PG_TALLY_SETTINGS = {"work_mem": "64MB", "enable_indexscan": "off", "jit": "off"}
PG_COMPUTE_SETTINGS = {"jit": "off"}


@contextmanager
def _pg_local(cur, values: dict):
    if connection.vendor != "postgresql":
        yield
        return
    before = {}
    for name, value in values.items():
        cur.execute("SELECT current_setting(%s), set_config(%s, %s, true)", [name, name, value])
        before[name] = cur.fetchone()[0]
    try:
        yield
    finally:
        for name, value in before.items():
            cur.execute("SELECT set_config(%s, %s, true)", [name, value])


def _write_calls(*, tally: Tally, covered) -> None:
    """Replace the tally's calls: one INSERT ... SELECT, the repeat rule as a window function."""
    TallyCall.objects.filter(tally=tally).delete()
    ranked = covered.annotate(
        rn=Window(expression=RowNumber(), partition_by=[F("prompt_fingerprint")],
                  order_by=[F("created_at").asc(), F("id").asc()])
    ).values("id", "request_id", "created_at", "model", "family", "category", "charged_usd",
             "prompt_fingerprint", "rn")
    inner_sql, inner_params = ranked.query.sql_with_params()
    limit = settings.NBAUDIT_PLAN_REPEAT_LIMIT
    table = connection.ops.quote_name(TallyCall._meta.db_table)
    sql = (
        f"INSERT INTO {table} (tally_id, call_id, request_id, created_at, model, family, category,"
        " price_usd, priced_from_catalog, prompt_fingerprint, status, reason)"
        " SELECT %s, sub.id, sub.request_id, sub.created_at, sub.model, sub.family, sub.category,"
        " COALESCE(sub.charged_usd, 0), CASE WHEN sub.charged_usd IS NULL THEN %s ELSE %s END,"
        " sub.prompt_fingerprint,"
        " CASE WHEN sub.prompt_fingerprint <> '' AND sub.rn > %s THEN %s ELSE %s END, ''"
        f" FROM ({inner_sql}) sub"
    )
    # The reason of a call excluded as repeated is its status (see REPEATED_REASON); only staff
    # decisions carry a written reason, which keeps the rows narrow.
    params = [tally.pk, True, False, limit, TallyCallStatus.REPEATED.value, TallyCallStatus.COUNTED.value,
              *inner_params]
    with connection.cursor() as cur, _pg_local(cur, PG_TALLY_SETTINGS):
        cur.execute(sql, params)

    # Calls with no charge logged: priced from the catalog (usually none; grouped by price).
    by_price = defaultdict(list)
    for call_id, price in _catalog_prices(tally=tally).items():
        by_price[price].append(call_id)
    for price, ids in by_price.items():
        for i in range(0, len(ids), 500):
            TallyCall.objects.filter(tally=tally, call_id__in=ids[i:i + 500]).update(price_usd=price)

    # Staff decisions, re-applied (few rows: one per staff action).
    overrides = TallyOverride.objects.filter(customer_id=tally.customer_id, month=tally.month)
    for ov in overrides:
        if ov.exclude:
            status, reason = TallyCallStatus.EXCLUDED, f"excluded by staff: {ov.reason}"
        else:
            status, reason = TallyCallStatus.COUNTED, f"re-included by staff: {ov.reason}"
        TallyCall.objects.filter(tally=tally, call_id=ov.call_id).update(status=status, reason=reason[:300])


def _figures(tally: Tally) -> None:
    """Counts, gross and breakdown of the tally's calls: one aggregate query, grouped."""
    counted = Q(status=TallyCallStatus.COUNTED)
    rows = (TallyCall.objects.filter(tally=tally).values("family", "category")
            .annotate(failed=Count("id"), counted=Count("id", filter=counted),
                      repeated=Count("id", filter=Q(status=TallyCallStatus.REPEATED)),
                      excluded=Count("id", filter=Q(status=TallyCallStatus.EXCLUDED)),
                      gross=Sum("price_usd", filter=counted))
            .order_by("family", "category"))
    tally.breakdown = [
        {"family": r["family"], "category": r["category"], "failed": r["failed"],
         "repeated": r["repeated"], "excluded": r["excluded"], "counted": r["counted"],
         "gross_usd": str(q6(r["gross"] or 0))}
        for r in rows
    ]
    tally.failed_calls = sum(b["failed"] for b in tally.breakdown)
    tally.counted_calls = sum(b["counted"] for b in tally.breakdown)
    tally.excluded_calls = tally.failed_calls - tally.counted_calls
    tally.gross_usd = q6(sum((Decimal(b["gross_usd"]) for b in tally.breakdown), Decimal(0)))


def _event(tally: Tally, *, by, action: str, detail: str = "", amount_before=None, status_before=""):
    return TallyEvent.objects.create(
        tally=tally, by=by if (by is not None and getattr(by, "pk", None)) else None, action=action,
        detail=detail[:2000], amount_before=amount_before, amount_after=tally_amount(tally),
        status_before=status_before or "", status_after=tally.status,
    )


def tally_amount(tally: Tally) -> Decimal:
    """What is (to be) credited: the approved amount where staff set one, else the credit."""
    return tally.approved_usd if tally.approved_usd is not None else tally.credit_usd


# --- compute -----------------------------------------------------------------------------------

def tally_compute(*, customer: Customer, month: dt.date, by=None) -> Tally:
    """Compute (or recompute) a customer's month as a draft; a frozen tally is returned as is.

    Idempotent and safe to run twice at once: the (customer, month) row is unique, created
    with get_or_create and locked with SELECT ... FOR UPDATE before its calls are replaced.
    """
    month = month_first(month)
    with transaction.atomic():
        tally, created = Tally.objects.get_or_create(
            customer=customer, month=month, defaults={"due_date": tally_due_date(month=month)})
        tally = Tally.objects.select_for_update().get(pk=tally.pk)
        if tally.status in FROZEN:
            return tally
        amount_before = None if created else tally_amount(tally)
        customer = Customer.objects.get(pk=customer.pk)  # the factor and enrolment as of now

        with connection.cursor() as cur, _pg_local(cur, PG_COMPUTE_SETTINGS):
            spend = month_spend(customer=customer, month=month)
            reason = _eligibility(customer=customer, month=month, spend=spend)
            _write_calls(tally=tally, covered=covered_calls(customer=customer, month=month))
            _figures(tally)

        factor = customer.topup_factor if customer.topup_factor and customer.topup_factor > 0 else Decimal(1)
        tally.spend_usd = spend
        tally.eligible = not reason
        tally.reason = reason
        tally.discount_factor = factor
        tally.credit_usd = cents(tally.gross_usd / factor) if not reason else Decimal("0.00")
        tally.approved_usd = None
        tally.due_date = tally_due_date(month=month)
        tally.computed_at = timezone.now()
        tally.save()
        _event(tally, by=by, action="computed", amount_before=amount_before,
               status_before="" if created else TallyStatus.DRAFT,
               detail=(f"spend {usd_total(spend)}, covered {tally.failed_calls}, excluded {tally.excluded_calls}, "
                       f"counted {tally.counted_calls}, gross {usd(tally.gross_usd)}, top-up discount factor "
                       f"{factor.normalize():f}"
                       + (f"; not eligible: {IneligibleReason(reason).label.lower()}" if reason else "")))
    return tally


def enrolled_customers(*, month: dt.date):
    """Customers enrolled for `month`: enrolled from a date in that month or before."""
    return Customer.objects.filter(enrolled_from__isnull=False,
                                   enrolled_from__lt=next_month(month_first(month))).order_by("slug")


def tally_month_end(*, month: dt.date | None = None, by=None) -> list[Tally]:
    """Tally a month (default: the previous one in UTC+8) for every enrolled customer."""
    month = month_first(month) if month else previous_month()
    return [tally_compute(customer=c, month=month, by=by) for c in enrolled_customers(month=month)]


# --- "compute now" as a job ---------------------------------------------------------------------

TALLY_RUN_STALE_AFTER = dt.timedelta(minutes=10)  # one customer-month takes seconds
TALLY_RUN_WORKER_LOST = "The worker stopped while computing; please compute again."


def tally_run_create(*, user, month: dt.date, customer: Customer | None = None) -> TallyRun:
    """Record a staff "compute now" (one customer's month, or every enrolled customer's) and
    queue it after commit. The same run asked for again while it is queued or running is that
    run (`run.existing` True), not a second one."""
    month = month_first(month)
    with transaction.atomic():
        pending = TallyRun.objects.filter(month=month, customer=customer, status__in=JobStatus.ACTIVE
                                          ).order_by("created_at", "id").first()
        if pending is not None:
            pending.existing = True
            return pending
        run = TallyRun.objects.create(month=month, customer=customer, created_by=user, status=JobStatus.QUEUED)
        run.existing = False
        run_id = run.pk

        def send():
            from billing.tasks import tally_run_task

            try:
                tally_run_task.delay(run_id)
            except Exception:  # noqa: BLE001  (a broker that cannot be reached: failed in words)
                job_fail(job=TallyRun(pk=run_id), error="The computation could not be queued (the task "
                                                        "queue is unreachable); please try again.")

        transaction.on_commit(send)
    return run


def tally_run_execute(*, run_id: int) -> TallyRun | None:
    """The task's body: claim the run, compute each customer's month (progress: customers done
    of customers to do), record the tallies. A failure is recorded in words on the run."""
    run = TallyRun.objects.select_related("customer", "created_by").filter(pk=run_id).first()
    if run is None or not job_claim(job=run):
        return run
    customers = [run.customer] if run.customer_id else list(enrolled_customers(month=run.month))
    job_progress(job=run, rows_done=0, rows_total=len(customers))
    ids, frozen = [], 0
    try:
        for n, customer in enumerate(customers, 1):
            tally = tally_compute(customer=customer, month=run.month, by=run.created_by)
            ids.append(tally.pk)
            frozen += tally.status in FROZEN
            if not job_progress(job=run, rows_done=n, tally_ids=ids, frozen=frozen):
                return run  # cancelled meanwhile: what was computed stays
    except Exception as exc:  # noqa: BLE001  (recorded in words, logged whole)
        import logging

        logging.getLogger("billing.tally").exception("tally run %s failed", run_id)
        job_fail(job=run, error=f"The computation failed: {exc.__class__.__name__}: {exc}")
        return run
    job_finish(job=run, rows_done=len(customers), rows_total=len(customers), tally_ids=ids, frozen=frozen)
    return run


def tally_runs_reap(*, now: dt.datetime | None = None) -> list[int]:
    """Running computations whose worker stopped: failed, in words (staff compute again)."""
    return jobs_fail_silent(queryset=TallyRun.objects.all(), stale_after=TALLY_RUN_STALE_AFTER,
                            message=TALLY_RUN_WORKER_LOST, now=now)


# --- the approval steps ------------------------------------------------------------------------

def _require_staff(by) -> None:
    if by is None or not getattr(by, "is_staff", False):
        raise PermissionDenied(gettext("Only staff may act on a tally."))


def _locked(tally: Tally) -> Tally:
    return Tally.objects.select_for_update().get(pk=tally.pk)


# The steps, as the messages name them (translated when raised).
STEP_WORDS = {"approve": gettext_noop("approve"), "reject": gettext_noop("reject"),
              "mark credited": gettext_noop("mark credited"), "exclude": gettext_noop("exclude"),
              "re-include": gettext_noop("re-include"), "adjust the amount": gettext_noop("adjust the amount"),
              "reject a tally": gettext_noop("reject a tally"), "exclude a call": gettext_noop("exclude a call"),
              "re-include a call": gettext_noop("re-include a call")}


def _require_status(tally: Tally, *allowed: str, doing: str) -> None:
    if tally.status not in allowed:
        raise TallyError(gettext("Cannot %(doing)s a tally that is %(status)s; it must be %(allowed)s.") % {
            "doing": gettext(STEP_WORDS.get(doing, doing)), "status": str(TallyStatus(tally.status).label).lower(),
            "allowed": gettext(" or ").join(str(TallyStatus(a).label).lower() for a in allowed)})


def _reason(text: str | None, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise TallyError(gettext("A reason is required to %(what)s.") % {"what": gettext(STEP_WORDS.get(what, what))})
    return text


def tally_approve(*, tally: Tally, by, amount: Decimal | str | None = None, reason: str = "") -> Tally:
    """Approve a draft, at its credit or at an adjusted amount (which needs a reason)."""
    _require_staff(by)
    with transaction.atomic():
        tally = _locked(tally)
        _require_status(tally, TallyStatus.DRAFT, doing="approve")
        before, status_before = tally_amount(tally), tally.status
        detail = "approved"
        if amount not in (None, ""):
            try:
                value = parse_amount(amount)
            except ValueError:
                raise TallyError(gettext("Not an amount: %(amount)r.") % {"amount": amount}) from None
            if value < 0:
                raise TallyError(gettext("Not an amount: %(amount)r.") % {"amount": amount})
            if value != value.quantize(CENT):
                raise TallyError(gettext("The amount must be in whole cents: %(amount)r.") % {"amount": amount})
            value = value.quantize(CENT)
            if value != tally.credit_usd:
                reason = _reason(reason, "adjust the amount")
                detail = f"approved at an adjusted amount ({tally.credit_usd} -> {value}): {reason}"
            tally.approved_usd = value
        else:
            tally.approved_usd = tally.credit_usd
        if reason and detail == "approved":
            detail = f"approved: {reason.strip()}"
        tally.status = TallyStatus.APPROVED
        tally.save(update_fields=["approved_usd", "status", "updated_at"])
        _event(tally, by=by, action="approved", detail=detail, amount_before=before, status_before=status_before)
    return tally


def tally_reject(*, tally: Tally, by, reason: str) -> Tally:
    _require_staff(by)
    reason = _reason(reason, "reject a tally")
    with transaction.atomic():
        tally = _locked(tally)
        _require_status(tally, TallyStatus.DRAFT, doing="reject")
        before, status_before = tally_amount(tally), tally.status
        tally.status = TallyStatus.REJECTED
        tally.save(update_fields=["status", "updated_at"])
        _event(tally, by=by, action="rejected", detail=reason, amount_before=before, status_before=status_before)
    return tally


def tally_mark_credited(*, tally: Tally, by, reference: str) -> Tally:
    _require_staff(by)
    reference = (reference or "").strip()
    if not reference:
        raise TallyError(gettext("A reference (the top-up or redemption code) is required to mark a tally credited."))
    with transaction.atomic():
        tally = _locked(tally)
        _require_status(tally, TallyStatus.APPROVED, doing="mark credited")
        before, status_before = tally_amount(tally), tally.status
        tally.status = TallyStatus.CREDITED
        tally.credited_ref = reference[:200]
        tally.save(update_fields=["status", "credited_ref", "updated_at"])
        _event(tally, by=by, action="credited", detail=f"reference {reference}", amount_before=before,
               status_before=status_before)
    return tally


def _call_override(*, tally: Tally, call, by, reason: str, exclude: bool) -> Tally:
    _require_staff(by)
    what = "exclude a call" if exclude else "re-include a call"
    reason = _reason(reason, what)
    call_id = getattr(call, "pk", call)
    with transaction.atomic():
        tally = _locked(tally)
        _require_status(tally, TallyStatus.DRAFT, doing=what.split(" a ")[0])
        row = TallyCall.objects.filter(tally=tally, call_id=call_id).first()
        if row is None:
            raise TallyError(gettext("That call is not a covered failed call of this tally."))
        if exclude and row.status == TallyCallStatus.EXCLUDED:
            raise TallyError(gettext("Call %(id)s is already excluded by staff.") % {"id": row.request_id})
        if not exclude and row.status == TallyCallStatus.COUNTED:
            raise TallyError(gettext("Call %(id)s is already counted.") % {"id": row.request_id})
        TallyOverride.objects.update_or_create(
            customer_id=tally.customer_id, month=tally.month, call_id=call_id,
            defaults={"exclude": exclude, "reason": reason[:300], "by": by})
        before = tally_amount(tally)
        # The audit trail in the order things happened: the staff decision, then the recompute
        # it causes; the decision's row carries the amount the recompute gave.
        ev = _event(tally, by=by, action="call excluded" if exclude else "call re-included",
                    detail=f"{row.request_id}: {reason}", amount_before=before, status_before=tally.status)
        tally = tally_compute(customer=tally.customer, month=tally.month, by=by)
        ev.amount_after, ev.status_after = tally_amount(tally), tally.status
        ev.save(update_fields=["amount_after", "status_after"])
    return tally


def tally_call_exclude(*, tally: Tally, call, by, reason: str) -> Tally:
    """Staff exclude one covered call of a draft (the decision survives recomputes)."""
    return _call_override(tally=tally, call=call, by=by, reason=reason, exclude=True)


def tally_call_include(*, tally: Tally, call, by, reason: str) -> Tally:
    """Staff re-include one call of a draft (excluded as repeated or by staff)."""
    return _call_override(tally=tally, call=call, by=by, reason=reason, exclude=False)
