"""The coarse rollups (`CoarseRollup`): the projection of the hourly ones after every write
(ingest, a killed ingest, merges, refresh, rebuild), checked and repaired by `manage.py
rollups`, and what the Overview reads unless an exact model or an API key is chosen, with
the same figures as the hourly rollups give."""
import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import logs.services.ingest as ingest
from logs.filtersets import RollupFilterSet
from logs.models import (
    HOUR_FIELDS,
    AllCustomersChannelRollup,
    AllCustomersDailyChannelRollup,
    AllCustomersDailyRollup,
    AllCustomersRollup,
    AllCustomersStale,
    Call,
    CoarseChannelRollup,
    CoarseDailyRollup,
    CoarseRollup,
    Customer,
    HourlyRollup,
)
from logs.scoping import SESSION_KEY, scope_by_customer_field
from logs.selectors.rollups import (
    all_customers_differences,
    coarse_differences,
    overview_table,
    rollup_facets_for,
)
from logs.services.ingest import calls_ingest
from logs.services.rollups import (
    all_customers_days_refresh,
    all_customers_fold,
    rollups_rebuild,
    rollups_refresh,
)
from logs.views.overview import overview_figures
from tests import factories
from tests.logs.rollups.helpers import PRO, assert_exact, export, export_rows
from tests.logs.rollups.test_cache import NOCACHE, _recent, _shown
from tests.logs.rollups.test_service import _die_at_chunk

pytestmark = pytest.mark.django_db
UTC = dt.timezone.utc


def _varied(customer, *, at: dt.datetime) -> None:
    """Calls of two models, keys, sizes and channels, delivered and failed, in two hours."""
    for i in range(24):
        failed = i % 3 == 0
        factories.call(customer, created_at=at + dt.timedelta(minutes=7 * i),
                       model=PRO if i % 2 else "gemini-3.1-flash-image-preview",
                       token_name=("web", "batch", "mobile")[i % 3],
                       image_size=("1K", "2K", "4K")[i % 3 if not failed else 0],
                       category="overloaded" if failed and i % 2 else ("rate_limited" if failed else "success"),
                       http_status=(503 if i % 2 else 429) if failed else 200,
                       charged_usd=Decimal(0) if failed else Decimal("0.05"),
                       channel_id=(i % 4) or None, latency_ms=1000 * (i + 1))


def test_coarse_rows_keep_size_on_delivered_rows_and_failures_by_channel_apart():
    acme = factories.customer("acme")
    at = dt.datetime(2026, 10, 3, 1, 0, tzinfo=UTC)
    _varied(acme, at=at)
    rollups_rebuild(customer_id=acme.pk)
    assert assert_exact() == 24
    rows = list(CoarseRollup.objects.filter(customer=acme).values("category", "image_size"))
    assert {r["image_size"] for r in rows if r["category"] != "success"} == {""}
    assert {r["image_size"] for r in rows if r["category"] == "success"} == {"2K", "4K"}
    assert len(rows) < HourlyRollup.objects.filter(customer=acme).count()
    assert CoarseRollup.objects.aggregate(s=Sum("charged_usd"))["s"] == Decimal("0.80")
    channels = CoarseChannelRollup.objects.filter(customer=acme)
    assert set(channels.values_list("category", flat=True)) == {"overloaded", "rate_limited"}
    assert set(channels.values_list("channel_id", flat=True)) == {None, 1, 2, 3}
    assert channels.aggregate(n=Sum("calls"))["n"] == 8


@pytest.mark.postgres
def test_coarse_follows_the_sql_path_of_gateway_ingest():
    """Gateway CSV on PostgreSQL is stored in SQL (logs.services.ingest_sql): its rollups, coarse
    ones included, are the calls' as the Python way makes them."""
    body = export(export_rows(300))
    assert calls_ingest(source=body).inserted == 300
    assert assert_exact() == 300
    assert calls_ingest(source=body).inserted == 0  # all duplicates: nothing moves
    assert assert_exact() == 300


def test_coarse_follows_ingest_killed_ingest_and_rebuild(monkeypatch):
    # Killed in the Python way's chunk (the SQL path's own kill test is in test_postgres.py).
    monkeypatch.setattr(ingest, "GATEWAY_SQL", False)
    monkeypatch.setattr(ingest, "CHUNK", 50)
    monkeypatch.setattr(ingest, "CHUNK_COPY", 50)
    body = export(export_rows(300))
    _die_at_chunk(monkeypatch, ingest._Run, "apply", 3)
    with pytest.raises(RuntimeError):
        calls_ingest(source=body)
    assert Call.objects.count() == 100  # two chunks committed
    acme = Customer.objects.get(slug="acme")
    assert CoarseRollup.objects.filter(customer=acme).aggregate(n=Sum("calls"))["n"] == 100
    assert assert_exact() == 100
    monkeypatch.undo()
    monkeypatch.setattr(ingest, "CHUNK", 50)
    monkeypatch.setattr(ingest, "CHUNK_COPY", 50)
    again = calls_ingest(source=body)  # the upload again: the SQL path on PostgreSQL
    assert again.inserted == 200
    assert assert_exact() == 300
    # a refresh of some hours, and a rebuild, leave the same coarse rows
    _varied(acme, at=dt.datetime(2026, 10, 3, 1, 0, tzinfo=UTC))
    rollups_refresh(customer_id=acme.pk, hours=[dt.datetime(2026, 10, 3, h, 0, tzinfo=UTC) for h in (1, 2, 3)])
    assert assert_exact() == 324


def test_coarse_rows_no_fine_row_backs_go_on_rebuild():
    acme = factories.customer("acme")
    at = dt.datetime(2026, 10, 3, 1, 0, tzinfo=UTC)
    _varied(acme, at=at)
    rollups_rebuild(customer_id=acme.pk)
    stray = CoarseRollup.objects.filter(customer=acme).first()
    stray.pk, stray.hour = None, at - dt.timedelta(days=2)
    stray.save()
    diffs = coarse_differences(customer_id=acme.pk)
    assert {d.hour for d in diffs if not d.daily} == {stray.hour}
    # and its billing day (from 16:00 UTC the day before) no longer sums its coarse rows
    assert {d.hour for d in diffs if d.daily} == {dt.datetime(2026, 9, 30, 16, 0, tzinfo=UTC)}
    rollups_rebuild(customer_id=acme.pk)
    assert coarse_differences(customer_id=acme.pk) == []
    assert assert_exact() == 24


def _run(*args):
    out = StringIO()
    call_command("rollups", *args, stdout=out)
    return out.getvalue()


def test_command_checks_and_repairs_the_coarse_rollups():
    acme, globex = factories.customer("acme"), factories.customer("globex")
    at = dt.datetime(2026, 10, 3, 1, 0, tzinfo=UTC)
    _varied(acme, at=at)
    _varied(globex, at=at)
    rollups_rebuild()
    CoarseRollup.objects.filter(customer=acme, hour=at, category="success", family="pro",
                                image_size="2K").update(calls=99)
    with pytest.raises(CommandError) as err:
        _run("--check")
    assert err.value.returncode == 1 and "acme" in str(err.value) and "globex" not in str(err.value)
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("rollups", "--check", stdout=out)
    text = out.getvalue()
    assert "acme: rollups equal the calls (24 calls)" in text  # the hourly rollups are right
    # the row, and its billing day's (from 16:00 UTC the day before), which no longer sums it
    assert "acme: 2 coarse rollup rows in 2 hours differ from the hourly rollups" in text
    assert "2026-10-03 01:00 UTC pro success size=2K: calls 99 in coarse rollups, 2 in hourly rollups" in text
    assert ("day from 2026-10-02 16:00 UTC pro success size=2K: calls 4 in daily coarse rollups, 101 in coarse "
            "rollups, calls at 09:00 2 in daily coarse rollups, 99 in coarse rollups") in text
    text = _run("--rebuild")
    assert "recomputed those 2 hours of coarse rollups from the hourly ones" in text
    assert "differ" not in _run("--check")
    assert assert_exact("acme") == 24 and assert_exact("globex") == 24


# --- the Overview reads them -------------------------------------------------------------------

def _sum_tables(ctx) -> set[str]:
    """The rollup tables the Overview's charts summed in the captured queries (billing's estimate
    panel reads the month's hourly rollups apart: it needs their HTTP status, and is cached)."""
    return {t for q in ctx.captured_queries if "SUM(" in q["sql"] and "http_status" not in q["sql"]
            for t in ("logs_hourlyrollup", "logs_coarserollup", "logs_coarsechannelrollup", "logs_allcustomersrollup",
                      "logs_allcustomerschannelrollup", "logs_allcustomersdailyrollup",
                      "logs_allcustomersdailychannelrollup", "logs_coarsedailyrollup",
                      "logs_coarsedailychannelrollup") if f'"{t}"' in q["sql"]}


def _fine_figures(resp, query: dict, *, staff: bool, customer=None) -> dict:
    """What the Overview showed before the coarse rollups: its figures from the hourly ones."""
    from django.http import QueryDict

    request = resp.wsgi_request
    tz = request.tz
    qs = scope_by_customer_field(request.user, HourlyRollup.objects.all())
    if customer is not None:
        qs = qs.filter(customer=customer)
    models, tokens = rollup_facets_for(user=request.user, customer=customer)
    data = QueryDict(mutable=True)
    data.update(query)
    filterset = RollupFilterSet(data, qs, request=request, tz=tz, today=timezone.localdate(timezone=tz),
                                models=models, tokens=tokens)
    return overview_figures(filterset.qs, tz=tz, hourly=resp.context["hourly"], staff=staff)


QUERIES = [({}, "logs_coarserollup"), ({"range": "7d"}, "logs_coarserollup"),
           ({"range": "today"}, "logs_coarserollup"), ({"model": "pro"}, "logs_coarserollup"),
           ({"model": PRO}, "logs_hourlyrollup"), ({"token_name": "batch"}, "logs_hourlyrollup"),
           ({"model": "nb2", "token_name": "web"}, "logs_hourlyrollup")]
# What the page sums when it reads the coarse rollups, by who looks.
COARSE_TABLES = {
    "customer": {"logs_coarserollup"},
    "staff, one customer": {"logs_coarserollup", "logs_coarsechannelrollup"},
    # the all-customers rows of the hours no mark holds, the coarse rows of the marked ones
    "staff, all customers": {"logs_allcustomersrollup", "logs_allcustomerschannelrollup", "logs_coarserollup",
                             "logs_coarsechannelrollup"},
}
# The same over whole days of the billing zone: the daily rows; for staff's all customers, less
# the marked hours' all-customers rows, plus their coarse rows.
DAILY_TABLES = {
    "customer": {"logs_coarsedailyrollup"},
    "staff, one customer": {"logs_coarsedailyrollup", "logs_coarsedailychannelrollup"},
    "staff, all customers": COARSE_TABLES["staff, all customers"] | {"logs_allcustomersdailyrollup",
                                                                     "logs_allcustomersdailychannelrollup"},
}


@pytest.mark.parametrize("who", list(COARSE_TABLES))
def test_overview_shows_the_hourly_rollups_figures_from_the_coarse_ones(client, settings, who):
    settings.CACHES = NOCACHE
    acme = factories.customer("acme")
    calls_ingest(source=_recent(300))
    now = dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    _varied(acme, at=now - dt.timedelta(hours=30))
    _varied(factories.customer("globex"), at=now - dt.timedelta(days=3))
    rollups_rebuild()
    staff = who != "customer"
    user = factories.user("sam", staff=True) if staff else factories.user("alice", customer_obj=acme)
    client.force_login(user)
    one = acme if who != "staff, all customers" else None
    if staff and one is not None:
        session = client.session
        session[SESSION_KEY] = one.pk
        session.save()

    def same_figures():
        for query, table in QUERIES:
            with CaptureQueriesContext(connection) as ctx:
                resp = client.get("/", query)
            assert resp.status_code == 200
            expected = COARSE_TABLES[who] if table == "logs_coarserollup" else {table}
            if table == "logs_coarserollup" and not resp.context["hourly"]:
                expected = DAILY_TABLES[who]
            assert _sum_tables(ctx) == expected, query
            assert _shown(resp) == _fine_figures(resp, query, staff=staff, customer=one), query

    everyone = who == "staff, all customers"
    # every hour is marked (nothing folded yet): staff's all customers read the coarse rows
    same_figures()
    assert client.get("/").context["totals"]["calls"] == (348 if everyone else 324)
    assert all_customers_fold() > 0 and not AllCustomersStale.objects.exists()
    same_figures()
    # new calls: their hours marked again, read from the coarse rows until the next fold
    _varied(acme, at=now - dt.timedelta(hours=5))
    rollups_refresh(customer_id=acme.pk, hours=[now - dt.timedelta(hours=h) for h in (5, 4, 3, 2)])
    assert AllCustomersStale.objects.exists()
    same_figures()
    assert client.get("/").context["totals"]["calls"] == (372 if everyone else 348)


def test_all_customers_rollups_sum_the_coarse_ones_checked_and_repaired():
    acme, globex = factories.customer("acme"), factories.customer("globex")
    at = dt.datetime(2026, 10, 3, 1, 0, tzinfo=UTC)
    _varied(acme, at=at)
    _varied(globex, at=at + dt.timedelta(hours=1))
    rollups_rebuild()
    assert all_customers_differences() == []  # marked hours are read from the coarse rows
    all_customers_fold()
    assert all_customers_differences() == []
    assert AllCustomersRollup.objects.aggregate(n=Sum("calls"))["n"] == 48
    keys = list(AllCustomersRollup.objects.values_list("hour", "family", "category", "image_size"))
    assert len(keys) == len(set(keys)) < CoarseRollup.objects.count()
    failed = CoarseChannelRollup.objects.aggregate(n=Sum("calls"))["n"]
    assert AllCustomersChannelRollup.objects.aggregate(n=Sum("calls"))["n"] == failed == 16
    assert set(AllCustomersChannelRollup.objects.values_list("channel_id", flat=True)) == {None, 1, 2, 3}
    AllCustomersRollup.objects.filter(hour=at + dt.timedelta(hours=1), category="success").update(calls=99)
    AllCustomersChannelRollup.objects.filter(hour=at, channel_id=3).update(calls=7)
    diffs = all_customers_differences()
    assert diffs and {d.hour for d in diffs if not d.daily} == {at, at + dt.timedelta(hours=1)}
    # and the billing day they fall in (from 16:00 UTC the day before) no longer sums them
    assert {d.hour for d in diffs if d.daily} == {dt.datetime(2026, 10, 2, 16, 0, tzinfo=UTC)}
    text = "\n".join(d.describe() for d in diffs)
    assert "calls 99 in all-customers rollups" in text and "channel=3: calls by channel 7 in" in text
    with pytest.raises(CommandError) as err:
        _run("--check")
    assert "all customers" in str(err.value)
    text = _run("--rebuild")
    assert "all customers: recomputed" in text
    assert all_customers_differences() == []
    assert "all customers: the all-customers rollups equal the coarse ones" in _run("--check")


def test_overview_table_by_filter():
    assert overview_table() is CoarseRollup
    assert overview_table(model="nb2_lite") is CoarseRollup
    assert overview_table(model=PRO) is HourlyRollup
    assert overview_table(token_name="web") is HourlyRollup


def test_the_fold_task_and_the_warming_fold_the_marked_hours():
    from logs.tasks import all_customers_fold as fold_task, overview_warm

    acme = factories.customer("acme")
    _varied(acme, at=dt.datetime(2026, 10, 3, 1, 0, tzinfo=UTC))
    rollups_rebuild()
    assert fold_task.apply().get() == 3 and not AllCustomersStale.objects.exists()
    rollups_refresh(customer_id=acme.pk, hours=[dt.datetime(2026, 10, 3, 2, 0, tzinfo=UTC)])
    assert AllCustomersStale.objects.count() == 1
    overview_warm.apply(args=[[acme.pk]]).get()
    assert not AllCustomersStale.objects.exists() and all_customers_differences() == []


def test_a_deleted_customer_leaves_the_all_customers_rollups_at_the_next_fold():
    acme, globex = factories.customer("acme"), factories.customer("globex")
    at = dt.datetime(2026, 10, 3, 1, 0, tzinfo=UTC)
    _varied(acme, at=at)
    _varied(globex, at=at)
    rollups_rebuild()
    all_customers_fold()
    assert AllCustomersRollup.objects.aggregate(n=Sum("calls"))["n"] == 48
    Call.objects.filter(customer=globex).delete()  # as retention would have dropped its calls
    globex.delete()  # its rollups go with it (cascade)
    assert all_customers_differences() == []  # its hours are marked: read from the coarse rows
    all_customers_fold()
    assert AllCustomersRollup.objects.aggregate(n=Sum("calls"))["n"] == 24
    assert all_customers_differences() == []


# --- staff's all customers per billing day ---------------------------------------------------------

@pytest.mark.parametrize("zone", ["", "UTC"], ids=["billing zone", "UTC"])
@pytest.mark.parametrize("who", ["staff", "customer"])
def test_whole_billing_days_read_the_daily_rows_with_the_hourly_figures(client, settings, zone, who):
    """Whole days of the billing zone are read from the daily rows (a customer's; staff's
    all-customers ones with the marked hours taken away and read from the coarse rows); another
    zone's days from the hourly ones: the figures are the hourly rollups' either way, before a
    fold, after it, and after a customer is deleted (its day's rows taken away to nothing)."""
    settings.CACHES = NOCACHE
    acme, globex = factories.customer("acme"), factories.customer("globex")
    now = dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    _varied(acme, at=now - dt.timedelta(hours=30))
    _varied(globex, at=now - dt.timedelta(days=3))
    rollups_rebuild()
    user = factories.user("sam", staff=True) if who == "staff" else factories.user("alice", customer_obj=acme)
    user.time_zone = zone
    user.save()
    client.force_login(user)
    daily_table = "logs_allcustomersdailyrollup" if who == "staff" else "logs_coarsedailyrollup"

    def same_figures(calls: int):
        for query in ({}, {"range": "7d"}, {"model": "pro"}, {"range": "today"}):
            with CaptureQueriesContext(connection) as ctx:
                resp = client.get("/", query)
            assert resp.status_code == 200
            daily = not resp.context["hourly"] and not zone
            assert (daily_table in _sum_tables(ctx)) == daily, query
            assert _shown(resp) == _fine_figures(resp, query, staff=who == "staff"), query
        assert client.get("/").context["totals"]["calls"] == calls

    everyone = 48 if who == "staff" else 24
    same_figures(everyone)  # every hour marked: staff's all customers read the coarse rows
    all_customers_fold()
    assert AllCustomersDailyRollup.objects.aggregate(n=Sum("calls"))["n"] == 48
    assert CoarseDailyRollup.objects.filter(customer=acme).aggregate(n=Sum("calls"))["n"] == 24
    same_figures(everyone)
    Call.objects.filter(customer=globex).delete()  # as retention would have dropped its calls
    globex.delete()
    assert AllCustomersStale.objects.exists() and not CoarseDailyRollup.objects.exclude(customer=acme).exists()
    same_figures(24)
    all_customers_fold()
    assert AllCustomersDailyRollup.objects.aggregate(n=Sum("calls"))["n"] == 24
    same_figures(24)


def test_the_daily_all_customers_rollups_sum_the_hourly_ones_checked_and_repaired():
    acme = factories.customer("acme")
    at = dt.datetime(2026, 10, 3, 1, 0, tzinfo=UTC)  # 09:00 in Beijing: the billing day from 16:00 UTC before
    _varied(acme, at=at)
    rollups_rebuild()
    all_customers_fold()
    day = dt.datetime(2026, 10, 2, 16, 0, tzinfo=UTC)
    rows = AllCustomersDailyRollup.objects.filter(hour=day)
    assert rows.aggregate(n=Sum("calls"))["n"] == 24 == AllCustomersDailyRollup.objects.aggregate(n=Sum("calls"))["n"]
    by_hour = rows.aggregate(**{f: Sum(f) for f in HOUR_FIELDS})
    assert {f: n for f, n in by_hour.items() if n} == {"h_09": 9, "h_10": 9, "h_11": 6}
    failed = CoarseChannelRollup.objects.aggregate(n=Sum("calls"))["n"]
    assert AllCustomersDailyChannelRollup.objects.filter(hour=day).aggregate(n=Sum("calls"))["n"] == failed == 8
    assert all_customers_differences() == []
    rows.filter(category="success", image_size="2K").update(h_10=F("h_10") + 5)
    AllCustomersDailyChannelRollup.objects.filter(hour=day, channel_id=3).update(calls=7)
    diffs = all_customers_differences()
    assert diffs and {(d.hour, d.daily) for d in diffs} == {(day, True)}
    text = "\n".join(d.describe() for d in diffs)
    assert "day from 2026-10-02 16:00 UTC pro success size=2K: calls at 10:00 " in text
    assert "in daily all-customers rollups" in text and "channel=3: calls by channel 7 in" in text
    with pytest.raises(CommandError):
        _run("--check")
    assert "all customers: recomputed" in _run("--rebuild")
    assert all_customers_differences() == []
    # what the migration does to a database with hourly rows and no daily ones yet
    AllCustomersDailyRollup.objects.all().delete()
    AllCustomersDailyChannelRollup.objects.all().delete()
    assert all_customers_differences() != []
    assert all_customers_days_refresh() == 1
    assert all_customers_differences() == []


def test_among_takes_a_subquery_only():
    from logs.models import AllCustomersStale

    at = dt.datetime(2026, 10, 3, 1, 0, tzinfo=UTC)
    AllCustomersStale.objects.create(hour=at)
    assert CoarseRollup.objects.filter(hour__among=AllCustomersStale.objects.values("hour")).count() == 0
    with pytest.raises(TypeError, match="__among takes a values"):
        CoarseRollup.objects.filter(hour__among=[at]).count()


def test_a_billing_zone_with_a_25_hour_day_reads_the_same_figures_per_day(client, settings):
    """A billing zone that changes its clocks (New York, 1 November 2026: 01:00-02:00 twice):
    that day's rows hold 25 hours, the repeated hour in one cell of the day, and the pages per
    day show the hourly rollups' figures; the checks (on PostgreSQL the SQL day sums against
    the Python ones) find nothing."""
    settings.CACHES = NOCACHE
    settings.NBAUDIT_BILLING_TZ = "America/New_York"
    acme, globex = factories.customer("acme"), factories.customer("globex")
    start = dt.datetime(2026, 10, 31, 4, 0, tzinfo=UTC)  # midnight of 31 October in New York (EDT)
    for h in range(3 * 24 + 1):
        for customer in (acme, globex):
            factories.call(customer, created_at=start + dt.timedelta(hours=h, minutes=10),
                           category="rate_limited" if h % 5 == 0 else "success",
                           http_status=429 if h % 5 == 0 else 200, channel_id=h % 3,
                           charged_usd=Decimal(0) if h % 5 == 0 else Decimal("0.05"), latency_ms=1000 + h)
    rollups_rebuild()
    all_customers_fold()
    day = dt.datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # its midnight, still EDT
    rows = AllCustomersDailyRollup.objects.filter(hour=day)
    assert rows.aggregate(n=Sum("calls"))["n"] == 2 * 25
    assert rows.aggregate(n=Sum("h_01"))["n"] == 2 * 2  # 01:00 EDT and 01:00 EST
    assert all_customers_differences() == []
    assert coarse_differences(customer_id=acme.pk) == []
    query = {"range": "custom", "date_from": "2026-10-31", "date_to": "2026-11-02"}
    for user in (factories.user("sam", staff=True), factories.user("alice", customer_obj=acme)):
        client.force_login(user)
        with CaptureQueriesContext(connection) as ctx:
            resp = client.get("/", query)
        assert resp.status_code == 200 and not resp.context["hourly"]
        assert {"logs_allcustomersdailyrollup", "logs_coarsedailyrollup"} & _sum_tables(ctx)
        staff = user.is_staff
        assert _shown(resp) == _fine_figures(resp, query, staff=staff)
        assert resp.context["totals"]["calls"] == (2 if staff else 1) * (24 + 25 + 24)
