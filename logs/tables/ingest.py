"""The Ingest page's table of batches: the base table of logs.tables.base."""
from __future__ import annotations

import django_tables2 as tables

from logs.models import IngestBatch
from logs.models.jobs import JobStatus
from logs.tables.base import BaseTable, NumColumn, badge, local_time


class IngestBatchTable(BaseTable):
    id = tables.Column(verbose_name="#", linkify=("logs:ingest_batch", {"pk": tables.A("pk")}))
    created_at = tables.Column(verbose_name="When")
    filename = tables.Column(verbose_name="File", empty_values=())
    source = tables.Column(verbose_name="Format")
    customer = tables.Column(verbose_name="Customer", empty_values=())
    status = tables.Column()
    rows = NumColumn(verbose_name="Rows")
    inserted = NumColumn(verbose_name="Inserted")
    duplicates = NumColumn(verbose_name="Duplicates")
    conflicts = NumColumn(verbose_name="Conflicts")
    skipped = NumColumn(verbose_name="Skipped")
    rejected = NumColumn(verbose_name="Rejected", empty_values=())

    class Meta(BaseTable.Meta):
        model = IngestBatch
        fields = ()
        sequence = ("id", "created_at", "filename", "source", "customer", "status", "rows", "inserted",
                    "duplicates", "conflicts", "skipped", "rejected")
        empty_text = "No batches yet."

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
