"""Reads of job rows: the jobs a user may see (every kind, for the Async Tasks page), and the
one status shape every job's status endpoint answers (ingest batches, exports, reconciliations,
tally computations).

Kinds of job are registered (`job_kind_register`): logs registers its exports and ingest
batches below, billing its reconciliations and tally computations from BillingConfig.ready, so
logs never imports billing. The Async Tasks page is one list over every kind, newest first
(`jobs_page`): each kind's table is read by keyset (at most a page and one row after the
cursor, newest first) and the few rows merged, so no kind needs a COUNT, an OFFSET or a
UNION over tables of different shapes, and a page's cursor (created_at, kind, id) is a total
order over all of them.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _, gettext_lazy

from logs.models import ExportJob, IngestBatch
from logs.models.jobs import JobStatus
from logs.pagination import BadCursor, Key
from logs.scoping import is_staff


def jobs_visible(user) -> QuerySet:
    """The export jobs a user may see: their own; staff, every one."""
    qs = ExportJob.objects.select_related("customer", "created_by")
    return qs if is_staff(user) else qs.filter(created_by=user)


def job_status(job, **extra) -> dict:
    """A job's state as its status endpoint answers it, and the poller (static/js/poll.js) reads:
    the code, its label and badge, whether it is still active, progress, the error of a failed
    job; `extra`: what the kind adds (an export's file name, size and download address)."""
    return {
        "id": job.pk,
        "status": job.status,
        "status_label": job.get_status_display(),
        "badge": JobStatus.badge(job.status),
        "active": JobStatus.is_active(job.status),
        "finished": not JobStatus.is_active(job.status),
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "percent": job.percent,
        "error": job.error if job.status == JobStatus.FAILED else "",
        **extra,
    }


# --- every kind of job, for the Async Tasks page ---------------------------------------------

@dataclass(frozen=True)
class JobKind:
    """A kind of long job a user starts, as the Async Tasks page lists it.

    - visible(user) -> the rows of this kind the user may see (scoped as on the kind's own page);
    - title(job) -> what it is, in words; detail(job) -> the line beneath (customer, days, ...);
    - url(job) -> its own page (None: the row is the page, as for exports);
    - status_url(job) -> its status endpoint (the one job status shape, for poll.js);
    - unit: what its progress counts ("rows", "customers");
    - actions: a template of its actions (None: a link to its page);
    - staff_only: only staff have jobs of this kind.
    """

    name: str
    label: str  # may be lazy (gettext_lazy): shown in the reader's language
    visible: Callable[..., QuerySet]
    title: Callable[..., str]
    detail: Callable[..., str]
    status_url: Callable[..., str]
    url: Callable[..., str | None] = lambda job: None
    unit: str = "rows"
    actions: str | None = None
    row_id: Callable[..., str] | None = None
    staff_only: bool = False  # a customer's users have none (the page offers them no such filter)


JOB_KINDS: dict[str, JobKind] = {}


def job_kind_register(kind: JobKind) -> None:
    """Add (or replace) a kind of job on the Async Tasks page."""
    JOB_KINDS[kind.name] = kind


class JobsPage:
    """One page of the Async Tasks list: rows (job instances, each with `job_kind`), newest first,
    and the cursors of the pages either side (None: none there)."""

    def __init__(self, rows: list, *, next_cursor: str | None, prev_cursor: str | None, is_first: bool,
                 per_page: int):
        self.rows, self.next_cursor, self.prev_cursor = rows, next_cursor, prev_cursor
        self.is_first, self.per_page = is_first, per_page
        self.has_next, self.has_previous = next_cursor is not None, prev_cursor is not None

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)


def _beyond(kind: str, key: Key | None, *, forward: bool) -> Q:
    """The rows of `kind` after (forward) or before the cursor, in the list's order
    (created_at desc, kind asc, id desc)."""
    if key is None:
        return Q()
    created, cursor_kind, pk = key
    if forward:
        if kind == cursor_kind:
            return Q(created_at__lt=created) | Q(created_at=created, id__lt=pk)
        return Q(created_at__lte=created) if kind > cursor_kind else Q(created_at__lt=created)
    if kind == cursor_kind:
        return Q(created_at__gt=created) | Q(created_at=created, id__gt=pk)
    return Q(created_at__gte=created) if kind < cursor_kind else Q(created_at__gt=created)


def _cursor(text: str | None) -> Key | None:
    if not text:
        return None
    key = Key.decode(text, size=3)
    if not isinstance(key[1], str) or not isinstance(key[2], int) or not hasattr(key[0], "tzinfo"):
        raise BadCursor("not a page cursor of this list")
    return key


def _order_key(job):
    return (-job.created_at.timestamp(), job.job_kind.name, -job.pk)


def jobs_page(user, *, kinds: Iterable[str] | None = None, per_page: int = 50,
              after: str | None = None, before: str | None = None) -> JobsPage:
    """The jobs of every kind (or of `kinds`) the user may see, newest first, `per_page` at a
    time after the cursor `after` (or before `before`), from another page's cursors (BadCursor
    if not one). Each kind's rows are read by keyset (a page and one row at most), then merged."""
    forward = not before
    key = _cursor(after) if forward else _cursor(before)
    names = sorted(k for k in (kinds or JOB_KINDS) if k in JOB_KINDS)
    order = ("-created_at", "-id") if forward else ("created_at", "id")
    found = []
    for name in names:
        spec = JOB_KINDS[name]
        rows = list(spec.visible(user).filter(_beyond(name, key, forward=forward)).order_by(*order)[: per_page + 1])
        for job in rows:
            job.job_kind = spec
        found.append(rows if forward else rows[::-1])
    merged = sorted((j for rows in found for j in rows), key=_order_key)  # at most kinds x (page + 1) rows
    if forward:
        more, rows = len(merged) > per_page, merged[:per_page]
        beyond_next, beyond_prev = more, key is not None
    else:
        more, rows = len(merged) > per_page, merged[-per_page:]
        beyond_next, beyond_prev = True, more

    def cursor_of(job):
        return Key(job.created_at, job.job_kind.name, job.pk).encode()

    return JobsPage(rows, next_cursor=cursor_of(rows[-1]) if rows and beyond_next else None,
                    prev_cursor=cursor_of(rows[0]) if rows and beyond_prev else None,
                    is_first=key is None or (not forward and not more), per_page=per_page)


# The kinds logs has: exports, and ingest batches a person uploaded (not the API's pushes nor the
# gateway syncs: no one waits on those, and they would bury the rest).

def _export_detail(job) -> str:
    # The export's filters, worded as the export pages word them.
    from logs.tables.exports import _filters_text

    who = job.customer.display_name if job.customer_id else _("all customers")
    extra = _filters_text(job)
    if job.date_from is None and job.date_to is None:
        days = _("any time")
    else:
        days = _("%(from)s to %(to)s") % {"from": job.date_from or "…", "to": job.date_to or "…"}
    return " · ".join(x for x in (who, days, extra, job.get_format_display()) if x)


def _ingest_visible(user) -> QuerySet:
    qs = IngestBatch.objects.select_related("customer", "created_by").filter(origin="upload")
    return qs if is_staff(user) else qs.none()  # uploads and their pages are staff's


job_kind_register(JobKind(
    name="export", label=gettext_lazy("Export"), visible=jobs_visible,
    title=lambda job: job.filename, detail=_export_detail,
    status_url=lambda job: reverse("logs:task_status", args=[job.pk]),
    actions="tasks/_job_actions.html", row_id=lambda job: f"job-{job.pk}"))
job_kind_register(JobKind(
    name="ingest", label=gettext_lazy("Ingest"), visible=_ingest_visible,
    title=lambda job: job.filename or job.origin,
    detail=lambda job: " · ".join(x for x in [job.customer.slug if job.customer_id else _("customer from the data"),
                                              job.get_source_display() if job.source else job.declared_format]),
    status_url=lambda job: reverse("logs:ingest_batch_status", args=[job.pk]),
    url=lambda job: reverse("logs:ingest_batch", args=[job.pk]), staff_only=True))
