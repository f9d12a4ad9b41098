"""The evaluator: every enabled rule against the figures now; incidents open, remind and resolve.

Run by a beat task about once a minute and by `manage.py alert evaluate`. The figures come from
`alerts.selectors` in one query per kind and window, whatever the number of rules; the decisions
are the pure functions of `alerts.conditions`.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from alerts import selectors as sel
from alerts.conditions import (
    OPEN,
    REMIND,
    RESOLVE,
    OpenState,
    condition_holds,
    next_step,
    notifies,
    rate,
)
from alerts.models import AlertKind, AlertRule, Incident, IncidentEvent, IncidentStatus
from alerts.models.rules import RATE_KINDS
from alerts.services.notify import notify
from alerts.texts import figures_text
from logs.languages import language_of
from logs.models import Customer, User
from logs.timeutil import billing_tz


def _plain(figures: dict) -> dict:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in figures.items()}


def _gather(rules: list[AlertRule], now: dt.datetime) -> dict[int, dict[str, tuple[int | None, dict]]]:
    """{rule id: {subject: (customer id, figures)}} for every subject each rule sees now."""
    out: dict[int, dict] = defaultdict(dict)
    by_kind = defaultdict(list)
    for rule in rules:
        by_kind[rule.kind].append(rule)

    rate_rules = [r for r in rules if r.kind in RATE_KINDS]
    for minutes, group in sel.rules_by_window(rate_rules).items():
        ids = None if any(r.customer_id is None for r in group) else {r.customer_id for r in group}
        table = sel.window_calls(minutes=minutes, now=now, customer_ids=ids)
        present = {cid for cid, _ in table}
        for rule in group:
            for cid in ([rule.customer_id] if rule.customer_id else present):
                figures = sel.rate_figures(table, customer_id=cid, family=rule.family, kind=rule.kind)
                figures.update(rate=rate(figures["matching"], figures["calls"]), window_minutes=minutes)
                out[rule.pk][f"customer:{cid}"] = (cid, figures)

    if by_kind[AlertKind.SPEND_OVER_BUDGET]:
        group = by_kind[AlertKind.SPEND_OVER_BUDGET]
        ids = None if any(r.customer_id is None for r in group) else {r.customer_id for r in group}
        spend = sel.month_spend(now=now, customer_ids=ids)
        for rule in group:
            for cid in ([rule.customer_id] if rule.customer_id else spend):
                out[rule.pk][f"customer:{cid}"] = (cid, {"spend_usd": spend.get(cid, Decimal(0))})

    spikes = defaultdict(list)
    for rule in by_kind[AlertKind.DAILY_SPEND_SPIKE]:
        spikes[max(1, rule.window_minutes // 1440)].append(rule)
    for days, group in spikes.items():
        ids = None if any(r.customer_id is None for r in group) else {r.customer_id for r in group}
        daily = sel.daily_spend(now=now, days=days, customer_ids=ids)
        for rule in group:
            for cid in ([rule.customer_id] if rule.customer_id else daily):
                figures = daily.get(cid, {"today_usd": Decimal(0), "average_usd": Decimal(0)})
                out[rule.pk][f"customer:{cid}"] = (cid, {**figures, "days": days})

    if by_kind[AlertKind.GATEWAY_LAG]:
        for source in sel.gateway_sources():
            if not source.get("enabled", True):
                continue
            newest = source.get("high_water_at")
            lag = max((now - newest).total_seconds(), 0) if newest else 0
            figures = {"lag_minutes": (Decimal(int(lag)) / 60).quantize(Decimal("0.1")),
                       "error": source.get("error") or ""}
            for rule in by_kind[AlertKind.GATEWAY_LAG]:
                out[rule.pk][f"source:{source['name']}"] = (None, figures)

    if by_kind[AlertKind.TALLY_OVERDUE]:
        today = now.astimezone(billing_tz()).date()
        for tally in sel.overdue_tallies(today=today):
            figures = {"month": tally.month.strftime("%Y-%m"), "due_date": tally.due_date.isoformat(),
                       "days_overdue": (today - tally.due_date).days, "status": tally.status,
                       "credit_usd": tally.approved_usd if tally.approved_usd is not None else tally.credit_usd}
            for rule in by_kind[AlertKind.TALLY_OVERDUE]:
                if rule.customer_id in (None, tally.customer_id):
                    out[rule.pk][f"tally:{tally.pk}"] = (tally.customer_id, figures)

    for rule in by_kind[AlertKind.RECONCILIATION_OVERCHARGE]:
        since = now - dt.timedelta(minutes=rule.window_minutes)
        for recon in sel.recent_overcharges(since=since, above=rule.threshold):
            if rule.customer_id in (None, recon.customer_id):
                out[rule.pk][f"reconciliation:{recon.pk}"] = (
                    recon.customer_id, {"overcharged_usd": recon.overcharged_usd, "reconciliation": recon.pk})
    return out


def _recipients(rule: AlertRule) -> list:
    """In the app: whoever made the rule; for a customer's own rule, every user of that customer."""
    if not rule.in_app:
        return []
    users = [rule.created_by] if rule.created_by_id else []
    if rule.customer_id and rule.created_by_id and rule.created_by.customer_id == rule.customer_id:
        users += list(User.objects.filter(customer_id=rule.customer_id, is_active=True))
    return users


def _send(rule: AlertRule, incident: Incident, step: str, figures: dict, customer) -> None:
    what = {OPEN: "firing", REMIND: "still firing", RESOLVE: "resolved"}[step]
    who = customer.display_name if customer is not None else incident.subject.split(":", 1)[-1]
    users = _recipients(rule)
    with translation.override(language_of(users + [rule.created_by] if rule.created_by_id else users)):
        shown = {OPEN: gettext("firing"), REMIND: gettext("still firing"), RESOLVE: gettext("resolved")}[step]
        subject = f"[nbaudit] {rule.name} {shown}: {who}"
        body = figures_text(rule.kind, figures, threshold=rule.threshold)
    payload = {"event": f"alert.{step}", "rule": rule.name, "kind": rule.kind, "status": what,
               "customer": customer.slug if customer is not None else None, "subject": incident.subject,
               "incident": incident.pk, "figures": _plain(figures)}
    notify(subject=subject, body=body, users=users, emails=rule.emails,
           webhook={"url": rule.webhook_url, "format": rule.webhook_format} if rule.webhook_url else None,
           url=f"/alerts/incidents/{incident.pk}/", payload=payload, rule=rule, incident=incident,
           customer=customer)


def _apply(rule, step, incident, subject, customer, figures, now) -> Incident | None:
    plain = _plain(figures)
    state = None
    with transaction.atomic():
        if step == OPEN:
            try:
                with transaction.atomic():
                    incident = Incident.objects.create(rule=rule, customer=customer, subject=subject, figures=plain,
                                                       opened_at=now, last_notified_at=now)
            except IntegrityError:  # another evaluator opened it a moment ago
                return None
            IncidentEvent.objects.create(incident=incident, at=now, action="opened", figures=plain)
        else:
            incident = Incident.objects.select_for_update().get(pk=incident.pk)
            if incident.status != IncidentStatus.OPEN:
                return None
            state = OpenState(incident.last_notified_at, bool(incident.acknowledged_at), incident.muted_until)
            incident.figures = plain
            if step == RESOLVE:
                incident.status, incident.resolved_at = IncidentStatus.RESOLVED, now
            if notifies(step, state, now):
                incident.last_notified_at = now
            incident.save()
            IncidentEvent.objects.create(incident=incident, at=now,
                                         action="reminded" if step == REMIND else "resolved", figures=plain)
        if notifies(step, state, now):
            _send(rule, incident, step, figures, customer)
            IncidentEvent.objects.create(incident=incident, at=now, action="notified", figures=plain)
    return incident


def alerts_evaluate(*, now: dt.datetime | None = None) -> dict:
    """Evaluate every enabled rule once; returns {"opened", "reminded", "resolved"}: lists of
    {"rule", "customer", "subject", "figures"}."""
    now = now or timezone.now()
    rules = list(AlertRule.objects.filter(enabled=True).select_related("customer", "created_by"))
    seen = _gather(rules, now)
    open_now = {(i.rule_id, i.subject): i for i in Incident.objects.filter(status=IncidentStatus.OPEN,
                                                                               rule__enabled=True)}
    customers = Customer.objects.in_bulk({cid for subjects in seen.values() for cid, _ in subjects.values() if cid}
                                         | {i.customer_id for i in open_now.values() if i.customer_id})
    result = {"opened": [], "reminded": [], "resolved": []}
    names = {OPEN: "opened", REMIND: "reminded", RESOLVE: "resolved"}
    for rule in rules:
        subjects = seen.get(rule.pk, {})
        keys = set(subjects) | {s for (rid, s) in open_now if rid == rule.pk}
        for subject in sorted(keys):
            incident = open_now.get((rule.pk, subject))
            cid, figures = subjects.get(subject, (incident.customer_id if incident else None, {}))
            holds = subject in subjects and condition_holds(rule.kind, threshold=rule.threshold,
                                                            min_calls=rule.min_calls, figures=figures)
            state = (OpenState(incident.last_notified_at, bool(incident.acknowledged_at), incident.muted_until)
                     if incident else None)
            step = next_step(state, holds=holds, now=now, remind_every=dt.timedelta(hours=rule.remind_hours))
            if step is None:
                continue
            customer = customers.get(cid) if cid else None
            if _apply(rule, step, incident, subject, customer, figures, now) is not None:
                result[names[step]].append({"rule": rule.name, "customer": customer.slug if customer else None,
                                            "subject": subject, "figures": _plain(figures)})
    return result
