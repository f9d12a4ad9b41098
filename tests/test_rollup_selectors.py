"""The Overview's one-scan rollup read agrees with the calls themselves."""
import datetime as dt
from collections import Counter
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from logs.choices import Category
from logs.models import Call, HourlyRollup
from logs.selectors_rollups import rollups_overview
from logs.services.rollups import rollups_rebuild
from tests import factories

pytestmark = pytest.mark.django_db
UTC = dt.timezone.utc
BJ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def calls():
    acme = factories.customer("acme")
    start = dt.datetime(2026, 10, 1, 15, 30, tzinfo=UTC)  # 23:30 in Beijing: days differ by zone
    cats = [Category.SUCCESS, Category.SUCCESS, Category.RATE_LIMITED, Category.TEXT_REFUSAL, Category.OVERLOADED]
    for i in range(60):
        cat = cats[i % len(cats)]
        factories.call(acme, created_at=start + dt.timedelta(minutes=17 * i), category=cat,
                       image_size=["1K", "2K", "4K"][i % 3], latency_ms=1000 * (i % 40 + 1),
                       charged_usd=Decimal("0.05") if cat != Category.RATE_LIMITED else Decimal("0"))
    rollups_rebuild(customer_id=acme.pk)
    return acme


# An odd offset on purpose (UTC+14). Zones off the whole hour (UTC-2:30) cut days at the
# hour: the rollups are hourly, so the Overview can be no finer.
@pytest.mark.parametrize("tz", [BJ, ZoneInfo("Pacific/Kiritimati")])
def test_overview_rows_match_the_calls(calls, tz):
    periods, heat, latency = rollups_overview(HourlyRollup.objects.filter(customer=calls), tz=tz)
    expected = Counter()
    spend = Counter()
    for c in Call.objects.all():
        day = c.created_at.astimezone(tz).date()
        expected[(day, c.category)] += 1
        spend[day] += c.charged_usd
    got = Counter({(r["period"].date(), r["category"]): r["calls"] for r in periods})
    assert got == expected
    got_spend = Counter()
    for r in periods:
        got_spend[r["period"].date()] += r["charged_usd"]
    assert got_spend == spend
    cells = Counter()
    failed = Counter()
    for c in Call.objects.all():
        bj = c.created_at.astimezone(BJ)
        cells[(bj.isoweekday(), bj.hour)] += 1
        failed[(bj.isoweekday(), bj.hour)] += c.category != Category.SUCCESS
    assert {(h["dow"], h["hod"]): h["calls"] for h in heat} == dict(cells)
    assert {(h["dow"], h["hod"]): h["failed"] for h in heat} == dict(failed)
    delivered = Counter(c.image_size for c in Call.objects.filter(category=Category.SUCCESS))
    assert {r["image_size"]: sum(r["buckets"]) for r in latency} == dict(delivered)


def test_hourly_periods_are_utc_hours(calls):
    periods, _, _ = rollups_overview(HourlyRollup.objects.all(), tz=BJ, hourly=True)
    assert sum(r["calls"] for r in periods) == 60
    assert all(r["period"].minute == 0 for r in periods)
