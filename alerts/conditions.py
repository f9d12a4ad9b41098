"""Rule evaluation as pure functions over figures: does a condition hold, and what to do about it.

`condition_holds` reads the figures gathered for one rule and one subject (a customer, a gateway
source, a tally, a reconciliation); `next_step` turns that and the subject's open incident (if
any) into one of OPEN, REMIND, RESOLVE or None. Nothing here reads the database or the clock.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from alerts.models.rules import RATE_KINDS, AlertKind

OPEN, REMIND, RESOLVE = "open", "remind", "resolve"


def rate(matching: int, calls: int) -> Decimal:
    """matching / calls as a fraction to 4 places (0 when there are no calls)."""
    if not calls:
        return Decimal(0)
    return (Decimal(matching) / Decimal(calls)).quantize(Decimal("0.0001"))


def condition_holds(kind: str, *, threshold: Decimal, min_calls: int, figures: dict) -> bool:
    """Whether the rule's condition holds on these figures.

    Rates: at least `min_calls` calls in the window and matching/calls >= threshold. Spend over
    budget: month-to-date spend > threshold (USD). Daily spike: today's spend > threshold x the
    trailing daily average, which must be above 0. Gateway lag: lag > threshold minutes, or the
    last sync failed. Tally overdue and reconciliation over-charge: the subject is there (the
    figures say overdue days / the over-charged amount, which must exceed the threshold).
    """
    threshold = Decimal(threshold)
    if kind in RATE_KINDS:
        calls = int(figures.get("calls") or 0)
        return calls >= max(int(min_calls), 1) and rate(int(figures.get("matching") or 0), calls) >= threshold
    if kind == AlertKind.SPEND_OVER_BUDGET:
        return Decimal(figures.get("spend_usd") or 0) > threshold
    if kind == AlertKind.DAILY_SPEND_SPIKE:
        average = Decimal(figures.get("average_usd") or 0)
        return average > 0 and Decimal(figures.get("today_usd") or 0) > threshold * average
    if kind == AlertKind.GATEWAY_LAG:
        return bool(figures.get("error")) or Decimal(figures.get("lag_minutes") or 0) > threshold
    if kind == AlertKind.TALLY_OVERDUE:
        return int(figures.get("days_overdue") or 0) > int(threshold)
    if kind == AlertKind.RECONCILIATION_OVERCHARGE:
        return Decimal(figures.get("overcharged_usd") or 0) > threshold
    raise ValueError(f"unknown kind of alert {kind!r}")


@dataclass(frozen=True)
class OpenState:
    """What the evaluator needs of an open incident."""

    last_notified_at: dt.datetime | None
    acknowledged: bool = False
    muted_until: dt.datetime | None = None


def is_muted(state: OpenState | None, now: dt.datetime) -> bool:
    return bool(state and state.muted_until and state.muted_until > now)


def next_step(state: OpenState | None, *, holds: bool, now: dt.datetime, remind_every: dt.timedelta) -> str | None:
    """OPEN when the condition starts holding, RESOLVE when it clears, REMIND when it still holds
    and the last notice is `remind_every` old (never for an acknowledged or muted incident)."""
    if state is None:
        return OPEN if holds else None
    if not holds:
        return RESOLVE
    if state.acknowledged or is_muted(state, now):
        return None
    if state.last_notified_at is None or now - state.last_notified_at >= remind_every:
        return REMIND
    return None


def notifies(step: str, state: OpenState | None, now: dt.datetime) -> bool:
    """Whether a step sends notices: every step does, but a muted incident stays quiet."""
    return not is_muted(state, now)
