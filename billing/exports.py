"""Billing's kinds of export, registered with logs' export service in BillingConfig.ready (so
logs never imports billing). Each job is an ordinary ExportJob listed on the Async Tasks page
and written by the same task and writer as any export:

- "tally" (filters {"tally": id}): a tally's covered calls with their tally status and reason;
- "reconciliation" (filters {"reconciliation": id, "category", "request_id"}): a finished
  reconciliation's figures and its request IDs, filtered as on its report.
"""
from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import QueryDict
from django.utils.translation import gettext, gettext_noop

from billing.choices import ReconCategory, TallyCallStatus
from billing.filtersets import ItemFilterSet
from billing.models import Reconciliation, ReconciliationItem, Tally, TallyCall
from billing.services.reconciliation import reconciliation_summary
from billing.services.tally import REPEATED_REASON
from logs.models import ExportJob
from logs.models.jobs import JobStatus
from logs.pagination import keyset_batches
from logs.scoping import is_staff
from logs.services.exports import ExportKind, export_create, export_kind_register

KIND = "tally"
RECON_KIND = "reconciliation"


def _named(model, filters, key):
    """The row of `model` a job's filters name by id under `key` (None: no such row)."""
    try:
        pk = int(filters.get(key))
    except (TypeError, ValueError):
        return None
    return model.objects.select_related("customer").filter(pk=pk).first()


def _tally(filters) -> Tally | None:
    return _named(Tally, filters, "tally")


def _clean(*, filters, user, customer) -> dict:
    tally = _tally(filters)
    # The job's customer is the tally's: a customer's user has its own customer forced by the
    # export service, so another customer's tally is refused here.
    if tally is None or customer is None or tally.customer_id != customer.pk:
        raise ValidationError(gettext("No such tally for this customer."))
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
    repeated = gettext(REPEATED_REASON).format(limit=settings.NBAUDIT_PLAN_REPEAT_LIMIT)
    return {call_id: (status, reason or (repeated if status == TallyCallStatus.REPEATED else ""))
            for call_id, status, reason in found}


def _summary(*, job) -> list:
    tally = Tally.objects.filter(pk=job.filters["tally"]).first()
    if tally is None:
        return [(gettext_noop("Tally"), gettext("deleted"))]
    return [
        (gettext_noop("Tally"), f"{job.customer.slug if job.customer_id else tally.customer_id} {tally.month:%Y-%m}"),
        (gettext_noop("Tally status"), tally.status),
        (gettext_noop("Covered failed calls"), tally.failed_calls),
        (gettext_noop("Counted calls"), tally.counted_calls),
        (gettext_noop("Credit (USD)"), tally.credit_usd),
    ]


def _filename(*, customer, date_from, date_to, filters) -> str:
    who = customer.slug if customer is not None else "all"
    return f"nbaudit-{who}-tally-{date_from:%Y-%m}-calls.xlsx"


# --- reconciliation ---------------------------------------------------------------------------

# (header, item field, width, type) of the Request IDs sheet: labels for people, the category's
# code in a column of its own for tools.
ITEM_SHEET = (
    ("Request ID", "request_id", 30, "text"),
    ("Category", "category", 20, "label:recon_category"),
    ("Category code", "category", 20, "text"),
    ("Platform says", "platform_category", 16, "label:category"),
    ("Local log says", "local_category", 16, "label:category"),
    ("Charges", "charges", 8, "int"),
    ("Platform charged (USD)", "charged_usd", 14, "money"),
    ("Expected (USD)", "expected_usd", 14, "money"),
    ("Local log's amount (USD)", "local_charged_usd", 14, "money"),
    ("Over (USD)", "over_usd", 14, "money"),
    ("Under (USD)", "under_usd", 14, "money"),
    ("Local line", "local_line", 9, "int"),
    ("Call ID", "call_id", 10, "int"),
)
ITEM_COLUMNS = tuple((header, width, kind) for header, _field, width, kind in ITEM_SHEET)
_ITEM_FIELDS = tuple(dict.fromkeys(field for _h, field, _w, _k in ITEM_SHEET))
_ITEM_AT = tuple(_ITEM_FIELDS.index(field) + 1 for _h, field, _w, _k in ITEM_SHEET)
ITEM_FILTERS = ("category", "request_id")


def _reconciliation(filters) -> Reconciliation | None:
    return _named(Reconciliation, filters, "reconciliation")


def _item_params(filters) -> QueryDict:
    params = QueryDict(mutable=True)
    for key in ITEM_FILTERS:
        value = filters.get(key)
        for v in value if isinstance(value, list) else [value]:
            if v not in (None, ""):
                params.appendlist(key, str(v))
    return params


def _recon_items(job):
    """The job's request IDs: the report's filters (ItemFilterSet) over the reconciliation's items."""
    items = ReconciliationItem.objects.filter(reconciliation_id=job.filters["reconciliation"])
    params = _item_params(job.filters)
    return ItemFilterSet(params or None, queryset=items).qs


def _recon_clean(*, filters, user, customer) -> dict:
    recon = _reconciliation(filters)
    # The job's customer is the reconciliation's: a customer's user has its own forced by the
    # export service, so another customer's reconciliation is refused here.
    if recon is None or customer is None or recon.customer_id != customer.pk:
        raise ValidationError(gettext("No such reconciliation for this customer."))
    if recon.status != JobStatus.DONE:
        raise ValidationError(gettext("Reconciliation #%(n)s has no result yet.") % {"n": recon.pk})
    params = _item_params(filters)
    form = ItemFilterSet(params, queryset=recon.items.none()).form
    if not form.is_valid():
        raise ValidationError("; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
    clean = {"reconciliation": recon.pk}
    if params.getlist("category"):
        clean["category"] = params.getlist("category")
    if params.get("request_id"):
        clean["request_id"] = params.get("request_id")
    return clean


def _recon_rows(*, job, batch):
    for page in keyset_batches(_recon_items(job), ("id", *_ITEM_FIELDS), batch, key=("id",)):
        yield [tuple(row[i] for i in _ITEM_AT) for row in page]


def _recon_count(*, job) -> int:
    return _recon_items(job).count()


def _recon_summary(*, job) -> list:
    recon = _reconciliation(job.filters)
    if recon is None:
        return [(gettext_noop("Reconciliation"), gettext("deleted"))]
    summary = reconciliation_summary(reconciliation=recon)

    def amount(value):
        return Decimal(value) if value is not None else None

    lines = [(gettext_noop("Reconciliation"), recon.pk), (gettext_noop("local log"), recon.filename or "")]
    lines += [(key, summary[key]) for key in ("local_rows", "platform_rows", "outside_period")]
    lines.append((gettext_noop("rejected rows"), recon.rejected_count))
    lines += [(key, amount(summary[key])) for key in ("overcharged_usd", "undercharged_usd", "unmatched_charged_usd")]
    lines += [(), ("category", "request IDs", "charged", "expected", "over", "under", "local log's amount", "label")]
    for code, text in ReconCategory.choices:
        money = recon.money.get(code, {})
        lines.append((code, summary["categories"].get(code, 0),
                      *(amount(money.get(k)) for k in ("charged", "expected", "over", "under", "local")), str(text)))
    if recon.rejected:
        lines += [(), ("rejected line", "reason")]
        lines += [(r["line"], r["reason"]) for r in recon.rejected]
    return lines


def _recon_filename(*, customer, date_from, date_to, filters) -> str:
    who = customer.slug if customer is not None else "all"
    return f"reconciliation-{who}-{filters['reconciliation']}.xlsx"


def reconciliation_export(*, user, reconciliation: Reconciliation, filters) -> ExportJob:
    """The user's export of a finished reconciliation with these item filters: the one already
    done or under way (a finished reconciliation does not change), else a new one, queued.
    Raises ValidationError (no result yet, a bad filter) or PermissionDenied."""
    if not is_staff(user) and getattr(user, "customer_id", None) != reconciliation.customer_id:
        raise PermissionDenied(gettext("You may export your own customer's reconciliations only."))
    clean = _recon_clean(filters={**filters, "reconciliation": reconciliation.pk}, user=user,
                         customer=reconciliation.customer)
    earlier = (ExportJob.objects.filter(created_by=user, kind=RECON_KIND,
                                        status__in=(*JobStatus.ACTIVE, JobStatus.DONE))
               .order_by("-created_at", "-id")[:50])
    for job in earlier:
        if job.filters == clean:
            return job
    return export_create(user=user, customer=reconciliation.customer, date_from=reconciliation.date_from,
                         date_to=reconciliation.date_to, filters=clean, kind=RECON_KIND)


def register() -> None:
    export_kind_register(name=KIND, kind=ExportKind(
        title=gettext_noop("nbaudit export of a tally's calls"),
        clean=_clean, calls=_calls, values=_values, summary=_summary, filename=_filename,
        columns=((gettext_noop("Tally status"), 12), (gettext_noop("Tally reason"), 40)),
    ))
    export_kind_register(name=RECON_KIND, kind=ExportKind(
        title=gettext_noop("nbaudit reconciliation"), clean=_recon_clean, rows=_recon_rows, count=_recon_count,
        summary=_recon_summary, filename=_recon_filename, columns=ITEM_COLUMNS, sheet="Request IDs",
    ))
