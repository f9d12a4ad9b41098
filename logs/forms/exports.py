"""The export dialog's form: a time range (the Logs page's presets, or custom days) and the
page's filters, carried as they are named there."""
from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

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

    range = forms.ChoiceField(choices=[("", _("Any time"))] + RANGE_CHOICES, initial=RANGE_LAST_MONTH,
                              required=False, label=_("Time range"))
    notify = forms.BooleanField(required=False, label=_("Tell me when it is done"))
    format = forms.ChoiceField(choices=ExportFormat.choices, initial=ExportFormat.XLSX, required=False,
                               label=_("File"), widget=forms.RadioSelect)

    def __init__(self, *args, today: dt.date | None = None, **kw):
        super().__init__(*args, **kw)
        # "Today" is the user's today (the view passes it in the user's zone), as on the Logs page.
        self.today = today or billing_today()

    def clean(self):
        data = super().clean()
        if self.errors:  # a reversed range is named beside its field by the schema
            return data
        preset = data.get("range") or ""
        if preset:
            first, last = range_dates(preset, self.today, date_from=data.get("date_from"),
                                      date_to=data.get("date_to"))
        else:  # Any time
            first = last = None
        if preset == RANGE_CUSTOM and (first is None or last is None):
            raise ValidationError(_("A custom range needs a first and a last day."))
        data["first"], data["last"] = first, last
        data["filters"] = filters_json(data)
        data["format"] = data.get("format") or ExportFormat.XLSX
        return data
