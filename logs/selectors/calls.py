"""Reads of calls. Filters are shared by the Logs page, the read API and exports.

Their parameters are parsed once, by `logs.filters`; these functions only narrow querysets.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Q, QuerySet

from logs.choices import Category, Family
from logs.timeutil import billing_tz, day_start

# Never loaded for a list of calls (page, API): they can be large.
LIST_DEFER = ("response", "prompt", "error_text", "finish_message", "prompt_fingerprint")


def days_model_key_filter(
    qs: QuerySet,
    *,
    time_field: str,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    model: str | None = None,
    token_name: str | None = None,
    tz=None,
) -> QuerySet:
    """The narrowing calls and hourly rollups share: whole days in `tz` (default: the billing
    zone, both ends included) over `time_field`, a family code or an exact model name, an API key."""
    tz = tz or billing_tz()
    if date_from:
        qs = qs.filter(**{f"{time_field}__gte": day_start(date_from, tz)})
    if date_to:
        qs = qs.filter(**{f"{time_field}__lt": day_start(date_to + dt.timedelta(days=1), tz)})
    if model:
        qs = qs.filter(family=model) if model in Family.values else qs.filter(model=model)
    if token_name:
        qs = qs.filter(token_name=token_name)
    return qs


# Above every character: a prefix followed by anything sorts below prefix + this (in code-point
# order: the C collation of the PostgreSQL database, SQLite's binary one).
PREFIX_END = chr(0x10FFFF)


def request_id_prefix(qs: QuerySet, prefix: str) -> QuerySet:
    """The calls whose request ID starts with `prefix` (a whole ID finds its call).

    Through the key table (`CallKey`, primary key (request_id, customer_id)): the call table
    has no index on request_id, since each one costs every ingested row. A range,
    request_id >= prefix AND request_id < prefix + U+10FFFF, walks that key from the prefix on
    (LIKE could not use it under a non-C collation); the LIKE kept beside it only re-checks the
    keys the range found.
    """
    from logs.models import CallKey

    keys = CallKey.objects.filter(request_id__gte=prefix, request_id__lt=prefix + PREFIX_END,
                                  request_id__startswith=prefix)
    return qs.filter(pk__in=keys.values("call_id"))


def calls_with_request_id(qs: QuerySet, request_id: str) -> QuerySet:
    """The calls whose request ID is exactly `request_id` (one per customer at most), through
    the key table's primary key."""
    from logs.models import CallKey

    return qs.filter(pk__in=CallKey.objects.filter(request_id=request_id).values("call_id"))


def calls_filter(
    qs: QuerySet,
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    time_from: dt.datetime | None = None,
    time_to: dt.datetime | None = None,
    model: str | None = None,
    categories: Iterable[str] | None = None,
    failed: bool = False,
    token_name: str | None = None,
    http_status: int | None = None,
    request_id: str | None = None,
    channel_id: int | None = None,
    tz=None,
) -> QuerySet:
    """Narrow a (customer-scoped) call queryset.

    Dates are whole days in `tz` (default: the billing zone), both ends included; times
    are instants, `time_to` excluded. `model` is a family code or an exact model name;
    `request_id` a prefix of request IDs (`request_id_prefix`).
    """
    qs = days_model_key_filter(qs, time_field="created_at", date_from=date_from, date_to=date_to,
                               model=model, token_name=token_name, tz=tz)
    if time_from:
        qs = qs.filter(created_at__gte=time_from)
    if time_to:
        qs = qs.filter(created_at__lt=time_to)
    cats = [c for c in (categories or []) if c]
    if cats:
        qs = qs.filter(category__in=cats)
    # Failures only, said outright where the categories asked for are all failures: the category
    # index holds failures only (docs/scaling.md), and the planner proves that from this.
    if failed or (cats and Category.SUCCESS not in cats):
        qs = qs.filter(~Q(category=Category.SUCCESS))
    if http_status is not None:
        qs = qs.filter(http_status=http_status)
    if request_id:
        qs = request_id_prefix(qs, request_id)
    if channel_id is not None:
        qs = qs.filter(channel_id=channel_id)
    return qs
