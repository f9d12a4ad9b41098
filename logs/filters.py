"""The one filter schema of calls: the Logs page, the Overview, the read API and exports.

Every filter a user can give is parsed here, by the same fields with the same rules, so
`failed=on` or an out-of-range day means the same thing on the page, in the API and in an
export. `CallFilterForm` is the schema (its subset `RangeFilterForm` narrows the Overview's
rollups); `call_params` turns its cleaned data into the keyword arguments of
`logs.selectors.calls.calls_filter`. A value that cannot be a filter is a form error in
words, naming the parameter; nothing here raises past the form.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy as _, gettext_noop

from logs.choices import Category
from logs.timeutil import UTC, billing_tz


def _pct(message: str, **params):
    """A message with its %(name)s filled in, translated when shown (not at import)."""
    return lazy(lambda: gettext(message) % params, str)()


RANGE_TODAY = "today"
RANGE_7D = "7d"
RANGE_30D = "30d"
RANGE_THIS_MONTH = "this_month"
RANGE_LAST_MONTH = "last_month"
RANGE_CUSTOM = "custom"
RANGE_CHOICES = [
    (RANGE_TODAY, _("Today")),
    (RANGE_7D, _("Last 7 days")),
    (RANGE_30D, _("Last 30 days")),
    (RANGE_THIS_MONTH, _("This month")),
    (RANGE_LAST_MONTH, _("Last month")),
    (RANGE_CUSTOM, _("Custom")),
]

# Decision: days outside these are refused, not clamped. The last day leaves room for the
# day after it in any zone (a day's end is the next day's start), so no bound overflows.
DAY_FIRST = dt.date(1970, 1, 1)
DAY_LAST = dt.date(9999, 12, 30)
TIME_FIRST = dt.datetime.combine(DAY_FIRST, dt.time.min, tzinfo=UTC)
TIME_LAST = dt.datetime.combine(DAY_LAST, dt.time.min, tzinfo=UTC)
STATUS_MIN, STATUS_MAX = 100, 599
FLAG_ON = frozenset({"1", "true", "yes", "on"})
FLAG_OFF = frozenset({"", "0", "false", "no", "off"})
REVERSED = gettext_noop("The first day (%(first)s) is after the last day (%(last)s): the range is reversed. "
                        "Pick a last day on or after the first.")
OUT_OF_RANGE = f"is out of range: use a day from {DAY_FIRST} to {DAY_LAST}"


def range_dates(preset: str | None, today: dt.date, *, date_from: dt.date | None = None,
                date_to: dt.date | None = None) -> tuple[dt.date | None, dt.date | None]:
    """The first and last day (both included) of a range preset, relative to `today`.

    "Last 7 days" is today and the 6 days before it. No preset: any time (None, None),
    unless dates are given, which then count as a custom range.
    """
    if preset == RANGE_TODAY:
        return today, today
    if preset == RANGE_7D:
        return today - dt.timedelta(days=6), today
    if preset == RANGE_30D:
        return today - dt.timedelta(days=29), today
    if preset == RANGE_THIS_MONTH:
        return today.replace(day=1), today
    if preset == RANGE_LAST_MONTH:
        last = today.replace(day=1) - dt.timedelta(days=1)
        return last.replace(day=1), last
    return date_from, date_to


def day_in_range(day: dt.date) -> dt.date:
    """`day`, or a ValidationError in words when it lies outside DAY_FIRST..DAY_LAST."""
    if not DAY_FIRST <= day <= DAY_LAST:
        raise ValidationError(gettext("%(day)s is out of range: use a day from %(first)s to %(last)s.") % {
            "day": day.isoformat(), "first": DAY_FIRST, "last": DAY_LAST}, code="range")
    return day


class DayField(forms.DateField):
    """A day, YYYY-MM-DD, between DAY_FIRST and DAY_LAST."""

    default_error_messages = {"invalid": _("Enter a day as YYYY-MM-DD.")}

    def to_python(self, value):
        day = super().to_python(value)
        return day_in_range(day) if day is not None else None


class WhenField(forms.Field):
    """A day (YYYY-MM-DD, whole in the billing zone) or an ISO 8601 instant: ("date"|"time", value).

    A time without an offset is in the billing zone. Instants are bounded like days.
    """

    def to_python(self, value):
        text = str(value or "").strip()
        if not text:
            return None
        if len(text) == 10:
            try:
                return "date", day_in_range(dt.date.fromisoformat(text))
            except ValueError:
                pass
        try:
            # An unencoded "+08:00" arrives as " 08:00".
            when = dt.datetime.fromisoformat(re.sub(r"(\d) (\d\d:?\d\d)$", r"\1+\2", text))
        except ValueError:
            raise ValidationError(gettext("not a date (YYYY-MM-DD) or an ISO 8601 time: %(text)r") % {"text": text}) from None
        if when.tzinfo is None:  # Decision: a time without offset is in the billing zone.
            when = when.replace(tzinfo=billing_tz())
        try:
            in_utc = when.astimezone(UTC)
        except OverflowError:
            in_utc = None
        if in_utc is None or not TIME_FIRST <= in_utc <= TIME_LAST:
            raise ValidationError(gettext("%(day)s is out of range: use a day from %(first)s to %(last)s.") % {
                "day": text, "first": DAY_FIRST, "last": DAY_LAST})
        return "time", when


class FlagInput(forms.CheckboxInput):
    """A checkbox that hands the field what was sent (CheckboxInput turns any text into True)."""

    def __init__(self, attrs=None):
        super().__init__(attrs, check_test=lambda v: str(v).strip().lower() in FLAG_ON or v is True)

    def value_from_datadict(self, data, files, name):
        return data.get(name)

    def value_omitted_from_data(self, data, files, name):
        return False


class FlagField(forms.Field):
    """On: 1, true, yes, on (the page's checkbox). Off: absent, 0, false, no, off. Else an error."""

    widget = FlagInput

    def __init__(self, **kw):
        kw.setdefault("required", False)
        super().__init__(**kw)

    def to_python(self, value):
        if isinstance(value, bool):
            return value
        text = str(value if value is not None else "").strip().lower()
        if text in FLAG_ON:
            return True
        if text in FLAG_OFF:
            return False
        raise ValidationError(gettext("use 1 or 0 (or on/off), not %(value)r") % {"value": value})


class CategoryCheckboxes(forms.CheckboxSelectMultiple):
    """One checkbox per category; codes sent repeated or separated by commas tick the same boxes."""

    def value_from_datadict(self, data, files, name):
        values = data.getlist(name) if hasattr(data, "getlist") else data.get(name)
        if values is None:
            return []
        if isinstance(values, str):
            values = [values]
        return [part.strip() for raw in values for part in str(raw).split(",") if part.strip()]


class CategoriesField(forms.MultipleChoiceField):
    """Category codes: repeated, or separated by commas; an unknown one is named."""

    widget = CategoryCheckboxes

    def __init__(self, **kw):
        kw.setdefault("choices", Category.choices)
        kw.setdefault("required", False)
        super().__init__(**kw)

    def to_python(self, value):
        if not value:
            return []
        values = [value] if isinstance(value, str) else list(value)
        out: list[str] = []
        for raw in values:
            for part in str(raw).split(","):
                part = part.strip()
                if part and part not in out:
                    out.append(part)
        return out

    def validate(self, value):
        unknown = [c for c in value if c not in Category.values]
        if unknown:
            raise ValidationError(gettext("unknown category %(codes)s; use one of: %(known)s") % {
                "codes": ", ".join(map(repr, unknown)), "known": ", ".join(Category.values)})


class StatusField(forms.IntegerField):
    default_error_messages = {
        "invalid": _pct(gettext_noop("Enter a number: an HTTP status from %(min)s to %(max)s."), min=STATUS_MIN, max=STATUS_MAX),
        "min_value": _pct(gettext_noop("An HTTP status is from %(min)s to %(max)s."), min=STATUS_MIN, max=STATUS_MAX),
        "max_value": _pct(gettext_noop("An HTTP status is from %(min)s to %(max)s."), min=STATUS_MIN, max=STATUS_MAX),
    }

    def __init__(self, **kw):
        kw.setdefault("required", False)
        kw.setdefault("widget", forms.NumberInput(attrs={"min": STATUS_MIN, "max": STATUS_MAX,
                                                         "style": "width:6em"}))
        super().__init__(min_value=STATUS_MIN, max_value=STATUS_MAX, **kw)


def _text(label: str) -> forms.CharField:
    return forms.CharField(required=False, label=label, strip=True)


class RangeFilterForm(forms.Form):
    """Time range (a preset or custom days, cut in the page's zone), model and API key."""

    range = forms.ChoiceField(choices=[("", _("Any time"))] + RANGE_CHOICES, required=False,
                              label=_("Time range"))
    date_from = DayField(required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = DayField(required=False, label=_("To (included)"), widget=forms.DateInput(attrs={"type": "date"}))
    model = _text(_("Model"))
    token_name = _text(_("API key"))

    def clean(self):
        data = super().clean()
        first, last = data.get("date_from"), data.get("date_to")
        if first and last and first > last and data.get("range") in ("", None, RANGE_CUSTOM):
            self.add_error("date_to", gettext(REVERSED) % {"first": first.isoformat(), "last": last.isoformat()})
        return data


class CallFilterForm(RangeFilterForm):
    """Every filter of calls (the Logs page's form; exports and the API parse with it too)."""

    category = CategoriesField(label=_("Category"))
    failed = FlagField(label=_("Failed only"))
    http_status = StatusField(label=_("HTTP status"))
    request_id = _text(_("Request ID"))
    # The gateway's upstream channel: the Logs page offers it to staff only (see CallFilterSet).
    channel = forms.IntegerField(required=False, min_value=0, label=_("Channel"),
                                 widget=forms.NumberInput(attrs={"min": 0, "style": "width:5em"}))


# The read API names its range `from`/`to` (a day or an instant); the rest as on the page.
def _when_instant(when, *, end: bool) -> dt.datetime:
    """A WhenField value as the instant it starts (or, `end`, the day it ends: a day is whole)."""
    kind, value = when
    if kind == "time":
        return value.astimezone(UTC)
    start = dt.datetime.combine(value, dt.time.min, tzinfo=billing_tz())
    return (start + dt.timedelta(days=1) if end else start).astimezone(UTC)


def _api_clean(self):
    data = CallFilterForm.clean(self)
    first, last = data.get("from"), data.get("to")
    if not (first and last):
        return data
    lo, hi = _when_instant(first, end=False), _when_instant(last, end=True)
    # `to` is excluded as an instant, whole as a day: an empty range of two equal instants is asked for.
    if lo > hi or (lo == hi and "date" in (first[0], last[0])):
        self.add_error("to", gettext(REVERSED) % {"first": self.data.get("from"), "last": self.data.get("to")})
    return data


ApiCallFilterForm = type("ApiCallFilterForm", (CallFilterForm,), {
    "__module__": __name__,
    "__doc__": "The read API's filters: the page's, with `from`/`to` as days or ISO 8601 instants.",
    "from": WhenField(required=False),
    "to": WhenField(required=False),
    "channel": None,  # not the API's: the gateway hides its channels from its users
    "clean": _api_clean,  # a reversed from/to is a 400 in words, as a reversed day range is
})


def range_params(data: Mapping, *, today: dt.date) -> dict:
    """date_from, date_to, model, token_name of a cleaned RangeFilterForm."""
    first, last = range_dates(data.get("range") or None, today,
                              date_from=data.get("date_from"), date_to=data.get("date_to"))
    return {"date_from": first, "date_to": last, "model": data.get("model") or None,
            "token_name": data.get("token_name") or None}


def call_params(data: Mapping, *, today: dt.date | None = None, tz=None) -> dict:
    """The keyword arguments of `calls_filter` for a cleaned CallFilterForm (or ApiCallFilterForm)."""
    tz = tz or billing_tz()
    out = range_params(data, today=today or dt.datetime.now(tz).date())
    for name, end in (("from", "from"), ("to", "to")):
        when = data.get(name)
        if when:
            kind, value = when
            out[f"{kind}_{end}"] = value
    out.update({
        "categories": list(data.get("category") or []),
        "failed": bool(data.get("failed")),
        "http_status": data.get("http_status"),
        "request_id": data.get("request_id") or None,
        "tz": tz,
    })
    if data.get("channel") is not None:
        out["channel_id"] = data["channel"]
    return out


def errors_text(form: forms.Form) -> str:
    """A form's errors in one line, each after the name of its parameter."""
    return "; ".join(f"{name}: {' '.join(errs)}" if name != "__all__" else " ".join(errs)
                     for name, errs in form.errors.items())


FILTER_FIELDS = ("model", "category", "failed", "token_name", "http_status", "request_id", "channel")


def filters_json(data: Mapping) -> dict:
    """The call filters (not the range) of a cleaned CallFilterForm, JSON-ready, empty ones left out."""
    return {name: data[name] for name in FILTER_FIELDS if data.get(name) not in (None, "", [], False)}


def call_filters_json(params: Mapping) -> dict:
    """The call filters of a request's parameters (or a dict), JSON-ready, empty ones left out.

    What an export job stores. Raises ValidationError naming the parameter and the reason.
    """
    form = CallFilterForm(params)
    if not form.is_valid():
        raise ValidationError(errors_text(form))
    return filters_json(form.cleaned_data)
