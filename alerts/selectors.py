"""Reads of alerts: the figures rules are evaluated on, and what a user may see.

The figures never scan the call table as a whole: rates read the calls of the window through
the (created_at, id) index, spend reads the hourly rollups, the rest read small tables. One
query serves every rule that shares a window, so the cost follows the rules and the window's
calls, not the size of the table.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.apps import apps
from django.db.models import Count, F, Q, Sum

from alerts.models import AlertRule, Incident, Notification
from alerts.models.rules import AlertKind
from logs.choices import FAILED_GENERATION, Category
from logs.models import Call, CoarseRollup
from logs.money import q6
from logs.scoping import is_staff, scope_by_customer_field
from logs.timeutil import billing_tz, day_start, month_first, month_range

# What each rate counts, out of all the calls in its window (of the rule's family, if any).
RATE_MATCH = {
    AlertKind.FAILED_GENERATION_RATE: Q(category__in=[str(c) for c in FAILED_GENERATION]),
    AlertKind.RATE_LIMITED_RATE: Q(category=Category.RATE_LIMITED),
    AlertKind.OVERLOADED_RATE: Q(category=Category.OVERLOADED),
    AlertKind.SERVER_ERROR_RATE: Q(http_status__gte=500, http_status__lte=599),
    AlertKind.AUTH_ERROR_RATE: Q(category=Category.AUTH_ERROR),
}


def window_calls(*, minutes: int, now: dt.datetime, customer_ids=None) -> dict:
    """{(customer_id, family): {kind: matching calls, "calls": all}} over the last `minutes`."""
    qs = Call.objects.filter(created_at__gte=now - dt.timedelta(minutes=minutes), created_at__lt=now)
    if customer_ids is not None:
        qs = qs.filter(customer_id__in=customer_ids)
    counts = {str(kind): Count("id", filter=q) for kind, q in RATE_MATCH.items()}
    rows = qs.values("customer_id", "family").annotate(calls=Count("id"), **counts).order_by()
    return {(r["customer_id"], r["family"] or ""): r for r in rows}


def rate_figures(table: dict, *, customer_id: int, family: str, kind: str) -> dict:
    """The calls and matching calls of one customer (one family, or all) from `window_calls`."""
    calls = matching = 0
    for (cid, fam), row in table.items():
        if cid == customer_id and (not family or fam == family):
            calls += row["calls"]
            matching += row[str(kind)]
    return {"calls": calls, "matching": matching}


def month_spend(*, now: dt.datetime, customer_ids=None) -> dict[int, Decimal]:
    """{customer_id: spend this billing month (of `now`) so far} from the hourly rollups."""
    start, _ = month_range(month_first(now.astimezone(billing_tz()).date()))
    qs = CoarseRollup.objects.filter(hour__gte=start, hour__lt=now)
    if customer_ids is not None:
        qs = qs.filter(customer_id__in=customer_ids)
    rows = qs.values("customer_id").annotate(s=Sum("charged_usd")).order_by()
    return {r["customer_id"]: q6(r["s"] or 0) for r in rows}


def daily_spend(*, now: dt.datetime, days: int, customer_ids=None) -> dict[int, dict]:
    """{customer_id: {"today_usd", "average_usd"}}: today's spend (billing day so far) and the
    average of the `days` whole days before it, from the hourly rollups."""
    today = day_start(now.astimezone(billing_tz()).date())
    first = today - dt.timedelta(days=days)
    qs = CoarseRollup.objects.filter(hour__gte=first, hour__lt=now)
    if customer_ids is not None:
        qs = qs.filter(customer_id__in=customer_ids)
    rows = qs.values("customer_id").annotate(
        today=Sum("charged_usd", filter=Q(hour__gte=today)),
        before=Sum("charged_usd", filter=Q(hour__lt=today)),
    ).order_by()
    out = {}
    for r in rows:
        average = q6(Decimal(str(r["before"] or 0)) / days) if days else q6(0)
        out[r["customer_id"]] = {"today_usd": q6(r["today"] or 0), "average_usd": average}
    return out


def overdue_tallies(*, today: dt.date) -> list:
    """Tallies past their credit due date and not credited (nor rejected)."""
    Tally = apps.get_model("billing", "Tally")
    return list(Tally.objects.filter(status__in=("draft", "approved"), due_date__lt=today)
                .select_related("customer"))


def recent_overcharges(*, since: dt.datetime, above: Decimal) -> list:
    """Finished reconciliations since `since` whose over-charged sum is above `above`."""
    Reconciliation = apps.get_model("billing", "Reconciliation")
    return list(Reconciliation.objects.filter(status="done", finished_at__gte=since, overcharged_usd__gt=above)
                .select_related("customer"))


def gateway_sources() -> list[dict]:
    """[{"name", "enabled", "high_water_at", "error"}] of the gateway sources, where that app is installed."""
    if not apps.is_installed("gateways"):
        return []
    from gateways.selectors import sources_health  # a leaf app beside alerts: read only

    return list(sources_health())


# --- what a user sees ------------------------------------------------------------------------

def rules_visible(user):
    """Staff: every rule. A customer's user: the rules its customer's users made (a rule staff
    keep on that customer, or over every customer, is staff's own)."""
    qs = AlertRule.objects.select_related("customer")
    if is_staff(user):
        return qs
    return scope_by_customer_field(user, qs).filter(created_by__customer_id=F("customer_id"))


def incidents_visible(user):
    """The incidents of the rules `user` may see."""
    qs = Incident.objects.select_related("rule", "customer")
    if is_staff(user):
        return qs
    return scope_by_customer_field(user, qs).filter(rule__in=rules_visible(user))


def notifications_of(user):
    return Notification.objects.filter(user=user)


def unread_count(user) -> int:
    if not (user and user.is_authenticated):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def rules_by_window(rules) -> dict[int, list]:
    out = defaultdict(list)
    for rule in rules:
        out[rule.window_minutes].append(rule)
    return out
