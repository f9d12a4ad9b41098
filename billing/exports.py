"""The "tally" kind of export: a tally's covered calls with their tally status and reason.

Registered with logs' export service in BillingConfig.ready, so logs never imports billing:
the job is an ordinary ExportJob (kind "tally", filters {"tally": id}) listed on the Async
Tasks page and written by the same task and writer as any export of calls.
"""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError

from billing.choices import TallyCallStatus
from billing.models import Tally, TallyCall
from billing.services.tally import REPEATED_REASON
from logs.services.exports import ExportKind, export_kind_register

KIND = "tally"


def _tally(filters) -> Tally | None:
    try:
        pk = int(filters.get("tally"))
    except (TypeError, ValueError):
        return None
    return Tally.objects.select_related("customer").filter(pk=pk).first()


def _clean(*, filters, user, customer) -> dict:
    tally = _tally(filters)
    # The job's customer is the tally's: a customer's user has its own customer forced by the
    # export service, so another customer's tally is refused here.
    if tally is None or customer is None or tally.customer_id != customer.pk:
        raise ValidationError("No such tally for this customer.")
    return {"tally": tally.pk}


def _calls(*, job, calls):
    covered = TallyCall.objects.filter(tally_id=job.filters["tally"], call_id__isnull=False).values("call_id")
    return calls.filter(pk__in=covered)


def _values(*, job, rows) -> dict:
    """{call id: (tally status, reason)} for one page of rows (created_at, id, ...): bounded by the
    page's times, so the look-up walks the (tally, created_at, id) index. The reason reads as on
    the tally page (a call excluded as repeated stores none: its status says it)."""
    ids = [row[1] for row in rows]
    found = TallyCall.objects.filter(
        tally_id=job.filters["tally"], created_at__gte=rows[0][0], created_at__lte=rows[-1][0], call_id__in=ids,
    ).values_list("call_id", "status", "reason")
    repeated = REPEATED_REASON.format(limit=settings.NBAUDIT_PLAN_REPEAT_LIMIT)
    return {call_id: (status, reason or (repeated if status == TallyCallStatus.REPEATED else ""))
            for call_id, status, reason in found}


def _summary(*, job) -> list:
    tally = Tally.objects.filter(pk=job.filters["tally"]).first()
    if tally is None:
        return [("Tally", "deleted")]
    return [
        ("Tally", f"{job.customer.slug if job.customer_id else tally.customer_id} {tally.month:%Y-%m}"),
        ("Tally status", tally.status),
        ("Covered failed calls", tally.failed_calls),
        ("Counted calls", tally.counted_calls),
        ("Credit (USD)", tally.credit_usd),
    ]


def _filename(*, customer, date_from, date_to, filters) -> str:
    who = customer.slug if customer is not None else "all"
    return f"nbaudit-{who}-tally-{date_from:%Y-%m}-calls.xlsx"


def register() -> None:
    export_kind_register(name=KIND, kind=ExportKind(
        title="nbaudit export of a tally's calls",
        clean=_clean, calls=_calls, values=_values, summary=_summary, filename=_filename,
        columns=(("Tally status", 12), ("Tally reason", 40)),
    ))
