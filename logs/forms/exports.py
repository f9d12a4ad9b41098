"""The export dialog's form: a time range (the Logs page's presets, or custom days) and the
page's filters, carried as they are named there."""
from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError

from logs.choices import Category
from logs.filtersets import RANGE_CHOICES, RANGE_CUSTOM, RANGE_LAST_MONTH, range_dates
from logs.services.exports import export_filters_clean
from logs.timeutil import billing_today


class ExportForm(forms.Form):
    range = forms.ChoiceField(choices=RANGE_CHOICES, initial=RANGE_LAST_MONTH, label="Time range")
    date_from = forms.DateField(required=False, label="From",
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To (included)",
                              widget=forms.DateInput(attrs={"type": "date"}))
    model = forms.CharField(required=False)
    category = forms.MultipleChoiceField(required=False, choices=Category.choices)
    failed = forms.BooleanField(required=False)
    token_name = forms.CharField(required=False)
    http_status = forms.IntegerField(required=False, min_value=100, max_value=599)
    request_id = forms.CharField(required=False)

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
        try:
            data["filters"] = export_filters_clean({
                "model": data.get("model"),
                "category": data.get("category") or [],
                "failed": bool(data.get("failed")),
                "token_name": data.get("token_name"),
                "http_status": data.get("http_status"),
                "request_id": data.get("request_id"),
            })
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None
        return data
