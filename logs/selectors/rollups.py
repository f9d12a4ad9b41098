"""Reads of hourly rollups for the Overview: small aggregates, never the call table.

Each function takes an already scoped and filtered HourlyRollup queryset and returns plain
rows (dicts) for the pure chart functions of `logs.charts`. `rollups_cached` keeps what a
page computes from them, keyed by the query and the customers' rollup versions. The calls'
own aggregates per rollup key (`calls_by_rollup_key`, `rollups_differences`) are what the
rollups must equal: the service writes them, the `rollups` command compares with them.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connection, connections, transaction
from django.db.models import Case, CharField, Count, F, IntegerField, Q, Sum, Value, When
from django.db.models.functions import Cast, Coalesce, TruncDay, TruncHour

from logs.choices import Category, Family
from logs.models import (
    DAY_HOURS,
    HOUR_FIELDS,
    LATENCY_BUCKETS_MS,
    AllCustomersChannelRollup,
    AllCustomersDailyChannelRollup,
    AllCustomersDailyRollup,
    AllCustomersRollup,
    AllCustomersStale,
    Call,
    CoarseChannelRollup,
    CoarseDailyChannelRollup,
    CoarseDailyRollup,
    CoarseRollup,
    HourlyRollup,
    RollupVersion,
)
from logs.scoping import is_staff, scope_by_customer_field
from logs.selectors.calls import days_model_key_filter
from logs.timeutil import billing_tz, day_start

FACETS_TTL = 300
# A rollup write queues one warming of its customers' default Overview this many seconds later;
# more writes meanwhile (an ingest's chunks) join it.
WARM_DELAY = 5
_log = logging.getLogger("logs.overview")
UTC = dt.timezone.utc
# The columns that identify a rollup row (with its customer).
ROLLUP_KEY = ("hour", "family", "model", "token_name", "image_size", "category", "http_status", "channel_id")
# The figures of a rollup row, in the order deltas and comparisons keep them.
ROLLUP_VALUES = ("calls", "images", "charged_usd", "latency_count", "latency_sum_ms", *HourlyRollup.bucket_fields())
# The columns that identify a coarse rollup row (`CoarseRollup`, with its customer; also
# `AllCustomersRollup`, without), and a row of failures by channel (`CoarseChannelRollup`,
# with its customer; `AllCustomersChannelRollup`, without).
COARSE_KEY = ("hour", "family", "category", "image_size")
CHANNEL_KEY = ("hour", "family", "category", "channel_id")
# The rollups of whole billing days (`DayFigures`): their heatmap is read from the hours of the day.
DAILY_MODELS = (AllCustomersDailyRollup, CoarseDailyRollup)
# Bump when what the Overview computes from the same rollups changes (new figure, new field).
OVERVIEW_CACHE_SCHEMA = 1


def rollups_filter(qs, *, date_from=None, date_to=None, model=None, token_name=None, tz=None):
    """Rollups of the chosen days (in `tz`), model or family and API key: as calls are narrowed."""
    return days_model_key_filter(qs, time_field="hour", date_from=date_from, date_to=date_to,
                                 model=model, token_name=token_name, tz=tz)


def overview_table(*, model: str | None = None, token_name: str | None = None):
    """The rollups the Overview reads for these filters: the coarse ones (`CoarseRollup`: a
    customer-hour is a few dozen rows) unless an exact model or an API key is chosen, which
    only the fine ones (`HourlyRollup`) keep. A family is in both keys."""
    if token_name or (model and model not in Family.values):
        return HourlyRollup
    return CoarseRollup


def rollups_coarsened(qs):
    """Fine rollup rows (`HourlyRollup`) grouped as `CoarseRollup` keeps them: per customer_id,
    hour, family, category and c_size (the image size of delivered rows, '' on failures), with
    s_<figure> the sums of ROLLUP_VALUES. What the coarse rows must equal: the service writes
    it, checks compare."""
    delivered = Q(category=Category.SUCCESS)
    return (qs.annotate(c_size=Case(When(delivered, then=F("image_size")), default=Value(""),
                                    output_field=CharField()))
            .values("customer_id", "hour", "family", "category", "c_size")
            .annotate(**{f"s_{v}": Sum(v) for v in ROLLUP_VALUES})
            .order_by())


def rollups_coarsened_channels(qs):
    """Fine rollup rows of failed calls grouped as `CoarseChannelRollup` keeps them: per
    customer_id and CHANNEL_KEY, s_calls."""
    return (qs.exclude(category=Category.SUCCESS).values("customer_id", *CHANNEL_KEY)
            .annotate(s_calls=Sum("calls")).order_by())


def _summed(qs, key, figures):
    return qs.values(*key).annotate(**{f"s_{f}": Sum(f) for f in figures}).order_by()


def all_customers_sums(coarse):
    """Coarse rollup rows summed per COARSE_KEY (s_<figure>): as `AllCustomersRollup` keeps them."""
    return _summed(coarse, COARSE_KEY, ROLLUP_VALUES)


def channel_sums(channels):
    """`CoarseChannelRollup` rows summed per CHANNEL_KEY (s_calls): as `AllCustomersChannelRollup`
    keeps them."""
    return _summed(channels, CHANNEL_KEY, ("calls",))


def rollup_status(category: str, http_status: int | None) -> int | None:
    """The HTTP status a rollup row keeps: none for delivered calls (200 or no status alike)."""
    return None if category == Category.SUCCESS else http_status


def _bucket_aggregates() -> dict:
    aggs, lower = {}, None
    for i, upper in enumerate(LATENCY_BUCKETS_MS):
        cond = Q(latency_ms__isnull=False)
        if lower is not None:
            cond &= Q(latency_ms__gte=lower)
        if upper is not None:
            cond &= Q(latency_ms__lt=upper)
        aggs[f"lat_{i:02d}"] = Count("id", filter=cond)
        lower = upper
    return aggs


@contextmanager
def _one_snapshot():
    """A transaction whose reads see one snapshot: REPEATABLE READ READ ONLY on PostgreSQL
    when it is the outermost (inside another transaction, that one's; SQLite reads one anyway)."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def calls_by_rollup_key(*, customer_id: int, start: dt.datetime | None = None, end: dt.datetime | None = None):
    """A customer's calls in [start, end) grouped as rollups group them: hour h (UTC), key, figures.

    Figures: n calls, imgs, charged, lat_n, lat_sum, lat_00..; http_status is the calls' own
    (a delivered call's is dropped by `rollup_status`).
    """
    calls = Call.objects.filter(customer_id=customer_id)
    if start is not None:
        calls = calls.filter(created_at__gte=start)
    if end is not None:
        calls = calls.filter(created_at__lt=end)
    return calls_grouped_by_rollup_key(calls)


def calls_grouped_by_rollup_key(calls, *lead: str):
    """These calls grouped as rollups group them (see `calls_by_rollup_key`), by `lead` fields first."""
    return (
        calls.annotate(h=TruncHour("created_at", tzinfo=UTC))
        .values(*lead, "h", "family", "model", "token_name", "image_size", "category", "http_status", "channel_id")
        .annotate(
            n=Count("id"),
            imgs=Coalesce(Sum("images"), Value(0), output_field=IntegerField()),
            charged=Sum("charged_usd"),
            lat_n=Count("latency_ms"),
            lat_sum=Sum("latency_ms"),
            **_bucket_aggregates(),
        )
        .order_by()
    )


@dataclass
class RollupDifference:
    """One rollup key whose stored figures differ from its calls': {figure: (stored, calls)}."""

    customer_id: int
    key: tuple
    figures: dict = field(default_factory=dict)

    @property
    def hour(self) -> dt.datetime:
        return self.key[0]

    def describe(self) -> str:
        hour, family, model, token, size, category, status, channel = self.key
        where = " ".join(p for p in (family or "-", model or "-", f"key={token or '-'}", f"size={size or '-'}",
                                     category, f"status={status}" if status is not None else "",
                                     f"channel={channel}" if channel is not None else "") if p)
        what = ", ".join(f"{name} {stored} in rollups, {expected} in calls"
                         for name, (stored, expected) in self.figures.items())
        return f"{hour:%Y-%m-%d %H:00} UTC {where}: {what}"


def rollups_differences(*, customer_id: int, start: dt.datetime | None = None,
                        end: dt.datetime | None = None) -> tuple[list[RollupDifference], dict]:
    """Where a customer's rollups in [start, end) differ from its calls, read in one snapshot.

    Returns the differing keys (hour order) and the totals {"rollups": calls, "calls": calls}.
    Rows of the same key are summed, so a doubled row shows as doubled figures.
    """
    agg = {"n": "calls", "imgs": "images", "charged": "charged_usd", "lat_n": "latency_count",
           "lat_sum": "latency_sum_ms", **{b: b for b in HourlyRollup.bucket_fields()}}
    stored_qs = HourlyRollup.objects.filter(customer_id=customer_id)
    if start is not None:
        stored_qs = stored_qs.filter(hour__gte=start)
    if end is not None:
        stored_qs = stored_qs.filter(hour__lt=end)
    with _one_snapshot():  # both reads in one snapshot, beside running ingests
        expected: dict[tuple, list] = {}
        for r in calls_by_rollup_key(customer_id=customer_id, start=start, end=end):
            key = (r["h"], r["family"], r["model"], r["token_name"], r["image_size"], r["category"],
                   rollup_status(r["category"], r["http_status"]), r["channel_id"])
            values = [r[a] or 0 for a in agg]
            acc = expected.setdefault(key, [0] * len(values))
            for i, v in enumerate(values):
                acc[i] += v
        stored: dict[tuple, list] = {}
        for r in stored_qs.values(*ROLLUP_KEY).annotate(**{f"s_{v}": Sum(v) for v in ROLLUP_VALUES}).order_by():
            stored[tuple(r[k] for k in ROLLUP_KEY)] = [r[f"s_{v}"] or 0 for v in ROLLUP_VALUES]
    zero = [0] * len(ROLLUP_VALUES)
    diffs = []
    for key in sorted(expected.keys() | stored.keys(), key=lambda k: (k[0], *(str(x) for x in k[1:]))):
        have, want = stored.get(key, zero), expected.get(key, zero)
        if have != want:
            diffs.append(RollupDifference(customer_id, key, {
                name: (a, b) for name, a, b in zip(ROLLUP_VALUES, have, want) if a != b}))
    totals = {"rollups": sum(v[0] for v in stored.values()), "calls": sum(v[0] for v in expected.values())}
    return diffs, totals


@dataclass
class CoarseDifference:
    """One coarse rollup key whose stored figures differ from what they project or sum."""

    customer_id: int | None  # None: staff's all-customers rollups against every customer's coarse ones
    key: tuple  # (hour, family, category, image size, channel): the channel on channel rows only
    figures: dict = field(default_factory=dict)
    daily: bool = False  # daily rows (hour: the day's first) against the hourly ones they sum

    @property
    def hour(self) -> dt.datetime:
        return self.key[0]

    def describe(self) -> str:
        hour, family, category, size, channel = self.key
        where = " ".join(p for p in (family or "-", category, f"size={size}" if size else "",
                                     f"channel={channel}" if channel is not None else "") if p)
        stored_in, expected_in = (
            ("daily coarse rollups", "coarse rollups") if self.daily and self.customer_id is not None
            else ("coarse rollups", "hourly rollups") if self.customer_id is not None
            else ("daily all-customers rollups", "hourly all-customers rollups") if self.daily
            else ("all-customers rollups", "coarse rollups"))
        what = ", ".join(f"{name} {stored} in {stored_in}, {expected} in {expected_in}"
                         for name, (stored, expected) in self.figures.items())
        return f"{'day from ' if self.daily else ''}{hour:%Y-%m-%d %H:00} UTC {where}: {what}"


def _keyed(rows, key: tuple, figures: list[str], *, channel: bool) -> dict:
    """{(hour, family, category, size, channel): [figures]} of summed rows (rows of one key added)."""
    out: dict = {}
    for r in rows:
        k = tuple(r[f] for f in key)
        k = (*k[:3], "", k[3]) if channel else (*k, None)
        acc = out.setdefault(k, [0] * len(figures))
        for i, f in enumerate(figures):
            acc[i] += r[f] or 0
    return out


def _differing(customer_id, stored: dict, expected: dict, names) -> list[CoarseDifference]:
    zero = [0] * len(names)
    diffs = []
    for key in expected.keys() | stored.keys():
        have, want = stored.get(key, zero), expected.get(key, zero)
        if have != want:
            diffs.append(CoarseDifference(customer_id, key, {
                name: (a, b) for name, a, b in zip(names, have, want) if a != b}))
    return diffs


def _compared(customer_id, main: tuple, channels: tuple) -> list[CoarseDifference]:
    """Differences of (stored, expected) coarse rows and (stored, expected) channel rows, read in
    one snapshot (outside a transaction: REPEATABLE READ on PostgreSQL); hour order."""
    figures = [f"s_{v}" for v in ROLLUP_VALUES]
    with _one_snapshot():
        (got, got_key), (want, want_key) = main
        stored, expected = (_keyed(got, got_key, figures, channel=False),
                            _keyed(want, want_key, figures, channel=False))
        (got_ch, _), (want_ch, _) = channels
        stored_ch, expected_ch = (_keyed(got_ch, CHANNEL_KEY, ["s_calls"], channel=True),
                                  _keyed(want_ch, CHANNEL_KEY, ["s_calls"], channel=True))
    diffs = (_differing(customer_id, stored, expected, ROLLUP_VALUES)
             + _differing(customer_id, stored_ch, expected_ch, ["calls by channel"]))
    return sorted(diffs, key=lambda d: (d.key[0], *(str(x) for x in d.key[1:])))


def _in_range(qs, start, end):
    if start is not None:
        qs = qs.filter(hour__gte=start)
    if end is not None:
        qs = qs.filter(hour__lt=end)
    return qs


def coarse_differences(*, customer_id: int, start: dt.datetime | None = None,
                       end: dt.datetime | None = None) -> list[CoarseDifference]:
    """Where a customer's coarse rollups (and failures by channel) in [start, end) differ from
    the projection of its fine ones (`rollups_coarsened`, `rollups_coarsened_channels`), read in
    one snapshot, then where its daily ones differ from its coarse ones
    (`coarse_days_differences`); hour order."""
    fine = _in_range(HourlyRollup.objects.filter(customer_id=customer_id), start, end)
    coarse = _in_range(CoarseRollup.objects.filter(customer_id=customer_id), start, end)
    channels = _in_range(CoarseChannelRollup.objects.filter(customer_id=customer_id), start, end)
    return _compared(customer_id,
                     ((all_customers_sums(coarse), COARSE_KEY),
                      (rollups_coarsened(fine), ("hour", "family", "category", "c_size"))),
                     ((channel_sums(channels), CHANNEL_KEY), (rollups_coarsened_channels(fine), CHANNEL_KEY))) + \
        coarse_days_differences(customer_id=customer_id, start=start, end=end)


def all_customers_differences(*, start: dt.datetime | None = None,
                              end: dt.datetime | None = None) -> list[CoarseDifference]:
    """Where staff's all-customers rollups (and failures by channel) of the hours in [start, end)
    that no mark holds differ from the sums of every customer's coarse ones, read in one
    snapshot, then where the daily ones of the billing days those hours fall in differ from
    the sums of the hourly ones (`all_customers_days_differences`); hour order. (A marked hour
    is read from the coarse rows: what its all-customers rows hold is not used.)"""
    stale = AllCustomersStale.objects.values("hour")

    def unmarked(model):
        return _in_range(model.objects.exclude(hour__in=stale), start, end)

    return _compared(None,
                     ((all_customers_sums(unmarked(AllCustomersRollup)), COARSE_KEY),
                      (all_customers_sums(unmarked(CoarseRollup)), COARSE_KEY)),
                     ((channel_sums(unmarked(AllCustomersChannelRollup)), CHANNEL_KEY),
                      (channel_sums(unmarked(CoarseChannelRollup)), CHANNEL_KEY))) + \
        all_customers_days_differences(start=start, end=end)


def all_customers_days_differences(*, start: dt.datetime | None = None,
                                   end: dt.datetime | None = None) -> list[CoarseDifference]:
    """Where staff's daily all-customers rollups (and failures by channel) of the billing days
    the hours in [start, end) fall in differ from the sums of their hourly ones (`days_summed`:
    a day's row holds its hours' rows as the last fold wrote both), read in one snapshot; day
    order. `CoarseDifference.daily` rows, `hour` the day's first."""
    return _days_differences((AllCustomersDailyRollup, AllCustomersRollup, AllCustomersDailyChannelRollup,
                              AllCustomersChannelRollup), customer_id=None, start=start, end=end)


def coarse_days_differences(*, customer_id: int, start: dt.datetime | None = None,
                            end: dt.datetime | None = None) -> list[CoarseDifference]:
    """Where a customer's daily coarse rollups (and failures by channel) of the billing days the
    hours in [start, end) fall in differ from the sums of its coarse ones, as
    `all_customers_days_differences`."""
    return _days_differences((CoarseDailyRollup, CoarseRollup, CoarseDailyChannelRollup, CoarseChannelRollup),
                             customer_id=customer_id, start=start, end=end)


def _days_differences(models: tuple, *, customer_id: int | None, start, end) -> list[CoarseDifference]:
    tz = billing_tz()
    if start is not None:
        start = day_start(start.astimezone(tz).date(), tz)
    if end is not None:
        end = day_start((end - dt.timedelta(microseconds=1)).astimezone(tz).date() + dt.timedelta(days=1), tz)
    scope = {} if customer_id is None else {"customer_id": customer_id}
    diffs = []
    with _one_snapshot():
        for daily, hourly, key, figures, by_hour in day_tables(models):
            columns = (*key, *figures, *by_hour)
            stored = {(r[0], *r[1:1 + len(key)]): [v or 0 for v in r[1 + len(key):]]
                      for r in _in_range(daily.objects.filter(**scope), start, end).values_list("hour", *columns)}
            expected = days_summed(_in_range(hourly.objects.filter(**scope), start, end)
                                   .values_list("hour", *key, *figures).order_by(),
                                   width=len(key), tz=tz, by_hour=bool(by_hour))
            names = ([*figures, *(f"calls at {i:02d}:00" for i in range(DAY_HOURS))] if by_hour
                     else ["calls by channel"])
            for d in _differing(customer_id, stored, expected, names):
                k = d.key  # (day, family, category, size) or (day, family, category, channel)
                d.key = (*k, None) if by_hour else (*k[:3], "", k[3])
                d.daily = True
                diffs.append(d)
    return sorted(diffs, key=lambda d: (d.key[0], *(str(x) for x in d.key[1:])))


def day_tables(models: tuple) -> tuple:
    """(daily, hourly, key, figures, hour fields) of each daily table of `models` (daily,
    hourly, daily channel, hourly channel): the rows and their failures by channel; the key
    without the hour, the hour fields (the calls of each hour of the day) on the rows only."""
    daily_model, hourly_model, daily_channels, hourly_channels = models
    return ((daily_model, hourly_model, COARSE_KEY[1:], ROLLUP_VALUES, HOUR_FIELDS),
            (daily_channels, hourly_channels, CHANNEL_KEY[1:], ("calls",), []))


def days_summed(rows: Iterable[tuple], *, width: int, tz, by_hour: bool) -> dict[tuple, list]:
    """Rows of (hour, key..., figure...) (`width` key columns) summed per (day's first hour, key...)
    of the day the hour falls in, in `tz`: {(day, key...): [figure..., calls of each hour of
    the day (`by_hour`: the first figure, by the hour's local hour)]}."""
    out: dict[tuple, list] = {}
    days: dict[dt.datetime, tuple[dt.datetime, int]] = {}
    for r in rows:
        hour = r[0]
        placed = days.get(hour)
        if placed is None:
            local = hour.astimezone(tz)
            placed = days[hour] = (day_start(local.date(), tz), local.hour)
        figures = r[1 + width:]
        key = (placed[0], *r[1:1 + width])
        acc = out.get(key)
        if acc is None:
            acc = out[key] = [0] * (len(figures) + (DAY_HOURS if by_hour else 0))
        for i, v in enumerate(figures):
            acc[i] += v or 0
        if by_hour:
            acc[len(figures) + placed[1]] += figures[0] or 0
    return out


@dataclass(frozen=True)
class Taken:
    """A part of the Overview's rollups whose sums are taken away from the other parts' sums
    (`all_customers_parts`: the marked hours' rows inside the daily rows)."""

    qs: object


def all_customers_parts(narrow: Callable, *, daily: bool = False) -> tuple[list, list]:
    """Staff's "all customers" rollups as querysets whose sums together are the Overview's, each
    narrowed by `narrow` (the page's filters): the all-customers rows of the hours no mark holds
    and every customer's coarse rows of the marked hours (`AllCustomersStale`); the same for the
    failures by channel. Read them in one snapshot (`overview_sums` does).

    `daily` (a range of whole days in the billing zone, drawn per day in it): the daily
    all-customers rows instead, less the marked hours' all-customers rows (`Taken`: a day's
    row is the sum of its hours' rows as the last fold left them) plus their coarse rows: a
    30-day range reads some 1,500 rows instead of 35,000, however many hours are marked."""
    stale = AllCustomersStale.objects.values("hour")
    # `among`: probes of the few marked hours in the hour index (logs.lookups)
    marked = narrow(CoarseRollup.objects.filter(hour__among=stale))
    marked_channels = narrow(CoarseChannelRollup.objects.filter(hour__among=stale))
    if daily:
        return ([narrow(AllCustomersDailyRollup.objects.all()),
                 Taken(narrow(AllCustomersRollup.objects.filter(hour__among=stale))), marked],
                [narrow(AllCustomersDailyChannelRollup.objects.all()),
                 Taken(narrow(AllCustomersChannelRollup.objects.filter(hour__among=stale))), marked_channels])
    return ([narrow(AllCustomersRollup.objects.exclude(hour__in=stale)), marked],
            [narrow(AllCustomersChannelRollup.objects.exclude(hour__in=stale)), marked_channels])


def rollup_version_token(*, customer_id: int | None) -> str:
    """Changes whenever a rollup of the customer (None: of any customer) is written or deleted."""
    if customer_id is not None:
        version = RollupVersion.objects.filter(customer_id=customer_id).values_list("version", flat=True).first()
        return f"c{customer_id}v{version or 0}"
    pairs = list(RollupVersion.objects.order_by("customer_id").values_list("customer_id", "version"))
    return "all" + hashlib.sha1(repr(pairs).encode()).hexdigest()


EPOCH_KEY = "nbaudit:overview:epoch"


def overview_cache_epoch() -> str:
    """A random mark of this database's figures: rollup versions restart in a new database (a
    fresh `migrate`, a test run) while a shared cache may outlive it; `overview_cache_reset` (after
    each migrate) draws a new one, and a lost one is drawn again: both only make misses."""
    epoch = cache.get(EPOCH_KEY)
    if epoch is None:
        cache.add(EPOCH_KEY, secrets.token_hex(8), None)
        epoch = cache.get(EPOCH_KEY, "")
    return epoch


def overview_cache_reset(**kwargs) -> None:
    """Forget every cached Overview figure (a post_migrate receiver: the database may be new)."""
    cache.set(EPOCH_KEY, secrets.token_hex(8), None)


def rollups_cached(*, customer_id: int | None, qs, parts: tuple, compute: Callable[[], object]):
    """What `compute` makes of the rollups in `qs`, cached until those customers' rollups change.

    The key is the query itself (its SQL and parameters: scope, range, filters), `parts` (what
    else shapes the result: zone, hourly, language) and the rollup version, read before
    computing: a figure is never older than the version it is filed under, and any rollup
    write after it changes the version, so no page shows figures older than its request.
    """
    token = rollup_version_token(customer_id=customer_id)
    try:
        sql, params = qs.query.sql_with_params()
    except EmptyResultSet:  # nothing to read (an invalid filter): nothing worth keeping
        return compute()
    epoch = overview_cache_epoch()
    digest = hashlib.sha1(repr((OVERVIEW_CACHE_SCHEMA, epoch, token, sql, params, parts)).encode()).hexdigest()
    key = f"nbaudit:overview:{digest}"
    hit = cache.get(key)
    if hit is not None:
        return hit
    value = compute()
    cache.set(key, value, getattr(settings, "NBAUDIT_OVERVIEW_CACHE_SECONDS", 3600))
    return value


def overview_warm_soon(customer_ids) -> list[int]:
    """Queue the warming of these customers' default Overview (after their rollups changed),
    unless one is already queued. Call it after commit. Returns the customers queued."""
    if not getattr(settings, "NBAUDIT_OVERVIEW_WARM", False) or \
            settings.CACHES["default"]["BACKEND"].endswith("DummyCache"):
        return []
    pending = [cid for cid in sorted(set(customer_ids)) if cache.add(f"nbaudit:warm:{cid}", 1, 300)]
    if pending:
        from logs.tasks import overview_warm

        try:
            overview_warm.apply_async(args=[pending], countdown=WARM_DELAY)
        except Exception:  # noqa: BLE001 - no broker: the pages are computed on their first visit
            cache.delete_many([f"nbaudit:warm:{cid}" for cid in pending])
            _log.warning("could not queue the Overview warming of customers %s", pending, exc_info=True)
            return []
    return pending


def overview_warm_taken(customer_ids) -> None:
    """The worker starts warming: a rollup write from now on queues another warming."""
    cache.delete_many([f"nbaudit:warm:{cid}" for cid in customer_ids])


def rollups_hourly(qs) -> list[dict]:
    """Rows of (hour in UTC, category, calls, images, charged_usd): what periods and heatmap sum.

    One query per page, grouped by UTC hour (a few thousand rows for a month): days in a
    zone and cells of the week are cut in Python, which spares the database a time-zone
    conversion per rollup row (on SQLite a Python function call per row). SQLite hands the
    hour back as its stored text, parsed once per distinct hour here (Django's converter
    would parse it again on each row: the most of a 30-day page's time there).
    """
    if connection.vendor != "sqlite":
        return _sums_by(qs.values("hour", "category"), "hour")
    rows = _sums_by(qs.annotate(h=Cast("hour", CharField())).values("h", "category"), "h")
    hours: dict[str, dt.datetime] = {}
    for r in rows:
        text = r["period"]
        hour = hours.get(text)
        if hour is None:
            hour = hours[text] = dt.datetime.fromisoformat(text).replace(tzinfo=UTC)
        r["period"] = hour
    return rows


def _sums_by(rows, period: str) -> list[dict]:
    """Calls, images and spend summed per (`period` column, category)."""
    rows = rows.annotate(n=Sum("calls"), imgs=Sum("images"), charged=Sum("charged_usd")).order_by()
    return [
        {"period": r[period], "category": r["category"], "calls": r["n"] or 0,
         "images": r["imgs"] or 0, "charged_usd": r["charged"] or 0}
        for r in rows
    ]


def periods_from_hours(hour_rows: list[dict], *, tz, hourly: bool = False) -> list[dict]:
    """`rollups_hourly` rows as rows per hour, or per day in `tz` (period: that day's midnight in tz)."""
    if hourly:
        return hour_rows
    days: dict[tuple, dict] = {}
    local_day: dict[dt.datetime, dt.date] = {}
    for r in hour_rows:
        day = local_day.get(r["period"])
        if day is None:
            day = local_day[r["period"]] = r["period"].astimezone(tz).date()
        row = days.get((day, r["category"]))
        if row is None:
            row = days[(day, r["category"])] = {
                "period": dt.datetime.combine(day, dt.time.min, tzinfo=tz), "category": r["category"],
                "calls": 0, "images": 0, "charged_usd": 0}
        row["calls"] += r["calls"]
        row["images"] += r["images"]
        row["charged_usd"] += r["charged_usd"]
    return list(days.values())


def heatmap_from_hours(hour_rows: list[dict], *, tz=None) -> list[dict]:
    """`rollups_hourly` rows as cells (dow 1=Monday..7, hod 0..23, calls, failed) in `tz` (default: Beijing)."""
    tz = tz or billing_tz()
    cells: dict[tuple[int, int], dict] = {}
    cell_of: dict[dt.datetime, tuple[int, int]] = {}
    for r in hour_rows:
        key = cell_of.get(r["period"])
        if key is None:
            local = r["period"].astimezone(tz)
            key = cell_of[r["period"]] = (local.isoweekday(), local.hour)
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = {"dow": key[0], "hod": key[1], "calls": 0, "failed": 0}
        cell["calls"] += r["calls"]
        if r["category"] != Category.SUCCESS:
            cell["failed"] += r["calls"]
    return list(cells.values())


def rollups_by_period(qs, *, tz, hourly: bool = False) -> list[dict]:
    """Rows of (period, category, calls, images, charged_usd); period is a day in `tz` or an hour.

    PostgreSQL cuts days itself (AT TIME ZONE is cheap there, and returns a row per day);
    elsewhere (SQLite: a Python call per rollup row) the days are cut from `rollups_hourly`.
    """
    if hourly or connection.vendor != "postgresql":
        return periods_from_hours(rollups_hourly(qs), tz=tz, hourly=hourly)
    return _sums_by(qs.annotate(period=TruncDay("hour", tzinfo=tz)).values("period", "category"), "period")


def rollups_heatmap(qs, *, tz=None) -> list[dict]:
    """Rows of (dow 1=Monday..7, hod 0..23, calls, failed) in `tz` (default: Beijing time).

    SQL sums per UTC hour (a few hundred rows for a month); the hours are placed in the
    week in Python, which spares the database a time-zone conversion per rollup row.
    """
    rows = (
        qs.values("hour")
        .annotate(n=Sum("calls"),
                  failed=Coalesce(Sum("calls", filter=~Q(category=Category.SUCCESS)), 0,
                                  output_field=IntegerField()))
        .order_by()
    )
    return heatmap_from_hours(
        [{"period": r["hour"], "category": Category.SUCCESS, "calls": (r["n"] or 0) - (r["failed"] or 0)}
         for r in rows] + [{"period": r["hour"], "category": "failed", "calls": r["failed"] or 0} for r in rows],
        tz=tz)


def rollups_day_heatmap(qs, *, tz) -> list[dict]:
    """Heatmap cells (as `rollups_heatmap`) from daily rows (DAILY_MODELS): each
    day's calls of each hour of the day, placed in the week. `tz` is the billing zone, which
    the days and their hours are cut in."""
    failed = ~Q(category=Category.SUCCESS)
    rows = (qs.values("hour")
            .annotate(**{f"c{i}": Sum(f) for i, f in enumerate(HOUR_FIELDS)},
                      **{f"f{i}": Sum(f, filter=failed) for i, f in enumerate(HOUR_FIELDS)})
            .order_by())
    cells: dict[tuple[int, int], dict] = {}
    for r in rows:
        dow = r["hour"].astimezone(tz).isoweekday()
        for i in range(DAY_HOURS):
            calls = r[f"c{i}"] or 0
            if calls:
                cell = cells.setdefault((dow, i), {"dow": dow, "hod": i, "calls": 0, "failed": 0})
                cell["calls"] += calls
                cell["failed"] += r[f"f{i}"] or 0
    return list(cells.values())


def overview_rows(qs, *, tz, hourly: bool, heat_tz) -> tuple[list[dict], list[dict]]:
    """The Overview's period rows and heatmap cells in the fewest queries for the database."""
    if hourly or connection.vendor != "postgresql":
        hour_rows = rollups_hourly(qs)
        return (periods_from_hours(hour_rows, tz=tz, hourly=hourly),
                heatmap_from_hours(hour_rows, tz=heat_tz))
    return rollups_by_period(qs, tz=tz), rollups_heatmap(qs, tz=heat_tz)


def overview_sums(qs, *, tz, hourly: bool, heat_tz, channels: bool = False, also=(),
                  channel_parts=None) -> dict:
    """Everything the Overview draws from the rollups in `qs`: period rows, heatmap cells, latency
    rows and (staff) failures by channel, as `overview_rows`, `rollups_latency` and
    `rollups_failures_by_channel` return them. `also`: more querysets whose sums add to those of
    `qs`; `channel_parts`: the querysets the failures by channel are summed from instead
    (`all_customers_parts`); all read in one snapshot.

    On PostgreSQL the reads run with JIT off: compiling took ~100 ms of each (a month of all
    customers is about a million rollup rows, which JIT does not win back). One scan with
    GROUPING SETS was tried: 8 s against 4 s for the four reads (every aggregate of every set
    on each row, and no parallel workers).
    """
    def reads(part, by_channel: bool):
        if isinstance(part, Taken):
            return _negated(reads(part.qs, by_channel))
        if part.model in DAILY_MODELS:  # whole days of the billing zone (heat_tz is it)
            period_rows, heat_rows = rollups_by_period(part, tz=tz), rollups_day_heatmap(part, tz=heat_tz)
        else:
            period_rows, heat_rows = overview_rows(part, tz=tz, hourly=hourly, heat_tz=heat_tz)
        return {"periods": period_rows, "heat": heat_rows, "latency": rollups_latency(part),
                "channels": rollups_failures_by_channel(part) if by_channel else None}

    def channel_rows(part):
        if isinstance(part, Taken):
            return [{**r, "calls": -r["calls"]} for r in channel_rows(part.qs)]
        return rollups_failures_by_channel(part)

    def every_read():
        sums = [reads(part, channels and channel_parts is None) for part in (qs, *also)]
        merged = sums[0] if len(sums) == 1 else _sums_merged(sums)
        if channels and channel_parts is not None:
            merged["channels"] = _added([channel_rows(part) for part in channel_parts],
                                        ("channel_id", "category"), ("calls",))
        if any(isinstance(part, Taken) for part in (*also, *(channel_parts or ()))):
            merged = _pruned(merged)
        return merged

    conn = connections[qs.db]
    several = bool(also or channel_parts)
    if conn.vendor != "postgresql" and not several:
        return every_read()
    outermost = not conn.in_atomic_block
    with transaction.atomic(using=qs.db):
        if conn.vendor == "postgresql":
            with conn.cursor() as cur:
                if several and outermost:  # the parts in one snapshot: a fold between reads would move hours
                    cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                cur.execute("SET LOCAL jit = off")
        return every_read()


def _negated(sums: dict) -> dict:
    """`overview_sums` figures of a part, each taken away (a `Taken` part)."""
    return {"periods": [{**r, "calls": -r["calls"], "images": -r["images"], "charged_usd": -r["charged_usd"]}
                        for r in sums["periods"]],
            "heat": [{**r, "calls": -r["calls"], "failed": -r["failed"]} for r in sums["heat"]],
            "latency": [{**r, "buckets": [-n for n in r["buckets"]]} for r in sums["latency"]],
            "channels": None if sums["channels"] is None else [{**r, "calls": -r["calls"]} for r in sums["channels"]]}


def _pruned(sums: dict) -> dict:
    """Merged figures without the rows that count no calls (left where a `Taken` part took
    away all a day's row held): every rollup row counts a call, so these are rows no part has."""
    return {"periods": [r for r in sums["periods"] if r["calls"]],
            "heat": [r for r in sums["heat"] if r["calls"]],
            "latency": [r for r in sums["latency"] if any(r["buckets"])],
            "channels": None if sums["channels"] is None else [r for r in sums["channels"] if r["calls"]]}


def _added(rows_lists, key: tuple, figures: tuple) -> list[dict]:
    """Rows of several reads added together per `key`."""
    out: dict = {}
    for rows in rows_lists:
        for r in rows:
            k = tuple(r[f] for f in key)
            acc = out.get(k)
            if acc is None:
                out[k] = dict(r)
            else:
                for f in figures:
                    acc[f] += r[f]
    return list(out.values())


def _sums_merged(sums: list[dict]) -> dict:
    """`overview_sums` of several querysets added together."""
    latency: dict = {}
    for part in sums:
        for r in part["latency"]:
            acc = latency.setdefault(r["image_size"], [0] * len(r["buckets"]))
            for i, n in enumerate(r["buckets"]):
                acc[i] += n
    channels = None if sums[0]["channels"] is None else _added(
        [p["channels"] for p in sums], ("channel_id", "category"), ("calls",))
    return {"periods": _added([p["periods"] for p in sums], ("period", "category"),
                              ("calls", "images", "charged_usd")),
            "heat": _added([p["heat"] for p in sums], ("dow", "hod"), ("calls", "failed")),
            "latency": [{"image_size": size, "buckets": b} for size, b in latency.items()],
            "channels": channels}


def rollups_latency(qs) -> list[dict]:
    """Rows of (image_size, latency bucket counts) over delivered calls."""
    fields = HourlyRollup.bucket_fields()
    rows = (qs.filter(category=Category.SUCCESS).values("image_size")
            .annotate(**{f"s_{f}": Sum(f) for f in fields}).order_by())
    return [{"image_size": r["image_size"], "buckets": [r[f"s_{f}"] or 0 for f in fields]}
            for r in rows]


def rollups_failures_by_channel(qs) -> list[dict]:
    """Rows of (channel_id, category, calls) over failed calls: which upstream channel fails how.

    Staff only: the gateway hides its channels from its users, and so does nbaudit.
    """
    rows = (qs.exclude(category=Category.SUCCESS).values("channel_id", "category")
            .annotate(n=Sum("calls")).order_by())
    return [{"channel_id": r["channel_id"], "category": r["category"], "calls": r["n"] or 0} for r in rows]


def rollup_facets(qs, *, key: str) -> tuple[list[str], list[str]]:
    """The models and token names seen in `qs` (for the filter lists), cached a few minutes."""
    cache_key = f"nbaudit:facets:{key}"
    hit = cache.get(cache_key)
    if hit is not None:
        return hit
    models = sorted({m for m in qs.values_list("model", flat=True).distinct().order_by() if m})
    tokens = sorted({t for t in qs.values_list("token_name", flat=True).distinct().order_by() if t})
    cache.set(cache_key, (models, tokens), FACETS_TTL)
    return models, tokens


def rollup_facets_for(*, user, customer) -> tuple[list[str], list[str]]:
    """Models and API keys seen by the customer (or all the user may see), from rollups."""
    qs = scope_by_customer_field(user, HourlyRollup.objects.all())
    if customer is not None:
        qs = qs.filter(customer=customer)
    key = f"c{customer.pk}" if customer is not None else (
        "all" if is_staff(user) else f"c{user.customer_id}")
    return rollup_facets(qs, key=key)


# --- the Logs page's total, from the rollups -----------------------------------------------------

def _whole_hours(day: dt.date | None, tz) -> bool:
    """Whether the day starts on a whole hour in UTC in `tz` (rollups are hourly: a zone such as
    UTC+5:30 cuts hours in two, so its days cannot be summed from them exactly)."""
    return day is None or day_start(day, tz).minute == 0 and day_start(day, tz).second == 0


def calls_total_from_rollups(*, user, customer, params: dict) -> int | None:
    """How many calls the Logs page's filters match, summed from the hourly rollups (never a
    COUNT over the call table); None when the filters are not rollup dimensions.

    `params`: the keyword arguments of `calls_filter` (logs.filters.call_params). The days,
    model or family, API key, categories, failed only, channel and customer are rollup
    dimensions; an HTTP status is one only for failed calls (a delivered call's rollup keeps
    none), a request ID or an instant range is not one at all.
    """
    if params.get("request_id") or params.get("time_from") or params.get("time_to"):
        return None
    tz = params.get("tz") or billing_tz()
    if not (_whole_hours(params.get("date_from"), tz) and _whole_hours(
            params["date_to"] + dt.timedelta(days=1) if params.get("date_to") else None, tz)):
        return None
    cats = [c for c in params.get("categories") or [] if c]
    failed = bool(params.get("failed"))
    status = params.get("http_status")
    if status is not None and not failed and (not cats or Category.SUCCESS in cats):
        return None
    qs = scope_by_customer_field(user, HourlyRollup.objects.all())
    if customer is not None:
        qs = qs.filter(customer=customer)
    qs = rollups_filter(qs, date_from=params.get("date_from"), date_to=params.get("date_to"),
                        model=params.get("model"), token_name=params.get("token_name"), tz=tz)
    if cats:
        qs = qs.filter(category__in=cats)
    if failed:
        qs = qs.exclude(category=Category.SUCCESS)
    if status is not None:
        qs = qs.filter(http_status=status)
    if params.get("channel_id") is not None:
        qs = qs.filter(channel_id=params["channel_id"])
    return rollups_cached(customer_id=customer.pk if customer is not None else (
        None if is_staff(user) else user.customer_id), qs=qs, parts=("logs-total",),
        compute=lambda: qs.aggregate(n=Coalesce(Sum("calls"), 0))["n"])
