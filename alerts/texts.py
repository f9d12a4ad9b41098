"""What a notice says: the figures of a rule in words (in the active language)."""
from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from alerts.models.rules import RATE_KINDS, AlertKind
from logs.money import usd_total


def _pct(value) -> str:
    return f"{Decimal(value) * 100:.1f}%"


def _usd(value) -> str:
    return usd_total(Decimal(value))


def figures_text(kind: str, figures: dict, *, threshold) -> str:
    if kind in RATE_KINDS:
        return _("%(label)s %(rate)s: %(matching)s of %(calls)s calls in the last %(minutes)s minutes "
                 "(threshold %(threshold)s).") % {
            "label": AlertKind(kind).label, "rate": _pct(figures.get("rate") or 0),
            "matching": figures.get("matching", 0), "calls": figures.get("calls", 0),
            "minutes": figures.get("window_minutes", "?"), "threshold": _pct(threshold)}
    if kind == AlertKind.SPEND_OVER_BUDGET:
        return _("Spend this month so far %(spend)s, over the budget of %(budget)s.") % {
            "spend": _usd(figures.get("spend_usd") or 0), "budget": _usd(threshold)}
    if kind == AlertKind.DAILY_SPEND_SPIKE:
        return _("Spend today %(today)s against a daily average of %(average)s over the %(days)s days before "
                 "(threshold %(times)s times).") % {
            "today": _usd(figures.get("today_usd") or 0), "average": _usd(figures.get("average_usd") or 0),
            "days": figures.get("days", "?"), "times": f"{Decimal(threshold):g}"}
    if kind == AlertKind.GATEWAY_LAG:
        if figures.get("error"):
            return _("The last sync failed: %(error)s") % {"error": figures["error"]}
        return _("The newest synced call is %(lag)s minutes old (threshold %(threshold)s minutes).") % {
            "lag": figures.get("lag_minutes", 0), "threshold": threshold}
    if kind == AlertKind.TALLY_OVERDUE:
        return _("The credit for %(month)s (%(credit)s, %(status)s) was due on %(due)s: %(days)s days overdue.") % {
            "month": figures.get("month"), "credit": _usd(figures.get("credit_usd") or 0),
            "status": figures.get("status"), "due": figures.get("due_date"), "days": figures.get("days_overdue")}
    if kind == AlertKind.RECONCILIATION_OVERCHARGE:
        return _("Reconciliation #%(n)s found %(over)s over-charged (threshold %(threshold)s).") % {
            "n": figures.get("reconciliation"), "over": _usd(figures.get("overcharged_usd") or 0),
            "threshold": _usd(threshold)}
    return ""
