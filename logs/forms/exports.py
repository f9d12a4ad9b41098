"""The export dialog's form: a time range (the Logs page's presets, or custom days) and the
page's filters, carried as they are named there."""
from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError

from logs.filters import (
    RANGE_CHOICES,
    RANGE_CUSTOM,
    RANGE_LAST_MONTH,
    CallFilterForm,
    filters_json,
    range_dates,
)
from logs.models import ExportFormat
from logs.timeutil import billing_today


class ExportForm(CallFilterForm):
    """The one filter schema (logs.filters), with a time range that must be given."""

    range = forms.ChoiceField(choices=RANGE_CHOICES, initial=RANGE_LAST_MONTH, label="Time range")
    notify = forms.BooleanField(required=False, label="Tell me when it is done")
    format = forms.ChoiceField(choices=ExportFormat.choices, initial=ExportFormat.XLSX, required=False,
                               label="File", widget=forms.RadioSelect)

    def __init__(self, *args, today: dt.date | None = None, **kw):
        super().__init__(*args, **kw)
        self.today = today or billing_today()

    def clean(self):
        data = super().clean()
        preset = data.get("range")
        if not preset:
            return data
        first, last = range_dates(preset, self.today, date_from=data.get("date_from"),
                                  date_to=data.get("date_to"))
        if preset == RANGE_CUSTOM and (first is None or last is None):
            raise ValidationError("A custom range needs a first and a last day.")
        if first and last and first > last:
            raise ValidationError(f"The first day ({first}) is after the last day ({last}).")
        data["first"], data["last"] = first, last
        data["filters"] = filters_json(data)
        data["format"] = data.get("format") or ExportFormat.XLSX
        return data
