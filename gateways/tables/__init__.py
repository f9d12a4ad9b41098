"""The Gateways page's table of recent syncs (django-tables2)."""
from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy as _

from gateways.models import GatewaySync
from logs.tables.exports import BADGE


class SyncTable(tables.Table):
    id = tables.Column(verbose_name="#")
    source = tables.Column(verbose_name=_("Source"), accessor="source__name")
    created_at = tables.DateTimeColumn(verbose_name=_("Started"), format="Y-m-d H:i:s")
    origin = tables.Column(verbose_name=_("By"))
    status = tables.Column(verbose_name=_("Status"))
    rows_done = tables.Column(verbose_name=_("Rows"), attrs={"td": {"class": "num"}, "th": {"class": "num"}})
    summary = tables.Column(verbose_name=_("Summary"), accessor="batch", empty_values=(), orderable=False)
    marks = tables.Column(verbose_name=_("High water"), accessor="high_water_to", empty_values=(), orderable=False)
    error = tables.Column(verbose_name=_("Error"), empty_values=())

    class Meta:
        model = GatewaySync
        fields = ()
        orderable = False
        attrs = {"class": "syncs"}

    def render_status(self, record):
        return format_html('<span class="badge {}">{}</span>', BADGE.get(record.status, ""),
                           record.get_status_display())

    def render_summary(self, record):
        b = record.batch
        if b is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("logs:ingest_batch", args=[b.pk]),
            gettext("%(inserted)s inserted, %(duplicates)s duplicates, %(conflicts)s conflicts, %(skipped)s skipped, "
                    "%(rejected)s rejected") % {"inserted": b.inserted, "duplicates": b.duplicates,
                                                "conflicts": b.conflicts, "skipped": b.skipped,
                                                "rejected": len(b.rejected or [])})

    def render_marks(self, record):
        return f"{record.high_water_from} → {record.high_water_to}"

    def render_error(self, value):
        return value or "—"
