"""The evaluator over real rows: windows across an hour and a UTC+8 day edge, every kind, and the
open / remind / resolve / acknowledge / mute life of an incident."""
import datetime as dt
from decimal import Decimal

import pytest

from alerts.models import Incident, IncidentStatus, Notification
from alerts.services.evaluate import alerts_evaluate
from alerts.services.incidents import incident_acknowledge, incident_mute
from alerts.services.rules import alert_rule_save
from logs.services.rollups import rollups_rebuild
from tests import factories as f

pytestmark = pytest.mark.django_db
UTC8 = f.UTC8
# 00:10 on 1 December in UTC+8: an hour and a billing day (and month) have just begun
NOW = dt.datetime(2026, 12, 1, 0, 10, tzinfo=UTC8)


def rule(name="fg", kind="failed_generation_rate", customer=None, **kw):
    kw.setdefault("window_minutes", 30)
    kw.setdefault("threshold", "0.2")
    kw.setdefault("min_calls", 5)
    return alert_rule_save(by=None, name=name, kind=kind, customer=customer, **kw)


def burst(customer, *, at, n, category="no_image", **kw):
    for i in range(n):
        f.call(customer, created_at=at + dt.timedelta(seconds=i), category=category, **kw)


@pytest.fixture
def acme():
    return f.customer("acme", name="Acme Studio")


def test_rate_window_reaches_back_across_the_hour_and_the_day(acme):
    rule(customer=acme)
    # 23:45-23:49 on 30 November (UTC+8): inside a 30-minute window that ends at 00:10
    burst(acme, at=NOW - dt.timedelta(minutes=25), n=4, category="no_image")
    burst(acme, at=NOW - dt.timedelta(minutes=24), n=6, category="success")
    burst(acme, at=NOW - dt.timedelta(minutes=45), n=20, category="no_image")  # outside the window
    result = alerts_evaluate(now=NOW)
    assert [i["customer"] for i in result["opened"]] == ["acme"]
    assert result["opened"][0]["figures"]["calls"] == 10
    assert result["opened"][0]["figures"]["matching"] == 4
    assert result["opened"][0]["figures"]["rate"] == "0.4000"


def test_minimum_calls_keep_a_small_sample_quiet(acme):
    rule(customer=acme, min_calls=20)
    burst(acme, at=NOW - dt.timedelta(minutes=5), n=10)
    assert alerts_evaluate(now=NOW)["opened"] == []


def test_family_narrows_a_rate(acme):
    rule(customer=acme, family="nb2")
    burst(acme, at=NOW - dt.timedelta(minutes=5), n=10)  # Pro failures
    burst(acme, at=NOW - dt.timedelta(minutes=5), n=10, category="success", model="gemini-3.1-flash-image")
    assert alerts_evaluate(now=NOW)["opened"] == []


def test_a_staff_rule_watches_every_customer(acme):
    globex = f.customer("globex")
    rule(kind="rate_limited_rate", threshold="0.5", min_calls=4)
    burst(acme, at=NOW - dt.timedelta(minutes=5), n=5, category="rate_limited", http_status=429, charged_usd=0)
    burst(globex, at=NOW - dt.timedelta(minutes=5), n=5, category="success")
    opened = alerts_evaluate(now=NOW)["opened"]
    assert [i["customer"] for i in opened] == ["acme"]


def test_open_notify_once_remind_then_resolve(acme, django_capture_on_commit_callbacks):
    boss = f.user("boss", staff=True)
    r = rule(customer=acme, emails=["ops@example.com"], remind_hours=2)
    r.created_by = boss
    r.save()
    burst(acme, at=NOW - dt.timedelta(minutes=5), n=10)
    with django_capture_on_commit_callbacks(execute=True):
        first = alerts_evaluate(now=NOW)
        again = alerts_evaluate(now=NOW + dt.timedelta(minutes=1))
    assert len(first["opened"]) == 1 and again == {"opened": [], "reminded": [], "resolved": []}
    incident = Incident.objects.get()
    assert Notification.objects.filter(user=boss).count() == 1
    # still failing two hours later: one reminder
    later = NOW + dt.timedelta(hours=2)
    burst(acme, at=later - dt.timedelta(minutes=5), n=10)
    assert len(alerts_evaluate(now=later)["reminded"]) == 1
    # the window has no failures any more: resolved, with a notice
    cleared = later + dt.timedelta(hours=1)
    burst(acme, at=cleared - dt.timedelta(minutes=5), n=10, category="success")
    result = alerts_evaluate(now=cleared)
    assert [i["customer"] for i in result["resolved"]] == ["acme"]
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED
    actions = list(incident.events.values_list("action", flat=True))
    assert actions == ["opened", "notified", "reminded", "notified", "resolved", "notified"]
    assert Notification.objects.filter(user=boss).count() == 3


def test_acknowledged_incident_gets_no_reminder_but_resolves(acme):
    rule(customer=acme, remind_hours=1)
    burst(acme, at=NOW - dt.timedelta(minutes=5), n=10)
    alerts_evaluate(now=NOW)
    incident_acknowledge(incident=Incident.objects.get(), by=f.user("boss", staff=True))
    later = NOW + dt.timedelta(hours=3)
    burst(acme, at=later - dt.timedelta(minutes=5), n=10)
    assert alerts_evaluate(now=later)["reminded"] == []
    assert len(alerts_evaluate(now=later + dt.timedelta(hours=1))["resolved"]) == 1


def test_muted_incident_stays_quiet(acme, django_capture_on_commit_callbacks):
    r = rule(customer=acme, remind_hours=1, emails=["ops@example.com"])
    burst(acme, at=NOW - dt.timedelta(minutes=5), n=10)
    with django_capture_on_commit_callbacks(execute=True):
        alerts_evaluate(now=NOW)
    incident = Incident.objects.get()
    incident_mute(incident=incident, by=None, hours=48)
    deliveries = incident.deliveries.count()
    later = NOW + dt.timedelta(hours=3)
    burst(acme, at=later - dt.timedelta(minutes=5), n=10)
    alerts_evaluate(now=later)
    assert incident.deliveries.count() == deliveries
    assert r.incidents.count() == 1


def test_month_to_date_spend_over_budget_from_rollups(acme):
    rule(name="budget", kind="spend_over_budget", customer=acme, threshold="100", window_minutes=60)
    # the last hour of November (UTC+8) is last month: not counted on 1 December
    burst(acme, at=NOW - dt.timedelta(minutes=30), n=3, charged_usd=Decimal("50"))
    burst(acme, at=NOW - dt.timedelta(minutes=9), n=2, charged_usd=Decimal("50.01"))
    rollups_rebuild()
    opened = alerts_evaluate(now=NOW)["opened"]
    assert opened and opened[0]["figures"]["spend_usd"] == "100.020000"


def test_daily_spend_spike(acme):
    rule(name="spike", kind="daily_spend_spike", customer=acme, threshold="3", window_minutes=7 * 1440)
    for d in range(1, 8):
        f.call(acme, created_at=NOW - dt.timedelta(days=d), charged_usd=Decimal("10"))
    burst(acme, at=NOW - dt.timedelta(minutes=9), n=4, charged_usd=Decimal("10"))
    rollups_rebuild()
    [item] = alerts_evaluate(now=NOW)["opened"]
    assert item["figures"]["today_usd"] == "40.000000"
    assert item["figures"]["average_usd"] == "10.000000"


def test_overdue_tally(acme):
    from billing.models import Tally

    Tally.objects.create(customer=acme, month=dt.date(2026, 10, 1), due_date=dt.date(2026, 11, 7),
                         status="approved", credit_usd=Decimal("12.30"), eligible=True)
    Tally.objects.create(customer=acme, month=dt.date(2026, 9, 1), due_date=dt.date(2026, 10, 9),
                         status="credited", credit_usd=Decimal("5"), eligible=True)
    rule(name="overdue", kind="tally_overdue", threshold="0")
    [item] = alerts_evaluate(now=NOW)["opened"]
    assert item["customer"] == "acme" and item["figures"]["month"] == "2026-10"


def test_reconciliation_overcharge(acme):
    from billing.models import Reconciliation

    Reconciliation.objects.create(customer=acme, status="done", finished_at=NOW - dt.timedelta(minutes=3),
                                  overcharged_usd=Decimal("2.500000"))
    Reconciliation.objects.create(customer=acme, status="done", finished_at=NOW - dt.timedelta(minutes=3),
                                  overcharged_usd=Decimal("0.100000"))
    rule(name="over", kind="reconciliation_overcharge", customer=acme, threshold="1", window_minutes=60)
    [item] = alerts_evaluate(now=NOW)["opened"]
    assert item["figures"]["overcharged_usd"] == "2.500000"


def test_gateway_source_lagging_or_failing():
    from gateways.models import GatewaySource

    GatewaySource.objects.create(name="gw-late", kind="db", dsn="env:X", high_water_at=NOW - dt.timedelta(minutes=20))
    GatewaySource.objects.create(name="gw-fresh", kind="db", dsn="env:X", high_water_at=NOW - dt.timedelta(minutes=1))
    GatewaySource.objects.create(name="gw-broken", kind="db", dsn="env:X", high_water_at=NOW,
                                 last_error="connection refused at db.example:3306")
    GatewaySource.objects.create(name="gw-paused", kind="db", dsn="env:X", enabled=False,
                                 high_water_at=NOW - dt.timedelta(days=3))
    rule(name="lag", kind="gateway_lag", threshold="10")
    opened = alerts_evaluate(now=NOW)["opened"]
    assert sorted(i["subject"] for i in opened) == ["source:gw-broken", "source:gw-late"]
    late = next(i for i in opened if i["subject"] == "source:gw-late")
    assert late["figures"]["lag_minutes"] == "20.0"
