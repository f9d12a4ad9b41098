"""The Overview's rollup reads agree with the calls themselves, whatever the zone."""
import datetime as dt
from collections import Counter
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Sum
from django.db.models.functions import TruncDay

from logs.choices import Category
from logs.models import Call, HourlyRollup
from logs.selectors.rollups import rollups_by_period, rollups_heatmap
from logs.services.rollups import rollups_rebuild
from tests import factories

pytestmark = pytest.mark.django_db
UTC = dt.timezone.utc
BJ = ZoneInfo("Asia/Shanghai")
# An odd offset on purpose (UTC+14): day and week cuts must follow the zone asked for.
ZONES = [BJ, ZoneInfo("Pacific/Kiritimati")]


@pytest.fixture
def acme():
    acme = factories.customer("acme")
    start = dt.datetime(2026, 10, 4, 15, 30, tzinfo=UTC)  # Sunday 23:30 in Beijing
    cats = [Category.SUCCESS, Category.SUCCESS, Category.RATE_LIMITED, Category.TEXT_REFUSAL, Category.OVERLOADED]
    for i in range(60):
        cat = cats[i % len(cats)]
        factories.call(acme, created_at=start + dt.timedelta(minutes=17 * i), category=cat,
                       charged_usd=Decimal("0.05") if cat != Category.RATE_LIMITED else Decimal("0"))
    rollups_rebuild(customer_id=acme.pk)
    return acme


@pytest.mark.parametrize("tz", ZONES)
def test_heatmap_cells_match_the_calls(acme, tz):
    heat = rollups_heatmap(HourlyRollup.objects.filter(customer=acme), tz=tz)
    calls, failed = Counter(), Counter()
    for c in Call.objects.all():
        local = c.created_at.astimezone(tz)
        calls[(local.isoweekday(), local.hour)] += 1
        failed[(local.isoweekday(), local.hour)] += c.category != Category.SUCCESS
    assert {(h["dow"], h["hod"]): h["calls"] for h in heat} == dict(calls)
    assert {(h["dow"], h["hod"]): h["failed"] for h in heat} == dict(failed)


@pytest.mark.parametrize("tz", ZONES)
def test_days_match_the_calls(acme, tz):
    rows = rollups_by_period(HourlyRollup.objects.filter(customer=acme), tz=tz)
    expected = Counter((c.created_at.astimezone(tz).date(), c.category) for c in Call.objects.all())
    assert Counter({(r["period"].date(), r["category"]): r["calls"] for r in rows}) == expected


@pytest.mark.parametrize("tz", ZONES)
def test_days_cut_in_python_equal_days_cut_in_sql(acme, tz):
    """Both ways of cutting days (SQL on PostgreSQL, Python from hourly sums elsewhere) agree."""
    from logs.selectors.rollups import heatmap_from_hours, periods_from_hours, rollups_hourly

    qs = HourlyRollup.objects.filter(customer=acme)
    key = lambda r: (r["period"], r["category"])  # noqa: E731
    in_python = sorted(periods_from_hours(rollups_hourly(qs), tz=tz), key=key)
    in_sql = sorted(qs.annotate(period=TruncDay("hour", tzinfo=tz)).values("period", "category")
                    .annotate(calls=Sum("calls"), images=Sum("images"), charged_usd=Sum("charged_usd"))
                    .order_by(), key=key)
    assert [(r["period"].date(), r["category"], r["calls"], r["images"], r["charged_usd"]) for r in in_python] == \
           [(r["period"].date(), r["category"], r["calls"], r["images"], r["charged_usd"]) for r in in_sql]
    cells = lambda rows: sorted((c["dow"], c["hod"], c["calls"], c["failed"]) for c in rows)  # noqa: E731
    assert cells(heatmap_from_hours(rollups_hourly(qs), tz=tz)) == cells(rollups_heatmap(qs, tz=tz))
