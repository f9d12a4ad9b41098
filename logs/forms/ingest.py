from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms

from logs.models import Customer


class UploadForm(forms.Form):
    file = forms.FileField(help_text="NDJSON/JSON call envelopes, or a gateway log export (CSV or XLSX).")
    format = forms.ChoiceField(choices=[("auto", "Detect from the content"), ("calls", "Call envelopes (A)"),
                                        ("gateway", "Gateway log export (B)")], initial="auto")
    customer = forms.ModelChoiceField(queryset=Customer.objects.all(), required=False, to_field_name="slug",
                                      empty_label="From the data (User column / customer field)")
    tz = forms.CharField(required=False, label="Time zone of naive times", initial="Asia/Shanghai")

    def clean_tz(self):
        tz = self.cleaned_data["tz"].strip()
        if tz:
            try:
                ZoneInfo(tz)
            except (ZoneInfoNotFoundError, ValueError):
                raise forms.ValidationError(f"unknown time zone {tz!r}: use an IANA name such as Asia/Shanghai")
        return tz
