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
