"""Value readers: an input value -> the typed value of a call field, or RowError with the reason.

Every format and every way in (file command, upload, push API, reconciliation local log)
reads its values here, so each is checked once, as formats.md says under "What makes a row
bad" and "Values that parse but cannot be true": a value that cannot be read as its type, or
that parses but cannot be true (a time before 2020 or more than a day ahead, a number that is
not finite or does not fit the field, text that is not valid Unicode or longer than its
column, JSON nested too deep), is a bad row, never stored and never a crash later.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from logs.money import QUOTA_PER_USD, SIX, parse_amount as read_amount
from logs.parsers.base import RowError
from logs.timeutil import UTC

EARLIEST = dt.datetime(2020, 1, 1, tzinfo=UTC)
AHEAD = dt.timedelta(days=1)           # how far past the clock a time may lie
INT_MAX = 2**31 - 1                    # token counts, latency
SMALL_MAX = 2**15 - 1                  # image and draft counts
MAX_AMOUNT = Decimal(1_000_000)        # US$ a call
MAX_RATIO = Decimal(1000)              # a group ratio
MAX_DEPTH = 100                        # JSON nesting
MAX_REQUEST_ID = 200
# Column widths of the free-text call fields read from the input (logs.models.Call).
TEXT_LIMITS = {"request_id": MAX_REQUEST_ID, "model": 200, "token_name": 200, "route": 64, "group": 64,
               "image_size": 32}
SLUG = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
_LONGEST_NUMBER = 40  # characters: longer is no count, amount or time of ours


def _shown(value: Any) -> str:
    """A value for a reason: its repr, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- text ----------------------------------------------------------------------------------

def check_unicode(text: str, label: str) -> str:
    """`text` if it is valid Unicode: no lone surrogate (bytes not of the file's encoding read as one)."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise RowError(f"{label} is not valid text: a lone surrogate, or bytes that are not "
                           f"UTF-8 (the file's encoding)") from None
    return text


def parse_text(value: Any, label: str, limit: int | None = None) -> str:
    """A free-text value as given (trimmed); longer than `limit` is a bad row, never cut."""
    if type(value) is str and value.isascii() and (limit is None or len(value) <= limit):
        return value.strip()  # the common case
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = value.strip() if isinstance(value, str) else str(value).strip()
    if limit is not None and len(text) > limit:
        raise RowError(f"{label} is longer than {limit} characters ({len(text)})")
    return check_unicode(text, label)


def parse_request_id(value: Any, label: str = "request_id") -> str:
    if value is None or isinstance(value, bool):
        raise RowError(f"{label} is missing")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and abs(value) >= 10**MAX_REQUEST_ID:
        raise RowError(f"{label} is longer than {MAX_REQUEST_ID} characters")
    if not isinstance(value, (str, int)):
        raise RowError(f"{label} must be a string, not {type(value).__name__}")
    text = parse_text(value, label, MAX_REQUEST_ID)
    if not text:
        raise RowError(f"{label} is empty")
    return text


def parse_slug(value: Any, label: str = "customer") -> str:
    """A customer slug: 1 to 64 letters, digits, `-`, `_` or `.`; '' when absent."""
    if value is None:
        return ""
    text = value.strip() if isinstance(value, str) else str(value).strip()
    if text and not SLUG.fullmatch(text):
        raise RowError(f"{label} {_shown(text)} is not a customer slug "
                       f"(1 to 64 letters, digits, '-', '_' or '.')")
    return text


# --- time ----------------------------------------------------------------------------------

def _read_time(value: Any, tz: ZoneInfo, label: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, bool) or value is None:
        raise RowError(f"{label} is missing")
    elif isinstance(value, (int, float)):
        try:
            return dt.datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise RowError(f"{label} {_shown(value)} is out of range") from None
    else:
        s = str(value).strip()
        if not s:
            raise RowError(f"{label} is missing")
        if len(s) > _LONGEST_NUMBER:
            raise RowError(f"{label} {_shown(s)} is neither ISO 8601, YYYY-MM-DD HH:MM:SS nor Unix seconds")
        if not (s[:4].isdigit() and s[4:5] == "-") and _NUMBER.fullmatch(s):
            return _read_time(float(s), tz, label)
        try:
            when = dt.datetime.fromisoformat(s)
        except ValueError:
            raise RowError(
                f"{label} {s!r} is neither ISO 8601, YYYY-MM-DD HH:MM:SS nor Unix seconds") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    try:
        return when.astimezone(UTC)
    except (OverflowError, ValueError):
        raise RowError(f"{label} {_shown(str(value))} is out of range") from None


def horizon() -> dt.datetime:
    """The latest time a call may have: a day ahead of the clock."""
    return timezone.now() + AHEAD


def check_time(when: dt.datetime, label: str, value: Any = None, latest: dt.datetime | None = None
               ) -> dt.datetime:
    """`when` (aware) if it can be true: from 2020-01-01 to a day ahead of the clock.

    `latest` is that day ahead, for a reader that takes the clock once for all its rows.
    """
    try:
        early = when < EARLIEST
    except OverflowError:
        early = True
    if early:
        raise RowError(f"{label} {_shown(str(value if value is not None else when))} is before 2020-01-01")
    if when > (latest or horizon()):
        raise RowError(f"{label} {_shown(str(value if value is not None else when))} is more than "
                       f"a day ahead of the clock")
    return when


def parse_time(value: Any, tz: ZoneInfo, label: str = "time", latest: dt.datetime | None = None
               ) -> dt.datetime:
    """ISO 8601 (with offset, or naive in `tz`), `YYYY-MM-DD HH:MM:SS`, or Unix seconds -> UTC."""
    return check_time(_read_time(value, tz, label), label, value, latest)


# --- numbers -------------------------------------------------------------------------------

def _out_of_range(label: str, value: Any, low, high) -> RowError:
    return RowError(f"{label} {_shown(value)} does not fit: {low} to {high}")


def parse_int(value: Any, label: str, *, low: int = 0, high: int = INT_MAX) -> int | None:
    """An integer from `low` to `high`; None when absent or empty."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise RowError(f"{label} {value!r} is not an integer")
    if isinstance(value, int):
        n = value
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise RowError(f"{label} {value!r} is not a finite number")
        if not value.is_integer():
            raise RowError(f"{label} {value!r} is not an integer")
        n = int(value)
    else:
        s = value.strip() if isinstance(value, str) else str(value).strip()
        if not s:
            return None
        if len(s) > _LONGEST_NUMBER:
            raise RowError(f"{label} {_shown(s)} is not an integer that fits: {low} to {high}")
        try:
            n = int(s)
        except ValueError:
            try:
                d = Decimal(s)
            except InvalidOperation:
                raise RowError(f"{label} {s!r} is not an integer") from None
            if not d.is_finite():
                raise RowError(f"{label} {s!r} is not a finite number") from None
            if d != d.to_integral_value():
                raise RowError(f"{label} {s!r} is not an integer") from None
            if not low <= d <= high:
                raise _out_of_range(label, s, low, high) from None
            n = int(d)
    if not low <= n <= high:
        raise _out_of_range(label, n, low, high)
    return n


def parse_status(value: Any, label: str = "http_status") -> int | None:
    """An HTTP status: 0 (none) or 100 to 599."""
    n = parse_int(value, label, low=0, high=599)
    if n is not None and 0 < n < 100:
        raise RowError(f"{label} {n} is not an HTTP status (0 for none, or 100 to 599)")
    return n


def parse_seconds_ms(value: Any, label: str) -> int | None:
    """Seconds (`12`, `12.5`, `12s`) -> milliseconds, up to 2^31 - 1 ms."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise RowError(f"{label} {value!r} is not a number of seconds")
    text = str(value).strip().rstrip("s")
    if len(text) > _LONGEST_NUMBER:
        raise RowError(f"{label} {_shown(value)} is not a number of seconds that fits")
    try:
        seconds = Decimal(text)
    except InvalidOperation:
        raise RowError(f"{label} {value!r} is not a number of seconds") from None
    if not seconds.is_finite():
        raise RowError(f"{label} {value!r} is not a number of seconds")
    if not 0 <= seconds <= Decimal(INT_MAX) / 1000:
        raise _out_of_range(label, value, 0, f"{INT_MAX // 1000} seconds")
    return int(seconds * 1000)


def _decimal(value: Any, label: str, what: str) -> Decimal:
    """The number as written (`$0.05`, `＄0.05`, `1,000`: logs.money.parse_amount), finite."""
    if isinstance(value, str) and len(value.strip()) > _LONGEST_NUMBER:
        raise RowError(f"{label} {_shown(value)} is not {what} that fits")
    try:
        return read_amount(value)
    except ValueError:  # not a number, not finite, or an integer too long to read
        raise RowError(f"{label} {_shown(value)} is not {what}") from None


def _money(d: Decimal, label: str, value: Any) -> Decimal:
    if d < 0:
        raise RowError(f"{label} {_shown(value)} is negative")
    if d > MAX_AMOUNT:
        raise RowError(f"{label} {_shown(value)} is over US$1,000,000 a call")
    return d.quantize(SIX, rounding=ROUND_HALF_UP)


_PLAIN_DOLLARS = re.compile(r"\$[0-9]{1,7}(\.[0-9]{1,12})?")


def parse_amount(value: Any, label: str) -> Decimal | None:
    """US dollars (`$0.050000`, `＄0.05`, `0.05`) at 6 places, 0 to 1,000,000; None when empty."""
    if type(value) is str and _PLAIN_DOLLARS.fullmatch(value):  # the common case: what read_amount reads
        return _money(Decimal(value[1:]), label, value)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _money(_decimal(value, label, "a number"), label, value)


def parse_quota(value: Any, label: str) -> Decimal | None:
    """Gateway quota units (500,000 = US$1) -> US dollars, as `parse_amount`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    d = _decimal(value, label, "a quota number")
    if d < 0:
        raise RowError(f"{label} {_shown(value)} is negative")
    if d > MAX_AMOUNT * QUOTA_PER_USD:
        raise RowError(f"{label} {_shown(value)} is over US$1,000,000 a call")
    return _money(d / QUOTA_PER_USD, label, value)


def parse_ratio(value: Any, label: str = "group_ratio") -> Decimal | None:
    """A group ratio from 0 to 1,000, at 6 places; None when absent."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    d = _decimal(value, label, "a number")
    if not 0 <= d <= MAX_RATIO:
        raise _out_of_range(label, value, 0, MAX_RATIO)
    return d.quantize(SIX)


# --- what a record holds -------------------------------------------------------------------

# Counts that reach a call from a raw response (its usage block), not only from input fields.
_COUNTS = (("prompt_tokens", INT_MAX), ("output_tokens", INT_MAX), ("thoughts_tokens", INT_MAX),
           ("total_tokens", INT_MAX), ("image_tokens", INT_MAX), ("latency_ms", INT_MAX),
           ("images", SMALL_MAX), ("drafts", SMALL_MAX))


def check_counts(fields: dict) -> None:
    """Every count of a call fits its column; the HTTP status is one (0/none, or 100 to 599)."""
    for name, high in _COUNTS:
        n = fields.get(name)
        if n is not None and not (type(n) is int and 0 <= n <= high):
            raise _out_of_range(name, n, 0, high)
    status = fields.get("http_status")
    if status is not None and not (type(status) is int and (status == 0 or 100 <= status <= 599)):
        raise RowError(f"http_status {_shown(status)} is not an HTTP status (0 for none, or 100 to 599)")


def json_reject_constant(name: str):
    """`json.loads(parse_constant=...)`: NaN and Infinity are bad values, not numbers."""
    raise RowError(f"a number that is not finite ({name})")


def json_float(text: str) -> float:
    """`json.loads(parse_float=...)`: a float that overflows to infinity is a bad value."""
    value = float(text)
    if not math.isfinite(value):
        raise RowError(f"a number that is not finite ({_shown(text)})")
    return value


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def may_hold_surrogates(text: str, start: int = 0, end: int | None = None) -> bool:
    """Whether JSON text may hold a lone surrogate: a \\uD800-\\uDFFF escape, or one as it is."""
    part = text if (start == 0 and end is None) else text[start:end]
    if not part.isascii():
        try:
            part.encode("utf-8")
        except UnicodeEncodeError:
            return True
    return "\\u" in part and _SURROGATE_ESCAPE.search(part) is not None


def may_nest_deep(text: str, start: int = 0, end: int | None = None) -> bool:
    """Whether JSON text may nest deeper than MAX_DEPTH (it opens that many objects/arrays)."""
    end = len(text) if end is None else end
    return text.count("{", start, end) + text.count("[", start, end) > MAX_DEPTH


def check_json(obj: Any, *, depth: bool = True, strings: bool = True) -> None:
    """A parsed JSON value nests at most MAX_DEPTH levels and holds only valid Unicode."""
    stack = [(obj, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            if depth and level > MAX_DEPTH:
                raise RowError(f"JSON nested deeper than {MAX_DEPTH} levels")
            for key, value in item.items():
                if strings:
                    check_unicode(key, "a JSON key")
                stack.append((value, level + 1))
        elif isinstance(item, list):
            if depth and level > MAX_DEPTH:
                raise RowError(f"JSON nested deeper than {MAX_DEPTH} levels")
            stack.extend((value, level + 1) for value in item)
        elif strings and isinstance(item, str):
            check_unicode(item, "a JSON string")
