"""The Ingest page's table of batches: the base table of logs.tables.base."""
from __future__ import annotations

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from logs.models import IngestBatch
from logs.models.jobs import JobStatus
from logs.tables.base import BaseTable, NumColumn, badge, local_time


class IngestBatchTable(BaseTable):
    id = tables.Column(verbose_name="#", linkify=("logs:ingest_batch", {"pk": tables.A("pk")}))
    created_at = tables.Column(verbose_name=_("When"))
    filename = tables.Column(verbose_name=_("File"), empty_values=())
    source = tables.Column(verbose_name=_("Format"))
    customer = tables.Column(verbose_name=_("Customer"), empty_values=())
    status = tables.Column(verbose_name=_("Status"))
    rows = NumColumn(verbose_name=_("Rows"))
    inserted = NumColumn(verbose_name=_("Inserted"))
    duplicates = NumColumn(verbose_name=_("Duplicates"))
    conflicts = NumColumn(verbose_name=_("Conflicts"))
    skipped = NumColumn(verbose_name=_("Skipped"))
    rejected = NumColumn(verbose_name=_("Rejected"), empty_values=())

    class Meta(BaseTable.Meta):
        model = IngestBatch
        fields = ()
        sequence = ("id", "created_at", "filename", "source", "customer", "status", "rows", "inserted",
                    "duplicates", "conflicts", "skipped", "rejected")
        empty_text = _("No batches yet.")

    def render_created_at(self, value):
        return local_time(value, "%Y-%m-%d %H:%M")

    def render_filename(self, value, record):
        return value or record.origin

    def render_customer(self, value):
        return value if value is not None else "from data"

    def render_status(self, value, record):
        return badge(record.get_status_display(), JobStatus.badge(value))

    def render_rejected(self, value):
        return len(value or [])
