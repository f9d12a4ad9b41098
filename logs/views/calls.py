"""The Logs page (a keyset-paged table of calls) and a call's page."""
from __future__ import annotations

import json

from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _, ngettext
from django.views.generic import DetailView

from logs.choices import GROUP_LABELS, Category, group_of
from logs.classify.reasons import reason_text
from logs.coverage import coverage_of
from logs.filtersets import CallFilterSet
from logs.forms.dashboard import ColumnsForm
from logs.models import IngestConflict
from logs.scoping import current_customer, is_staff, scope_by_customer_field, scope_calls
from logs.selectors.call_fields import call_field_sections
from logs.selectors.calls import LIST_DEFER
from logs.selectors.rollups import calls_total_from_rollups, rollup_facets_for
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
        # the customer's name is shown (a column a user may choose): one join, never a query a row
        return scope_calls(self.request.user, self.customer).defer(*LIST_DEFER).select_related("customer")

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
        ctx["total"] = self.total(ctx)
        return ctx

    def total(self, ctx) -> dict | None:
        """The number of calls the filters match, for the table's header: summed from the
        rollups when the filters are rollup dimensions, exact from the page itself when it is
        the only one, else "more than" the rows shown; never a COUNT over the call table."""
        filterset, page = ctx["filterset"], ctx["page"]
        if not filterset.form.is_valid():
            return None
        if page.is_first and not page.has_next:
            n, exact = len(page), True
        else:
            n = calls_total_from_rollups(user=self.request.user, customer=self.customer,
                                         params=filterset.selector_params())
            exact = n is not None
            if n is None:
                if not page.is_first:
                    return None
                n = len(page)
        count = f"{n:,}"
        if exact:
            text = ngettext("%(n)s call match", "%(n)s calls match", n) % {"n": count}
        else:
            text = ngettext("More than %(n)s call match", "More than %(n)s calls match", n) % {"n": count}
        return {"n": n, "exact": exact, "text": text}


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
            sections=call_field_sections(call, staff=is_staff(self.request.user)), response_text=response_pretty(call.response),
            covered=covered, coverage_reason=why, group=group_of(call.category),
            group_label=GROUP_LABELS.get(group_of(call.category), ""), reason_text=reason_text(call.reason),
            is_success=call.category == Category.SUCCESS, charge_diff=diff,
            charge_gap=-diff if diff is not None else None,
            conflicts=list(conflicts[:20]),
        )
        return ctx
