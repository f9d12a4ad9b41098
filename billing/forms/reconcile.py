"""Forms of the reconciliation pages: the upload form (the differences' filters: billing.filtersets)."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from logs.scoping import is_staff, visible_customers


class ReconcileForm(forms.Form):
    file = forms.FileField(
        label=_("Local log"),
        help_text=_("Flat CSV or XLSX (request_id, created_at, model, http_status, finish_reason, block_reason, "
                    "finish_message, prompt_tokens, output_tokens, total_tokens, images, charged_usd), "
                    "NDJSON call envelopes, or an nbaudit Excel export of calls. Naive times are read as UTC+8 "
                    "(an export's, in the zone its Time column names)."))
    customer = forms.ModelChoiceField(queryset=None, to_field_name="slug", required=True, label=_("Customer"))
    date_from = forms.DateField(label=_("From (UTC+8)"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}),
                                help_text=_("Empty: the day of the log's first row."))
    date_to = forms.DateField(label=_("To (UTC+8), included"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}),
                              help_text=_("Empty: the day of the log's last row."))
    notify = forms.BooleanField(required=False, label=_("Tell me when it is done"))

    def __init__(self, *args, user, customer=None, **kw):
        super().__init__(*args, **kw)
        self.user = user
        self.fields["customer"].queryset = visible_customers(user)
        if not is_staff(user):
            # A customer reconciles its own data only: the field is not shown, and the view
            # answers 404 to a request naming another customer.
            self.fields["customer"].widget = forms.HiddenInput()
            self.fields["customer"].required = False
        elif customer is not None:
            self.fields["customer"].initial = customer.slug

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("The period starts after it ends."))
        return data
