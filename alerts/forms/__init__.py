"""Forms of alerts: a rule, and muting an incident."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from alerts.models import AlertKind, WebhookFormat
from alerts.models.rules import STAFF_KINDS
from logs.choices import Family


class AlertRuleForm(forms.Form):
    name = forms.CharField(max_length=100, label=_("Name"))
    kind = forms.ChoiceField(choices=AlertKind.choices, label=_("Kind"))
    customer = forms.ChoiceField(required=False, label=_("Customer"))
    family = forms.ChoiceField(choices=[("", _("Any model"))] + list(Family.choices), required=False,
                               label=_("Model family"))
    window_minutes = forms.IntegerField(min_value=1, initial=60, label=_("Window (minutes)"))
    threshold = forms.DecimalField(min_value=0, max_digits=14, decimal_places=6, label=_("Threshold"),
                                   help_text=_("Rates as fractions (0.2 = 20%); money in US$; spikes as a multiple; "
                                               "lag in minutes."))
    min_calls = forms.IntegerField(min_value=0, initial=20, label=_("Minimum calls"))
    remind_hours = forms.IntegerField(min_value=1, initial=24, label=_("Remind every (hours)"))
    emails = forms.CharField(required=False, label=_("Email to"), help_text=_("Addresses, separated by commas."))
    webhook_url = forms.URLField(required=False, label=_("Webhook URL"), max_length=500, assume_scheme="https")
    webhook_format = forms.ChoiceField(choices=WebhookFormat.choices, initial=WebhookFormat.GENERIC,
                                       label=_("Webhook format"))
    webhook_secret = forms.CharField(required=False, label=_("Webhook secret"), widget=forms.PasswordInput,
                                     help_text=_("Kept as it is when left empty."))
    in_app = forms.BooleanField(required=False, initial=True, label=_("Notify in the app"))
    enabled = forms.BooleanField(required=False, initial=True, label=_("Enabled"))

    def __init__(self, *args, staff: bool, customers=(), **kw):
        super().__init__(*args, **kw)
        if staff:
            self.fields["customer"].choices = [("", _("Every customer"))] + [(str(c.pk), c.display_name)
                                                                          for c in customers]
        else:
            del self.fields["customer"]
            self.fields["kind"].choices = [c for c in AlertKind.choices if c[0] not in STAFF_KINDS]

    def email_list(self) -> list[str]:
        return [e.strip() for e in (self.cleaned_data.get("emails") or "").split(",") if e.strip()]


class MuteForm(forms.Form):
    hours = forms.IntegerField(min_value=1, max_value=24 * 30, initial=24, label=_("Mute for (hours)"))
