"""Rule evaluation as pure functions: thresholds, minimum calls, and the incident's steps."""
import datetime as dt
from decimal import Decimal

import pytest

from alerts.conditions import OPEN, REMIND, RESOLVE, OpenState, condition_holds, next_step, notifies, rate

NOW = dt.datetime(2026, 11, 30, 16, 0, tzinfo=dt.timezone.utc)
HOUR = dt.timedelta(hours=1)


@pytest.mark.parametrize("kind,threshold,min_calls,figures,holds", [
    # rates: the threshold is reached at equality, only with enough calls
    ("failed_generation_rate", "0.2", 10, {"calls": 10, "matching": 2}, True),
    ("failed_generation_rate", "0.2", 10, {"calls": 10, "matching": 1}, False),
    ("failed_generation_rate", "0.2", 10, {"calls": 9, "matching": 9}, False),
    ("failed_generation_rate", "0.2", 0, {"calls": 0, "matching": 0}, False),
    ("failed_generation_rate", "0", 0, {"calls": 1, "matching": 0}, True),
    ("rate_limited_rate", "0.5", 4, {"calls": 4, "matching": 2}, True),
    ("overloaded_rate", "0.5", 4, {"calls": 4, "matching": 1}, False),
    ("server_error_rate", "0.1", 1, {"calls": 3, "matching": 1}, True),
    ("auth_error_rate", "0.01", 1, {"calls": 200, "matching": 1}, False),
    ("auth_error_rate", "0.01", 1, {"calls": 100, "matching": 1}, True),
    # money
    ("spend_over_budget", "1000", 0, {"spend_usd": Decimal("1000.00")}, False),
    ("spend_over_budget", "1000", 0, {"spend_usd": Decimal("1000.01")}, True),
    ("daily_spend_spike", "3", 0, {"today_usd": Decimal("30.01"), "average_usd": Decimal("10")}, True),
    ("daily_spend_spike", "3", 0, {"today_usd": Decimal("30"), "average_usd": Decimal("10")}, False),
    ("daily_spend_spike", "3", 0, {"today_usd": Decimal("5"), "average_usd": Decimal("0")}, False),
    # gateway, tallies, reconciliations
    ("gateway_lag", "10", 0, {"lag_minutes": Decimal("10.5"), "error": ""}, True),
    ("gateway_lag", "10", 0, {"lag_minutes": Decimal("2"), "error": ""}, False),
    ("gateway_lag", "10", 0, {"lag_minutes": Decimal("0"), "error": "connection refused at db:3306"}, True),
    ("tally_overdue", "0", 0, {"days_overdue": 1}, True),
    ("tally_overdue", "2", 0, {"days_overdue": 2}, False),
    ("reconciliation_overcharge", "1", 0, {"overcharged_usd": Decimal("1.000001")}, True),
    ("reconciliation_overcharge", "1", 0, {"overcharged_usd": Decimal("1")}, False),
])
def test_condition(kind, threshold, min_calls, figures, holds):
    assert condition_holds(kind, threshold=Decimal(threshold), min_calls=min_calls, figures=figures) is holds


def test_unknown_kind_is_an_error():
    with pytest.raises(ValueError):
        condition_holds("nope", threshold=Decimal(1), min_calls=0, figures={})


def test_rate_is_a_fraction_to_four_places():
    assert rate(1, 3) == Decimal("0.3333")
    assert rate(0, 0) == Decimal(0)


@pytest.mark.parametrize("state,holds,expected", [
    (None, True, OPEN),
    (None, False, None),
    (OpenState(NOW - HOUR), False, RESOLVE),
    (OpenState(NOW - HOUR), True, None),                          # reminded an hour ago, every 24 h
    (OpenState(NOW - 24 * HOUR), True, REMIND),                   # exactly the reminder interval
    (OpenState(NOW - 30 * HOUR, acknowledged=True), True, None),  # acknowledged: no reminders
    (OpenState(NOW - 30 * HOUR, acknowledged=True), False, RESOLVE),
    (OpenState(NOW - 30 * HOUR, muted_until=NOW + HOUR), True, None),
    (OpenState(NOW - 30 * HOUR, muted_until=NOW - HOUR), True, REMIND),  # the mute ran out
    (OpenState(NOW - 30 * HOUR, muted_until=NOW + HOUR), False, RESOLVE),
])
def test_next_step(state, holds, expected):
    assert next_step(state, holds=holds, now=NOW, remind_every=24 * HOUR) == expected


def test_a_muted_incident_resolves_quietly():
    muted = OpenState(NOW - HOUR, muted_until=NOW + HOUR)
    assert notifies(RESOLVE, muted, NOW) is False
    assert notifies(RESOLVE, OpenState(NOW - HOUR), NOW) is True
    assert notifies(OPEN, None, NOW) is True
