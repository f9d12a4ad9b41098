"""What a notice says: the figures of a rule in words."""
from __future__ import annotations

from decimal import Decimal

from alerts.models.rules import RATE_KINDS, AlertKind
from logs.money import usd_total


def _pct(value) -> str:
    return f"{Decimal(value) * 100:.1f}%"


def _usd(value) -> str:
    return usd_total(Decimal(value))


def figures_text(kind: str, figures: dict, *, threshold) -> str:
    if kind in RATE_KINDS:
        label = AlertKind(kind).label
        return (f"{label} {_pct(figures.get('rate') or 0)}: {figures.get('matching', 0)} of "
                f"{figures.get('calls', 0)} calls in the last {figures.get('window_minutes', '?')} minutes "
                f"(threshold {_pct(threshold)}).")
    if kind == AlertKind.SPEND_OVER_BUDGET:
        return f"Spend this month so far {_usd(figures.get('spend_usd') or 0)}, over the budget of {_usd(threshold)}."
    if kind == AlertKind.DAILY_SPEND_SPIKE:
        return (f"Spend today {_usd(figures.get('today_usd') or 0)} against a daily average of "
                f"{_usd(figures.get('average_usd') or 0)} over the {figures.get('days', '?')} days before "
                f"(threshold {Decimal(threshold):g} times).")
    if kind == AlertKind.GATEWAY_LAG:
        if figures.get("error"):
            return f"The last sync failed: {figures['error']}"
        return f"The newest synced call is {figures.get('lag_minutes', 0)} minutes old (threshold {threshold} minutes)."
    if kind == AlertKind.TALLY_OVERDUE:
        return (f"The credit for {figures.get('month')} ({_usd(figures.get('credit_usd') or 0)}, "
                f"{figures.get('status')}) was due on {figures.get('due_date')}: "
                f"{figures.get('days_overdue')} days overdue.")
    if kind == AlertKind.RECONCILIATION_OVERCHARGE:
        return (f"Reconciliation #{figures.get('reconciliation')} found {_usd(figures.get('overcharged_usd') or 0)} "
                f"over-charged (threshold {_usd(threshold)}).")
    return ""
