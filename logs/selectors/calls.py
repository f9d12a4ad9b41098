"""Reads of calls. Filters are shared by the Logs page, the read API and exports."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Q, QuerySet

from logs.choices import Category, Family
from logs.timeutil import billing_tz, day_start


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
    are instants, `time_to` excluded. `model` is a family code or an exact model name.
    """
    tz = tz or billing_tz()
    if date_from:
        qs = qs.filter(created_at__gte=day_start(date_from, tz))
    if date_to:
        qs = qs.filter(created_at__lt=day_start(date_to + dt.timedelta(days=1), tz))
    if time_from:
        qs = qs.filter(created_at__gte=time_from)
    if time_to:
        qs = qs.filter(created_at__lt=time_to)
    if model:
        qs = qs.filter(family=model) if model in Family.values else qs.filter(model=model)
    cats = [c for c in (categories or []) if c]
    if cats:
        qs = qs.filter(category__in=cats)
    if failed:
        qs = qs.filter(~Q(category=Category.SUCCESS))
    if token_name:
        qs = qs.filter(token_name=token_name)
    if http_status is not None:
        qs = qs.filter(http_status=http_status)
    if request_id:
        qs = qs.filter(request_id=request_id)
    if channel_id is not None:
        qs = qs.filter(channel_id=channel_id)
    return qs
