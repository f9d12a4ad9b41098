"""Time: stored in UTC; a billing day or month is cut in the billing time zone (UTC+8)."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings

UTC = dt.timezone.utc


def billing_tz() -> ZoneInfo:
    return ZoneInfo(settings.NBAUDIT_BILLING_TZ)


def day_start(day: dt.date, tz=None) -> dt.datetime:
    """The UTC instant a day starts in `tz` (default: billing zone)."""
    tz = tz or billing_tz()
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz).astimezone(UTC)


def day_range(first: dt.date, last: dt.date, tz=None) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in UTC of whole days first..last (both included) in `tz`."""
    return day_start(first, tz), day_start(last + dt.timedelta(days=1), tz)


def month_first(value: dt.date) -> dt.date:
    return value.replace(day=1)


def next_month(first: dt.date) -> dt.date:
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def month_range(first: dt.date, tz=None) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in UTC of a calendar month in the billing zone."""
    first = month_first(first)
    return day_start(first, tz), day_start(next_month(first), tz)


def parse_month(text: str) -> dt.date:
    """`YYYY-MM` -> the first day of that month. Raises ValueError."""
    try:
        return dt.datetime.strptime(text.strip(), "%Y-%m").date()
    except (ValueError, AttributeError):
        raise ValueError(f"not a month (YYYY-MM): {text!r}") from None


def parse_day(text: str) -> dt.date:
    """`YYYY-MM-DD` -> a date. Raises ValueError naming the text."""
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise ValueError(f"not a day (YYYY-MM-DD): {text!r}") from None


def billing_today() -> dt.date:
    return dt.datetime.now(billing_tz()).date()


def utc_offset_label(tz, at: dt.datetime | None = None) -> str:
    """A zone's offset from UTC at `at` (default now) as people write it: "UTC+8", "UTC−5", "UTC+5:30"."""
    at = at or dt.datetime.now(UTC)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    try:
        offset = at.astimezone(tz).utcoffset() or dt.timedelta(0)
    except OverflowError:
        offset = dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    if not minutes:
        return "UTC"
    sign = "+" if minutes > 0 else "\u2212"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def zone_label(tz, at: dt.datetime | None = None) -> str:
    """A zone by name and offset, never an abbreviation like "CST": "Asia/Shanghai, UTC+8"."""
    if isinstance(tz, str):
        tz = ZoneInfo(tz)
    name = getattr(tz, "key", None) or str(tz)
    if name == "UTC":
        return "UTC"
    return f"{name}, {utc_offset_label(tz, at)}"
