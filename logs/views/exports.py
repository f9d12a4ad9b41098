"""Exports and the Async Tasks page: thin views over logs.services.exports."""
from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from logs.forms.exports import ExportForm
from logs.models import ExportFormat, ExportJob
from logs.models.jobs import JobStatus
from logs.pagination import BadCursor
from logs.scoping import current_customer, is_staff
from logs.selectors.jobs import JOB_KINDS, job_status, jobs_page, jobs_visible
from logs.services.exports import export_cancel, export_create, export_path, export_retry
from logs.tables.jobs import JobTable
from logs.views.base import NEWEST_LABELS, _per_page as per_page_of, page_url

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
PER_PAGE = 50
RETRY_AFTER_SECONDS = 5


def _job_or_404(request, pk) -> ExportJob:
    return get_object_or_404(jobs_visible(request.user), pk=pk)


@require_http_methods(["GET", "POST"])
def export_new(request):
    """The export dialog, as a page (GET) and its submission (POST, from the Logs page too)."""
    customer = current_customer(request)
    params = request.POST if request.method == "POST" else request.GET
    # One rule with the Logs page: days (and "Today") in the user's zone.
    tz = getattr(request, "tz", None)
    today = timezone.localdate(timezone=tz) if tz else None
    form = ExportForm(request.POST, today=today) if request.method == "POST" else None
    if form is not None and form.is_valid():
        data = form.cleaned_data
        try:
            job = export_create(user=request.user, customer=customer, date_from=data["first"],
                                date_to=data["last"], filters=data["filters"], notify=data.get("notify", False),
                                fmt=data["format"], tz=getattr(tz, "key", "") if tz else "")
        except (ValidationError, PermissionDenied) as exc:
            form.add_error(None, "; ".join(getattr(exc, "messages", [str(exc)])))
        else:
            if job.existing:
                messages.info(request, _("The same export is already %(status)s: %(file)s (#%(id)s). It is "
                                         "listed below; no second one was started.") % {
                    "status": job.get_status_display().lower(), "file": job.filename, "id": job.pk})
            else:
                messages.success(request, _("Export queued: %(file)s. It is listed below; "
                                            "download it here when it is done.") % {"file": job.filename})
            return redirect(f"{reverse('logs:tasks')}#job-{job.pk}")
    status = 400 if form is not None else 200
    return render(request, "tasks/export_new.html",
                  {"form": form, "params": params, "customer": customer}, status=status)


@require_GET
def tasks(request):
    """The Async Tasks page: every long job the user started (staff: everyone's), of every kind
    (exports, tally computations, reconciliations, uploads), newest first, by keyset; `kind`
    narrows it to one kind."""
    kind = request.GET.get("kind") or None
    kinds = [kind] if kind in JOB_KINDS else None
    per_page = per_page_of(request, PER_PAGE)
    try:
        page = jobs_page(request.user, kinds=kinds, per_page=per_page, after=request.GET.get("after"),
                         before=request.GET.get("before"))
    except BadCursor:
        messages.warning(request, _("That page link was not valid; showing the first page."))
        page = jobs_page(request.user, kinds=kinds, per_page=per_page)
    staff = is_staff(request.user)
    shown = [k for k in sorted(JOB_KINDS.values(), key=lambda k: k.label) if staff or not k.staff_only]
    return render(request, "tasks/tasks.html", {
        "table": JobTable(page.rows, show_owner=staff, request=request), "page": page,
        "first_url": page_url(request) if not page.is_first else None,
        "next_url": page_url(request, after=page.next_cursor) if page.has_next else None,
        "prev_url": page_url(request, before=page.prev_cursor) if page.has_previous else None,
        "noun": _("task"), "nouns": _("tasks"), "pager_labels": NEWEST_LABELS, "per_page": per_page,
        "kinds": shown, "kind": kinds[0] if kinds else "",
        "ttl_days": settings.NBAUDIT_EXPORT_TTL_DAYS})


def job_state(job: ExportJob) -> dict:
    """An export's status: the one job status shape, with its file."""
    done = job.status == JobStatus.DONE
    return job_status(job, filename=job.filename, size=job.size,
                      download_url=reverse("logs:task_download", args=[job.pk]) if done else None)


@require_GET
def task_status(request, pk):
    job = _job_or_404(request, pk)
    return JsonResponse(job_state(job))


@require_GET
def task_download(request, pk):
    job = _job_or_404(request, pk)
    if JobStatus.is_active(job.status):
        resp = HttpResponse(_("The export is %(status)s: %(n)s rows written so far. Try again shortly.") % {
                            "status": job.get_status_display().lower(), "n": f"{job.rows_done:,}"},
                            status=409, content_type="text/plain; charset=utf-8")
        resp["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return resp
    if job.status == JobStatus.EXPIRED:
        return HttpResponse(_("This export has expired and its file was deleted; retry it to make a new one."),
                            status=410, content_type="text/plain; charset=utf-8")
    if job.status != JobStatus.DONE:
        return HttpResponse(_("This export has no file: it %(status)s.") % {"status": job.get_status_display().lower()}
                            + (" " + job.error if job.error else ""),
                            status=409, content_type="text/plain; charset=utf-8")
    path = export_path(job)
    try:
        handle = open(path, "rb")  # noqa: SIM115  (FileResponse closes it)
    except (OSError, TypeError):
        return HttpResponse(_("The file of this export is gone; retry it to make a new one."),
                            status=410, content_type="text/plain; charset=utf-8")
    return FileResponse(handle, as_attachment=True, filename=job.filename,
                        content_type=CSV if job.format == ExportFormat.CSV else XLSX)


@require_POST
def task_retry(request, pk):
    job = _job_or_404(request, pk)
    if export_retry(job=job):
        messages.success(request, _("Export #%(n)s queued again.") % {"n": job.pk})
    else:
        messages.error(request, _("Export #%(n)s is %(status)s: nothing to retry.") % {
            "n": job.pk, "status": job.get_status_display().lower()})
    return redirect(f"{reverse('logs:tasks')}#job-{job.pk}")


@require_POST
def task_cancel(request, pk):
    job = _job_or_404(request, pk)
    if export_cancel(job=job):
        messages.success(request, _("Export #%(n)s cancelled.") % {"n": job.pk})
    else:
        messages.error(request, _("Export #%(n)s is %(status)s: it cannot be cancelled.") % {
            "n": job.pk, "status": job.get_status_display().lower()})
    return redirect(f"{reverse('logs:tasks')}#job-{job.pk}")
