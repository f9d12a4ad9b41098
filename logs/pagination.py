"""Keyset paging: no OFFSET, no COUNT(*). The one implementation every list uses.

A list has an order: fields, each ascending or descending ("-created_at", "-id"), the last
one unique (the primary key breaks ties). A page continues after (or, going back, before)
the last seen tuple of those values; with an index ordered the same way any page, however
deep, is one index seek. The fields must not be NULL. A cursor is opaque to users: the
tuple, each value tagged with its type, base64url.

`keyset_page` gives one page (newest first by default: calls); `keyset_batches` walks a
whole queryset in batches (the exports writer).
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import DateTimeField, Q, QuerySet

from logs.timeutil import UTC

EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
AFTER, BEFORE = "after", "before"
NEWEST_FIRST = ("-created_at", "-id")
SEP = "\x1f"


class BadCursor(ValueError):
    """A cursor that was not made here (edited, truncated)."""


def _encode_value(value) -> str:
    if isinstance(value, dt.datetime):
        return "t" + str((value - EPOCH) // dt.timedelta(microseconds=1))
    if isinstance(value, dt.date):
        return "d" + value.isoformat()
    if isinstance(value, bool):
        return "b" + str(int(value))
    if isinstance(value, int):
        return "i" + str(value)
    return "s" + str(value)


def _decode_value(text: str):
    tag, raw = text[:1], text[1:]
    if tag == "t":
        return EPOCH + dt.timedelta(microseconds=int(raw))
    if tag == "d":
        return dt.date.fromisoformat(raw)
    if tag == "b":
        return raw == "1"
    if tag == "i":
        return int(raw)
    if tag == "s":
        return raw
    raise ValueError(tag)


def _attr(obj, name: str):
    for part in name.split("__"):
        obj = getattr(obj, part)
    return obj


class Key(tuple):
    """The values of a row's order fields; `Key(created_at, id)` for the default order."""

    def __new__(cls, *values):
        return super().__new__(cls, values)

    @property
    def created_at(self):
        return self[0]

    @property
    def id(self):
        return self[-1]

    def encode(self) -> str:
        raw = SEP.join(_encode_value(v) for v in self)
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, size: int | None = None) -> Key:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("utf-8")
            values = [_decode_value(part) for part in raw.split(SEP)]
        except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError):
            raise BadCursor(f"not a page cursor: {text[:40]!r}") from None
        if size is not None and len(values) != size:
            raise BadCursor(f"not a page cursor of this list: {text[:40]!r}")
        return cls(*values)

    @classmethod
    def of(cls, obj, order: Sequence[str] = NEWEST_FIRST) -> Key:
        return cls(*(_attr(obj, name.lstrip("-")) for name in order))


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


def _fields(order: Sequence[str]) -> list[tuple[str, bool]]:
    return [(name.lstrip("-"), name.startswith("-")) for name in order]


def _beyond(order: Sequence[str], key: Key, *, forward: bool) -> Q:
    """Rows strictly beyond `key` in `order` (forward) or strictly before it (not forward).

    A lexicographic comparison, with a redundant bound on the first field (`created_at <= t`)
    that lets the planner seek the index that matches the order.
    """
    fields = _fields(order)
    strict = Q(pk__in=[])
    for i in range(len(fields) - 1, -1, -1):
        name, desc = fields[i]
        op = "lt" if desc == forward else "gt"
        term = Q(**{f"{name}__{op}": key[i]})
        if i < len(fields) - 1:
            term |= Q(**{name: key[i]}) & strict
        strict = term
    name, desc = fields[0]
    return Q(**{f"{name}__{'lte' if desc == forward else 'gte'}": key[0]}) & strict


def _reversed(order: Sequence[str]) -> list[str]:
    return [name[1:] if name.startswith("-") else "-" + name for name in order]


def _model_field(model, name: str):
    *path, last = name.split("__")
    for part in path:
        model = model._meta.get_field(part).related_model
    return model._meta.get_field("id" if last == "pk" else last)


def _key(value, order, model) -> Key | None:
    """A cursor (text or Key) as a Key of `order`'s fields, each value of its field's type."""
    if isinstance(value, str):
        value = Key.decode(value, size=len(order)) if value else None
    if value is None:
        return None
    if len(value) != len(order):
        raise BadCursor("not a page cursor of this list")
    values = []
    for name, v in zip(order, value):
        field = _model_field(model, name.lstrip("-"))
        try:
            naive = isinstance(field, DateTimeField) and not isinstance(v, dt.datetime)
            typed = None if naive else field.to_python(v)
        except (ValidationError, TypeError, ValueError):
            typed = None
        if typed is None or type(typed) is not type(v):  # a date for a time, a text for a number
            raise BadCursor("not a page cursor of this list")
        values.append(typed)
    return Key(*values)


def keyset_page(qs: QuerySet, *, per_page: int = 50, after: str | Key | None = None,
                before: str | Key | None = None, order: Sequence[str] = NEWEST_FIRST) -> KeysetPage:
    """One page of `qs` in `order` (default newest first), after or before a cursor.

    "After" is further down the list (older, for newest first); "before" is back up it.
    Raises BadCursor for a cursor that does not decode.
    """
    order = tuple(order)
    after, before = _key(after, order, qs.model), _key(before, order, qs.model)
    qs = qs.order_by()
    if before is not None:
        rows = list(qs.filter(_beyond(order, before, forward=False)).order_by(*_reversed(order))[: per_page + 1])
        more_up = len(rows) > per_page
        rows = list(reversed(rows[:per_page]))
        if not rows:  # nothing above: show the first page
            return keyset_page(qs, per_page=per_page, order=order)
        page = KeysetPage(rows=rows, per_page=per_page, is_first=not more_up)
        page.prev_key = Key.of(rows[0], order) if more_up else None
        # We came from a page further down, so there is one; check it still exists (one seek).
        last = Key.of(rows[-1], order)
        page.next_key = last if qs.filter(_beyond(order, last, forward=True)).exists() else None
        return page
    base = qs.filter(_beyond(order, after, forward=True)) if after is not None else qs
    rows = list(base.order_by(*order)[: per_page + 1])
    more_down = len(rows) > per_page
    rows = rows[:per_page]
    page = KeysetPage(rows=rows, per_page=per_page, is_first=after is None)
    page.next_key = Key.of(rows[-1], order) if more_down and rows else None
    if after is not None and rows:
        first = Key.of(rows[0], order)
        page.prev_key = first if qs.filter(_beyond(order, first, forward=False)).exists() else None
        page.is_first = page.prev_key is None
    elif after is not None:
        # Past the end (rows gone since): offer the way back.
        page.prev_key = after if qs.filter(_beyond(order, after, forward=False)).exists() else None
        page.is_first = page.prev_key is None
    return page


def keyset_batches(qs: QuerySet, fields: Sequence[str], batch: int, *,
                   key: Sequence[str] = ("created_at", "id")) -> Iterator[list[tuple]]:
    """Every row of `qs` as value tuples of `fields`, in ascending `key` order, `batch` rows a
    query, each continuing after the last row seen (no OFFSET). Yields lists of rows. The key's
    fields must come first in `fields`, in the key's order; the key must be unique."""
    key = tuple(key)
    if tuple(fields[: len(key)]) != key:
        raise ValueError(f"keyset_batches: fields must start with the key {key}")
    ordered = qs.order_by(*key).values_list(*fields)
    last = None
    while True:
        page = ordered if last is None else ordered.filter(_beyond(key, last, forward=True))
        rows = list(page[:batch])
        if not rows:
            return
        yield rows
        if len(rows) < batch:
            return
        last = Key(*rows[-1][: len(key)])
