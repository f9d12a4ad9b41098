"""Kinds of export: the built-in export of calls, and those other apps register (billing's
"tally" and "reconciliation", from BillingConfig.ready, so logs never imports billing)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_noop

from logs.models import Call, Customer, ExportJob
from logs.scoping import scope_calls
from logs.selectors.calls import calls_filter
from logs.timeutil import billing_tz


@dataclass(frozen=True)
class ExportKind:
    """A kind of export other apps add without logs knowing them.

    Two shapes, both written by the one writer (logs.services.exports.writer):
    - a kind of calls (`rows` empty): which calls, extra text columns after the call columns
      (`columns`: (header, width)), Summary lines;
    - a kind of rows (`rows` given): a sheet of its own rows (`columns`: (header, width, type),
      type one of text, int, money, time, day, bool; `sheet`: the sheet's name), Summary lines.

    Each callable takes keyword arguments only:
    - clean(filters, user, customer) -> the job's filters (JSON); raises ValidationError or
      PermissionDenied. `customer` is the job's customer (a customer's user: always its own).
    - calls(job, calls) -> the job's calls, narrowed from `calls` (already scoped to the job's
      owner and customer).
    - values(job, rows) -> {call id: tuple of the extra columns' values}, for one batch of rows
      (each row starts with created_at, id).
    - rows(job, batch) -> pages (lists) of at most `batch` tuples, one value per column.
    - count(job) -> the number of rows, when a kind of rows knows it (progress).
    - summary(job) -> [(label, value, ...)] lines for the Summary sheet (() for a blank line).
    - filename(customer, date_from, date_to, filters) -> the file's name.
    """

    title: str
    clean: Callable[..., dict]
    calls: Callable[..., object] | None = None
    columns: Sequence[tuple] = ()
    values: Callable[..., dict] | None = None
    summary: Callable[..., list] | None = None
    filename: Callable[..., str] | None = None
    rows: Callable[..., object] | None = None
    count: Callable[..., int | None] | None = None
    sheet: str = gettext_noop("Calls")  # translated by the writer


EXPORT_KINDS: dict[str, ExportKind] = {}


def export_kind_register(*, name: str, kind: ExportKind) -> None:
    """Add (or replace) a kind of export; "calls" is the built-in one."""
    if name == "calls":
        raise ValueError('"calls" is the built-in export kind')
    if (kind.rows is None) == (kind.calls is None):
        raise ValueError(f"export kind {name!r}: give either calls or rows")
    EXPORT_KINDS[name] = kind


def export_kind(name: str) -> ExportKind | None:
    """The registered kind (None for the built-in "calls"); an unknown one is a ValidationError."""
    if not name or name == "calls":
        return None
    try:
        return EXPORT_KINDS[name]
    except KeyError:
        raise ValidationError(gettext("unknown kind of export %(name)r") % {"name": name}) from None


def export_queryset(*, job: ExportJob):
    """The calls of a job: scoped to its customer (and to what its owner may see), filtered
    (a registered kind narrows the scoped calls itself)."""
    if job.created_by_id:
        qs = scope_calls(job.created_by, job.customer)
        if job.customer_id:  # a job naming a customer its owner may not see gets nothing
            qs = qs.filter(customer_id=job.customer_id)
    elif job.customer_id:
        qs = Call.objects.filter(customer_id=job.customer_id)
    else:
        qs = Call.objects.all()
    kind = export_kind(job.kind)
    if kind is not None:
        return kind.calls(job=job, calls=qs)
    f = job.filters or {}
    return calls_filter(
        qs,
        date_from=job.date_from,
        date_to=job.date_to,
        model=f.get("model") or None,
        categories=f.get("category") or None,
        failed=bool(f.get("failed")),
        token_name=f.get("token_name") or None,
        http_status=f.get("http_status"),
        request_id=f.get("request_id") or None,
        channel_id=f.get("channel"),
        tz=job_tz(job),
    )


def export_filename(*, customer: Customer | None, date_from: dt.date | None, date_to: dt.date | None) -> str:
    who = customer.slug if customer is not None else "all"
    if date_from is None and date_to is None:
        return f"nbaudit-{who}-all-time.xlsx"
    first = date_from.isoformat() if date_from else "start"
    last = date_to.isoformat() if date_to else "now"
    return f"nbaudit-{who}-{first}-{last}.xlsx"


def job_tz(job):
    """The zone an export job's days are cut in: the user's when it was made, else the billing zone."""
    try:
        return ZoneInfo(job.tz) if getattr(job, "tz", "") else billing_tz()
    except (ZoneInfoNotFoundError, ValueError):
        return billing_tz()
