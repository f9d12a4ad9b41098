"""Small forms of the dashboard: columns of the Logs table, the customer switch, the time zone."""
from __future__ import annotations

import zoneinfo

from django import forms
from django.utils.translation import gettext, gettext_lazy as _

from logs.tables.calls import DEFAULT_COLUMNS, CallTable
from logs.timeutil import billing_tz, zone_label


class ColumnsForm(forms.Form):
    columns = forms.MultipleChoiceField(choices=(), required=False,
                                        widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.fields["columns"].choices = CallTable.column_choices()


class CustomerSwitchForm(forms.Form):
    """Staff pick the customer the pages are about ("" = all customers)."""

    customer = forms.ChoiceField(choices=(), required=False)
    next = forms.CharField(required=False)

    def __init__(self, *args, customers=(), **kw):
        super().__init__(*args, **kw)
        self.fields["customer"].choices = [("", _("All customers"))] + [
            (str(c.pk), c.display_name) for c in customers
        ]


def _zones():
    common = ["Asia/Shanghai", "UTC", "Asia/Tokyo", "Asia/Singapore", "Europe/London",
              "Europe/Berlin", "America/New_York", "America/Los_Angeles"]
    rest = sorted(z for z in zoneinfo.available_timezones() if "/" in z and z not in common
                  and not z.startswith(("Etc/", "SystemV/", "posix/", "right/")))
    # Each zone by name and offset ("Asia/Shanghai, UTC+8"), never by an abbreviation.
    return [("", gettext("Billing time zone (%(zone)s, the default)") % {"zone": zone_label(billing_tz())}),
            (gettext("Common"), [(z, zone_label(z)) for z in common]),
            (gettext("All"), [(z, zone_label(z)) for z in rest])]


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(choices=(), required=False, label=_("Show times in"))

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.fields["time_zone"].choices = _zones()


__all__ = ["ColumnsForm", "CustomerSwitchForm", "DEFAULT_COLUMNS", "TimeZoneForm"]
