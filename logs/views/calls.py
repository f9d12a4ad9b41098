"""The Logs page (a keyset-paged table of calls) and a call's page."""
from __future__ import annotations

import json

from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _, gettext_lazy
from django.views.generic import DetailView

from logs.choices import GROUP_LABELS, Category, group_of
from logs.classify.reasons import reason_text
from logs.coverage import coverage_of
from logs.filtersets import CallFilterSet
from logs.forms.dashboard import ColumnsForm
from logs.models import Call, IngestConflict
from logs.scoping import current_customer, is_staff, scope_by_customer_field, scope_calls
from logs.selectors.calls import LIST_DEFER
from logs.selectors.rollups import rollup_facets_for
from logs.tables.base import local_time
from logs.tables.calls import DEFAULT_COLUMNS, CallTable
from logs.views.base import KeysetListView

COLUMNS_SESSION_KEY = "nbaudit_call_columns"
ELIDE_OVER = 2000


class CallListView(KeysetListView):
    template_name = "logs/calls.html"
    filterset_class = CallFilterSet
    table_class = CallTable
    noun = "call"

    def dispatch(self, request, *args, **kw):
        self.customer = current_customer(request)
        return super().dispatch(request, *args, **kw)

    def get_queryset(self):
        qs = scope_calls(self.request.user, self.customer).defer(*LIST_DEFER)
        if self.customer is None:
            qs = qs.select_related("customer")
        return qs

    def get_filterset_kwargs(self):
        models, tokens = rollup_facets_for(user=self.request.user, customer=self.customer)
        return {"tz": self.request.tz, "today": timezone.localdate(timezone=self.request.tz),
                "models": models, "tokens": tokens}

    def columns(self) -> list[str]:
        cols = list(self.request.session.get(COLUMNS_SESSION_KEY) or DEFAULT_COLUMNS)
        if self.customer is None and "customer" not in cols:
            cols.insert(1, "customer")
        return cols

    def get_table_kwargs(self):
        return {"columns": self.columns()}

    def post(self, request, *args, **kw):
        """Save the chosen columns (per session), back to the same filters."""
        form = ColumnsForm(request.POST)
        if form.is_valid():
            request.session[COLUMNS_SESSION_KEY] = form.cleaned_data["columns"] or list(DEFAULT_COLUMNS)
        if request.POST.get("reset"):
            request.session.pop(COLUMNS_SESSION_KEY, None)
        return HttpResponseRedirect(request.get_full_path())

    def get_context_data(self, **kw):
        ctx = super().get_context_data(**kw)
        ctx["customer"] = self.customer
        ctx["columns_form"] = ColumnsForm(initial={"columns": [c for c in self.columns() if c != "customer"]})
        ctx["export_params"] = ctx["filterset"].selector_params()
        ctx["query_string"] = self.request.GET.urlencode()
        return ctx


def elide_images(value, _key=None):
    """A copy of a response for showing: image data as its length, long strings cut."""
    if isinstance(value, dict):
        out = {}
        is_image = any(k in value for k in ("mimeType", "mime_type"))
        for k, v in value.items():
            if k == "data" and is_image and isinstance(v, int) and not isinstance(v, bool):
                out[k] = _("<image data: %(n)s characters, elided>") % {"n": f"{v:,}"}
            else:
                out[k] = elide_images(v, k)
        return out
    if isinstance(value, list):
        return [elide_images(v) for v in value]
    if isinstance(value, str) and len(value) > ELIDE_OVER:
        if value.lstrip().lower().startswith("data:image/") or _key == "data":
            return _("<image data: %(n)s characters, elided>") % {"n": f"{len(value):,}"}
        return value[:ELIDE_OVER] + "… " + _("<%(n)s more characters>") % {"n": f"{len(value) - ELIDE_OVER:,}"}
    return value


def response_pretty(response) -> str:
    if response is None:
        return ""
    return json.dumps(elide_images(response), indent=2, ensure_ascii=False)


# The labels of a call's stored fields on its page (the field names stay in the API and exports).
FIELD_LABELS = {
    "id": gettext_lazy("ID"), "customer": gettext_lazy("customer"), "request_id": gettext_lazy("request ID"),
    "request_id_synthetic": gettext_lazy("request ID made up (none in the export)"),
    "created_at": gettext_lazy("time"), "model": gettext_lazy("model"), "family": gettext_lazy("family"),
    "token_name": gettext_lazy("API key (token)"), "route": gettext_lazy("route"), "group": gettext_lazy("group"),
    "source": gettext_lazy("source"), "log_type": gettext_lazy("log type"), "http_status": gettext_lazy("HTTP status"),
    "finish_reason": gettext_lazy("finish reason"), "block_reason": gettext_lazy("block reason"),
    "finish_message": gettext_lazy("finish message"), "error_text": gettext_lazy("error text"),
    "prompt_tokens": gettext_lazy("prompt tokens"), "output_tokens": gettext_lazy("output tokens"),
    "thoughts_tokens": gettext_lazy("thinking tokens"), "total_tokens": gettext_lazy("total tokens"),
    "image_tokens": gettext_lazy("image tokens"), "images": gettext_lazy("images"), "drafts": gettext_lazy("drafts"),
    "image_size": gettext_lazy("image size"), "latency_ms": gettext_lazy("latency (ms)"),
    "charged_usd": gettext_lazy("charged (USD)"), "group_ratio": gettext_lazy("group ratio"),
    "billing_mode": gettext_lazy("billing mode"), "expected_usd": gettext_lazy("expected (USD)"),
    "category": gettext_lazy("category"), "reason": gettext_lazy("reason"), "channel_id": gettext_lazy("channel"),
    "prompt_fingerprint": gettext_lazy("prompt fingerprint"), "batch": gettext_lazy("ingest batch"),
    "ingested_at": gettext_lazy("ingested at"),
}

# Stored, but not the customer's to see: the gateway hides its upstream channels from its users too.
STAFF_ONLY_FIELDS = ("channel_id",)


def field_rows(call: Call, *, staff: bool = False) -> list[tuple[str, object]]:
    """Every stored field of a call (staff: with the staff-only ones), labelled, values as a person reads them."""
    rows = []
    for f in Call._meta.concrete_fields:
        if f.name in ("response", "prompt") or (f.name in STAFF_ONLY_FIELDS and not staff):
            continue
        value = getattr(call, f.attname)
        if f.name == "customer":
            value = call.customer.display_name + f" ({call.customer.slug})"
        elif f.name == "batch":
            value = f"#{value}" if value else ""
        elif f.choices and value:  # the label, and the code (interface) as data
            value = format_html('{} <span class="mono">({})</span>', getattr(call, f"get_{f.name}_display")(), value)
        elif hasattr(value, "tzinfo") and value is not None and f.get_internal_type() == "DateTimeField":
            value = local_time(value, "%Y-%m-%d %H:%M:%S %Z")
        elif f.name == "reason" and value:
            value = reason_text(value)
        elif isinstance(value, bool):
            value = _("yes") if value else _("no")
        rows.append((str(FIELD_LABELS.get(f.name, f.verbose_name)), value))
    return rows


class CallDetailView(DetailView):
    template_name = "logs/call.html"
    context_object_name = "call"

    def get_object(self, queryset=None):
        # Staff see any call; a customer's user only its own (another customer's is a 404).
        return get_object_or_404(scope_calls(self.request.user).select_related("customer"),
                                 pk=self.kwargs["pk"])

    def get_context_data(self, **kw):
        ctx = super().get_context_data(**kw)
        call = self.object
        covered, why = coverage_of(call)
        diff = None
        if call.charged_usd is not None and call.expected_usd is not None:
            diff = call.charged_usd - call.expected_usd
        conflicts = scope_by_customer_field(self.request.user, IngestConflict.objects.all())
        conflicts = conflicts.filter(customer_id=call.customer_id, request_id=call.request_id)
        ctx.update(
            fields=field_rows(call, staff=is_staff(self.request.user)), response_text=response_pretty(call.response),
            covered=covered, coverage_reason=why, group=group_of(call.category),
            group_label=GROUP_LABELS.get(group_of(call.category), ""), reason_text=reason_text(call.reason),
            is_success=call.category == Category.SUCCESS, charge_diff=diff,
            conflicts=list(conflicts[:20]),
        )
        return ctx
