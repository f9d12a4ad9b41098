"""The one list view: a scoped queryset, a filter, a table, keyset paging.

Every list of the dashboard (calls, a tally's calls, reconciliation items, tallies,
reconciliations, export jobs, ingest batches) goes through `keyset_list`, directly from a
function view or through `KeysetListView`. No OFFSET and no COUNT(*): a page continues after
the last row seen, in the list's fixed order (its last field the primary key). A filter
that does not parse answers 400 with the form's errors shown.
"""
from __future__ import annotations

from collections.abc import Sequence

from django.contrib import messages
from django.utils.translation import gettext, gettext_lazy as _, gettext_noop
from django.views.generic import TemplateView

from logs.pagination import NEWEST_FIRST, BadCursor, keyset_page

PER_PAGE_CHOICES = (25, 50, 100, 200)
PAGER_PARAMS = ("after", "before")
NEWEST_LABELS = {"first": _("Newest"), "prev": _("Newer"), "next": _("Older"), "where": _("newest")}
FIRST_LABELS = {"first": _("First"), "prev": _("Previous"), "next": _("Next"), "where": _("first")}
# What a list's row is called (the pager's "50 calls on this page"), translated when shown.
NOUNS = (gettext_noop("row"), gettext_noop("rows"), gettext_noop("call"), gettext_noop("calls"),
         gettext_noop("export"), gettext_noop("exports"), gettext_noop("batch"), gettext_noop("batches"),
         gettext_noop("reconciliation"), gettext_noop("reconciliations"), gettext_noop("request ID"),
         gettext_noop("request IDs"), gettext_noop("tally"), gettext_noop("tallies"))


def _per_page(request, default: int) -> int:
    try:
        n = int(request.GET.get("per_page", default))
    except ValueError:
        return default
    return n if n in PER_PAGE_CHOICES else default


def page_url(request, drop: Sequence[str] = (), **cursor) -> str:
    """This page's query with the pager's cursor replaced (and `drop` parameters left out)."""
    params = request.GET.copy()
    for key in (*PAGER_PARAMS, *drop):
        params.pop(key, None)
    for key, value in cursor.items():
        if value:
            params[key] = value
    query = params.urlencode()
    return f"?{query}" if query else "?"


def plural_of(noun: str) -> str:
    return noun + "s"


def keyset_list(request, qs, *, table_class, order: Sequence[str] = NEWEST_FIRST, per_page: int = 50,
                table_kwargs: dict | None = None, noun: str = "row", nouns: str | None = None,
                drop: Sequence[str] = ()) -> dict:
    """The context of one keyset-paged list (for templates/logs/_pager.html): table, page,
    first/prev/next URLs, per-page choice, what a row is called. `drop`: parameters that the
    pager's links leave out (a page's one-off actions)."""
    per_page = _per_page(request, per_page)
    after, before = request.GET.get("after"), request.GET.get("before")
    try:
        page = keyset_page(qs, per_page=per_page, after=after, before=before, order=order)
    except BadCursor:
        messages.warning(request, gettext("That page link was not valid; showing the first page."))
        page = keyset_page(qs, per_page=per_page, order=order)
    return {
        "table": table_class(page.rows, **(table_kwargs or {})),
        "page": page,
        "first_url": page_url(request, drop) if not page.is_first else None,
        "next_url": page_url(request, drop, after=page.next_cursor) if page.has_next else None,
        "prev_url": page_url(request, drop, before=page.prev_cursor) if page.has_previous else None,
        "per_page": page.per_page,
        "per_page_choices": PER_PAGE_CHOICES,
        "noun": gettext(noun),
        "nouns": gettext(nouns or plural_of(noun)),
        "pager_labels": NEWEST_LABELS if order[0].startswith("-") else FIRST_LABELS,
    }


def filter_status(form) -> int:
    """200, or 400 for a filter form that did not parse (its errors are on the page)."""
    return 400 if form is not None and form.is_bound and not form.is_valid() else 200


class FilterStatusMixin:
    """A page with a filter form (`filter_form` in the context) answers 400 when it is invalid."""

    def render_to_response(self, context, **kw):
        kw.setdefault("status", filter_status(context.get("filter_form")))
        return super().render_to_response(context, **kw)


class KeysetListView(FilterStatusMixin, TemplateView):
    """A list page, declared: a queryset, a FilterSet (optional), a table class, an order."""

    filterset_class = None
    table_class = None
    order: Sequence[str] = NEWEST_FIRST
    per_page = 50
    noun = "row"
    nouns: str | None = None

    def get_queryset(self):  # pragma: no cover - every list says what it lists
        raise NotImplementedError

    def get_filterset_kwargs(self) -> dict:
        return {}

    def get_table_kwargs(self) -> dict:
        return {}

    def get_context_data(self, **kw):
        ctx = super().get_context_data(**kw)
        qs = self.get_queryset()
        if self.filterset_class is not None:
            filterset = self.filterset_class(self.request.GET, qs, request=self.request,
                                             **self.get_filterset_kwargs())
            ctx.update(filterset=filterset, filter_form=filterset.form)
            qs = filterset.qs
        ctx.update(keyset_list(self.request, qs, table_class=self.table_class, order=self.order,
                               per_page=self.per_page, table_kwargs=self.get_table_kwargs(), noun=self.noun,
                               nouns=self.nouns))
        return ctx
