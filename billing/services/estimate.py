"""Month-to-date credit estimates: "if the month ended now", by the tally's own rules.

A read (nothing is written): what `tally_compute` would make of a customer's month so far,
without making a tally. The rules are the tally's (`billing.services.tally`): the same
eligibility function, the same covered-call query (`logs.coverage.COVERED`), the same repeat
rule (ROW_NUMBER() over the prompt fingerprint), the same catalog price where no charge was
logged, the staff decisions already taken on the month, and the same rounding.

Cheap on a page load:

- The spend is summed from the hourly rollups (a billing month starts on a whole UTC hour,
  and a rollup's charge is the calls' exact sum), never from the call table.
- The rollups also say whether the month has any candidate at all (Pro, HTTP 200 or no
  status, a failed generation); only then are the covered calls themselves read, through
  the (customer, category, created_at) index: failures of one family, not the month's calls.
  The rollups cannot carry the billing mode or the prompt fingerprint, so the count that
  decides the credit has to come from those calls.
- The result is cached under the customer's rollup version (bumped in the transaction of
  every write of its calls), its enrolment and factor, and the plan settings: a page shows a
  figure no older than its request, and the calls are read once per change of the data.

Decision where billing.md is silent: the estimate of the month in progress counts the
month's calls stored so far (exactly what `tally_compute` would count if run now).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, Max, Q, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from billing.models import Tally, TallyOverride
from billing.services.tally import _eligibility, catalog_prices, covered_calls, tally_due_date
from logs.choices import FAILED_GENERATION, Family
from logs.coverage import COVERED_STATUS
from logs.models import Customer, HourlyRollup
from logs.money import cents, q6
from logs.selectors.rollups import rollup_version_token
from logs.timeutil import billing_tz, month_first, month_range

CACHE_SCHEMA = 1
CACHE_SECONDS = 3600


@dataclass
class CreditEstimate:
    """What a tally of `month` would say if the month ended at `as_of`."""

    customer: Customer
    month: dt.date
    as_of: dt.datetime
    spend_usd: Decimal = Decimal("0.000000")
    covered_calls: int = 0
    excluded_calls: int = 0
    counted_calls: int = 0
    gross_usd: Decimal = Decimal("0.000000")
    discount_factor: Decimal = Decimal(1)
    credit_usd: Decimal = Decimal("0.00")
    reason: str = ""
    due_date: dt.date | None = None
    tally: Tally | None = field(default=None, compare=False)

    @property
    def eligible(self) -> bool:
        return not self.reason

    @property
    def factor_text(self) -> str:
        from billing.selectors import factor_str

        return factor_str(self.discount_factor)

    @property
    def month_label(self) -> str:
        return f"{self.month:%Y-%m}"

    @property
    def in_progress(self) -> bool:
        return self.as_of < month_range(self.month)[1]

    def get_reason_display(self) -> str:
        from billing.choices import IneligibleReason

        try:
            return str(IneligibleReason(self.reason).label)
        except ValueError:
            return self.reason


def _candidates_q() -> Q:
    """Rollup rows that may hold covered calls: Pro, HTTP 200 or none, a failed generation."""
    return (Q(http_status__isnull=True) | Q(http_status=COVERED_STATUS)) & Q(
        family=Family.PRO, category__in=[str(c) for c in FAILED_GENERATION])


def month_rollup_figures(*, customer_ids=None, month: dt.date) -> dict:
    """Per customer, from rollups of the month: calls, failed, candidates, spend."""
    start, end = month_range(month)
    qs = HourlyRollup.objects.filter(hour__gte=start, hour__lt=end)
    if customer_ids is not None:
        qs = qs.filter(customer_id__in=list(customer_ids))
    rows = (qs.values("customer_id")
            .annotate(n=Sum("calls"), n_failed=Sum("calls", filter=~Q(category="success")),
                      n_candidates=Sum("calls", filter=_candidates_q()), spend=Sum("charged_usd"))
            .order_by())
    return {r["customer_id"]: {"calls": r["n"] or 0, "failed": r["n_failed"] or 0,
                               "candidates": r["n_candidates"] or 0, "spend_usd": q6(r["spend"] or 0)}
            for r in rows}


def _ranked_sql(covered):
    ranked = covered.annotate(
        rn=Window(expression=RowNumber(), partition_by=[F("prompt_fingerprint")],
                  order_by=[F("created_at").asc(), F("id").asc()])
    ).values("id", "charged_usd", "prompt_fingerprint", "rn")
    return ranked.query.sql_with_params()


def _counted_figures(*, customer: Customer, month: dt.date) -> tuple[int, int, Decimal]:
    """(covered, counted, gross) of the month's covered calls, by the tally's rules.

    One aggregate over the ranked covered calls; the rows themselves are read only for the
    counted calls with no charge logged (priced from the catalog) and the calls staff decided on.
    """
    covered = covered_calls(customer=customer, month=month)
    inner, params = _ranked_sql(covered)
    limit = int(settings.NBAUDIT_PLAN_REPEAT_LIMIT)
    counted = f"NOT (sub.prompt_fingerprint <> '' AND sub.rn > {limit})"
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT COUNT(*), SUM(CASE WHEN {counted} THEN 1 ELSE 0 END),"
            f" SUM(CASE WHEN {counted} THEN COALESCE(sub.charged_usd, 0) ELSE 0 END),"
            f" SUM(CASE WHEN {counted} AND sub.charged_usd IS NULL THEN 1 ELSE 0 END)"
            f" FROM ({inner}) sub", params)
        n_covered, n_counted, gross, n_unpriced = cur.fetchone()
    n_covered, n_counted, n_unpriced = n_covered or 0, n_counted or 0, n_unpriced or 0
    gross = Decimal(str(gross or 0))
    overrides = dict(TallyOverride.objects.filter(customer=customer, month=month).values_list("call_id", "exclude"))
    if n_unpriced or overrides:
        where = [f"({counted} AND sub.charged_usd IS NULL)"] if n_unpriced else []
        ids = list(overrides)
        if ids:
            where.append(f"sub.id IN ({', '.join(['%s'] * len(ids))})")
        with connection.cursor() as cur:
            cur.execute(f"SELECT sub.id, sub.charged_usd, {counted} FROM ({inner}) sub WHERE {' OR '.join(where)}",
                        [*params, *ids])
            rows = cur.fetchall()
        prices = catalog_prices(call_ids=[pk for pk, charged, _ in rows if charged is None])
        for pk, charged, is_counted in rows:
            price = prices.get(pk, Decimal(0)) if charged is None else Decimal(str(charged))
            if is_counted and charged is None:
                gross += price  # counted at 0 above: the catalog's price instead
            if pk in overrides:
                now_counted = not overrides[pk]
                if bool(is_counted) != now_counted:
                    n_counted += 1 if now_counted else -1
                    gross += price if now_counted else -price
    return n_covered, n_counted, q6(gross)


def _cache_key(customer: Customer, month: dt.date, version: str) -> str:
    parts = (CACHE_SCHEMA, customer.pk, version, f"{month:%Y-%m}", customer.enrolled_from, str(customer.topup_factor),
             str(settings.NBAUDIT_PLAN_MIN_SPEND), settings.NBAUDIT_PLAN_START, settings.NBAUDIT_PLAN_REPEAT_LIMIT,
             TallyOverride.objects.filter(customer=customer, month=month).count())
    return "nbaudit:estimate:" + hashlib.sha1(repr(parts).encode()).hexdigest()


def credit_estimate(*, customer: Customer, month: dt.date | None = None, now: dt.datetime | None = None,
                    rollups: dict | None = None) -> CreditEstimate:
    """The credit of `customer`'s month (default: the billing month of `now`) if it ended now.

    `rollups`: this customer's `month_rollup_figures` row, when the caller has read it already.
    """
    now = now or timezone.now()
    month = month_first(month or now.astimezone(billing_tz()).date())
    until = min(month_range(month)[1], now)
    version = rollup_version_token(customer_id=customer.pk)
    key = _cache_key(customer, month, version)
    hit = cache.get(key)
    if hit is None:
        figures = rollups if rollups is not None else month_rollup_figures(
            customer_ids=[customer.pk], month=month).get(customer.pk, {})
        spend = figures.get("spend_usd", Decimal(0))
        if figures.get("candidates"):
            covered, counted, gross = _counted_figures(customer=customer, month=month)
        else:
            covered, counted, gross = 0, 0, q6(0)
        hit = {"spend": spend, "covered": covered, "counted": counted, "gross": gross}
        cache.set(key, hit, CACHE_SECONDS)
    factor = Decimal(str(customer.topup_factor or 0))
    factor = factor if factor > 0 else Decimal(1)
    reason = _eligibility(customer=customer, month=month, spend=hit["spend"])
    return CreditEstimate(
        customer=customer, month=month, as_of=until, spend_usd=hit["spend"], covered_calls=hit["covered"],
        excluded_calls=hit["covered"] - hit["counted"], counted_calls=hit["counted"], gross_usd=hit["gross"],
        discount_factor=factor, credit_usd=cents(hit["gross"] / factor) if not reason else Decimal("0.00"),
        reason=reason, due_date=tally_due_date(month=month),
        tally=Tally.objects.filter(customer=customer, month=month).first(),
    )


@dataclass
class CustomerMonth:
    """A row of the staff overview: a customer's month so far, from rollups, with its estimate."""

    customer: Customer
    calls: int
    failed: int
    spend_usd: Decimal
    estimate: CreditEstimate


def customers_ranked(*, month: dt.date | None = None, now: dt.datetime | None = None,
                     limit: int | None = None) -> list[CustomerMonth]:
    """Customers with calls in the month, ranked by failed calls, then spend, then estimated credit.

    One grouped rollup query for every customer; the covered calls are read (and cached) only
    for customers whose rollups show candidates.
    """
    now = now or timezone.now()
    month = month_first(month or now.astimezone(billing_tz()).date())
    # The whole ranking is cached under every customer's rollup version, enrolment and factor,
    # and the month's staff decisions: a staff Overview with many customers costs 3 queries.
    enrolments = list(Customer.objects.order_by("pk").values_list("pk", "enrolled_from", "topup_factor"))
    decisions = TallyOverride.objects.filter(month=month).aggregate(n=Count("id"), last=Max("at"))
    parts = (CACHE_SCHEMA, "ranked", rollup_version_token(customer_id=None), f"{month:%Y-%m}", repr(enrolments),
             decisions["n"], str(decisions["last"]), str(settings.NBAUDIT_PLAN_MIN_SPEND), settings.NBAUDIT_PLAN_START,
             settings.NBAUDIT_PLAN_REPEAT_LIMIT, month_range(month)[1] <= now)
    key = "nbaudit:estimate:" + hashlib.sha1(repr(parts).encode()).hexdigest()
    rows = cache.get(key)
    if rows is None:
        rows = _ranked(month=month, now=now)
        cache.set(key, rows, CACHE_SECONDS)
    return rows[:limit] if limit else rows


def _ranked(*, month: dt.date, now: dt.datetime) -> list[CustomerMonth]:
    figures = month_rollup_figures(month=month)
    customers = Customer.objects.in_bulk(list(figures))
    rows = []
    for cid, fig in figures.items():
        customer = customers.get(cid)
        if customer is None or not fig["calls"]:
            continue
        est = credit_estimate(customer=customer, month=month, now=now, rollups=fig)
        rows.append(CustomerMonth(customer=customer, calls=fig["calls"], failed=fig["failed"],
                                  spend_usd=fig["spend_usd"], estimate=est))
    rows.sort(key=lambda r: (-r.failed, -r.spend_usd, -r.estimate.credit_usd, r.customer.slug))
    return rows
