"""A list view over one base table: a scoped queryset, a FilterSet, a table, keyset paging.

No OFFSET and no COUNT(*): the page continues after the last (created_at, id) seen.
"""
from __future__ import annotations

from django.contrib import messages
from django.views.generic import TemplateView

from logs.pagination import BadCursor, keyset_page

PER_PAGE_CHOICES = (25, 50, 100, 200)


class KeysetListView(TemplateView):
    filterset_class = None
    table_class = None
    per_page = 50

    def get_queryset(self):  # pragma: no cover - every list says what it lists
        raise NotImplementedError

    def get_filterset_kwargs(self) -> dict:
        return {}

    def get_table_kwargs(self) -> dict:
        return {}

    def get_per_page(self) -> int:
        try:
            n = int(self.request.GET.get("per_page", self.per_page))
        except ValueError:
            return self.per_page
        return n if n in PER_PAGE_CHOICES else self.per_page

    def get_page(self, qs):
        after, before = self.request.GET.get("after"), self.request.GET.get("before")
        try:
            return keyset_page(qs, per_page=self.get_per_page(), after=after, before=before)
        except BadCursor:
            messages.warning(self.request, "That page link was not valid; showing the newest calls.")
            return keyset_page(qs, per_page=self.get_per_page())

    def page_url(self, **cursor) -> str:
        params = self.request.GET.copy()
        for key in ("after", "before"):
            params.pop(key, None)
        for key, value in cursor.items():
            if value:
                params[key] = value
        query = params.urlencode()
        return f"?{query}" if query else "?"

    def get_context_data(self, **kw):
        ctx = super().get_context_data(**kw)
        filterset = self.filterset_class(self.request.GET, self.get_queryset(), request=self.request,
                                         **self.get_filterset_kwargs())
        page = self.get_page(filterset.qs)
        table = self.table_class(page.rows, **self.get_table_kwargs())
        ctx.update(
            filterset=filterset, filter_form=filterset.form, table=table, page=page,
            first_url=self.page_url() if not page.is_first else None,
            next_url=self.page_url(after=page.next_cursor) if page.has_next else None,
            prev_url=self.page_url(before=page.prev_cursor) if page.has_previous else None,
            per_page=page.per_page, per_page_choices=PER_PAGE_CHOICES,
        )
        return ctx
