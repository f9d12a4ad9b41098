from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.utils.translation import gettext, gettext_lazy as _

from logs.models import Customer


class UploadForm(forms.Form):
    file = forms.FileField(label=_("File"), help_text=_("NDJSON/JSON call envelopes, or a gateway log export (CSV or XLSX)."))
    format = forms.ChoiceField(choices=[("auto", _("Detect from the content")), ("calls", _("Call envelopes (A)")),
                                        ("gateway", _("Gateway log export (B)"))], initial="auto", label=_("Format"))
    customer = forms.ModelChoiceField(queryset=Customer.objects.all(), required=False, to_field_name="slug",
                                      label=_("Customer"),
                                      empty_label=_("From the data (User column / customer field)"))
    tz = forms.CharField(required=False, label=_("Time zone of naive times"), initial="Asia/Shanghai")

    def clean_tz(self):
        tz = self.cleaned_data["tz"].strip()
        if tz:
            try:
                ZoneInfo(tz)
            except (ZoneInfoNotFoundError, ValueError):
                raise forms.ValidationError(gettext("unknown time zone %(tz)r: use an IANA name such as Asia/Shanghai")
                                            % {"tz": tz})
        return tz
