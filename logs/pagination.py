"""Keyset paging over (created_at, id), newest first: no OFFSET, no COUNT(*).

A page continues after (or, going back, before) the last seen (created_at, id) pair; the
indexes of `logs.models.Call` are ordered the same way, so any page, however deep, is one
index seek. A cursor is opaque to users: `<microseconds since epoch>.<id>`, base64url.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from logs.timeutil import UTC

EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
AFTER, BEFORE = "after", "before"


class BadCursor(ValueError):
    """A cursor that was not made here (edited, truncated)."""


@dataclass(frozen=True)
class Key:
    created_at: dt.datetime
    id: int

    def encode(self) -> str:
        micros = (self.created_at - EPOCH) // dt.timedelta(microseconds=1)
        return base64.urlsafe_b64encode(f"{micros}.{self.id}".encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> "Key":
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
            micros, _, pk = raw.partition(".")
            return cls(EPOCH + dt.timedelta(microseconds=int(micros)), int(pk))
        except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError):
            raise BadCursor(f"not a page cursor: {text[:40]!r}") from None

    @classmethod
    def of(cls, obj) -> "Key":
        return cls(obj.created_at, obj.pk)


@dataclass
class KeysetPage:
    rows: list
    next_key: Key | None = None
    prev_key: Key | None = None
    is_first: bool = True
    per_page: int = 50
    extra: dict = field(default_factory=dict)

    @property
    def has_next(self) -> bool:
        return self.next_key is not None

    @property
    def has_previous(self) -> bool:
        return self.prev_key is not None

    @property
    def next_cursor(self) -> str | None:
        return self.next_key.encode() if self.next_key else None

    @property
    def prev_cursor(self) -> str | None:
        return self.prev_key.encode() if self.prev_key else None

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)


def _older_than(key: Key) -> Q:
    # The redundant `created_at <= t` bound lets the planner seek the (…, created_at, id) index.
    return Q(created_at__lte=key.created_at) & (
        Q(created_at__lt=key.created_at) | Q(created_at=key.created_at, id__lt=key.id)
    )


def _newer_than(key: Key) -> Q:
    return Q(created_at__gte=key.created_at) & (
        Q(created_at__gt=key.created_at) | Q(created_at=key.created_at, id__gt=key.id)
    )


def keyset_page(qs: QuerySet, *, per_page: int = 50, after: str | Key | None = None,
                before: str | Key | None = None) -> KeysetPage:
    """One page of `qs`, newest first, after (older than) or before (newer than) a cursor.

    Raises BadCursor for a cursor that does not decode.
    """
    if isinstance(after, str):
        after = Key.decode(after) if after else None
    if isinstance(before, str):
        before = Key.decode(before) if before else None
    qs = qs.order_by()
    if before is not None:
        rows = list(qs.filter(_newer_than(before)).order_by("created_at", "id")[: per_page + 1])
        more_newer = len(rows) > per_page
        rows = list(reversed(rows[:per_page]))
        if not rows:  # nothing newer: show the first page
            return keyset_page(qs, per_page=per_page)
        page = KeysetPage(rows=rows, per_page=per_page, is_first=not more_newer)
        page.prev_key = Key.of(rows[0]) if more_newer else None
        # We came from an older page, so there is one; check it still exists (one seek).
        last = Key.of(rows[-1])
        page.next_key = last if qs.filter(_older_than(last)).exists() else None
        return page
    base = qs.filter(_older_than(after)) if after is not None else qs
    rows = list(base.order_by("-created_at", "-id")[: per_page + 1])
    more_older = len(rows) > per_page
    rows = rows[:per_page]
    page = KeysetPage(rows=rows, per_page=per_page, is_first=after is None)
    page.next_key = Key.of(rows[-1]) if more_older and rows else None
    if after is not None and rows:
        first = Key.of(rows[0])
        page.prev_key = first if qs.filter(_newer_than(first)).exists() else None
        page.is_first = page.prev_key is None
    elif after is not None:
        # Past the end (rows gone since): offer the way back.
        page.prev_key = after if qs.filter(_newer_than(after)).exists() else None
        page.is_first = page.prev_key is None
    return page
