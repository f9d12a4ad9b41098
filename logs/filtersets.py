"""The filters of the Logs page and the Overview: django-filter FilterSets.

The FilterSet is the query: `CallFilterSet` turns its form into the arguments of the
shared `logs.selectors.calls_filter` (so the page, the read API and exports cannot
disagree), and `RollupFilterSet` narrows hourly rollups the same way for the charts.
`selector_params()` gives those arguments to whoever needs them (the export button).
"""
from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.db.models import QuerySet

from logs.choices import Category, Family
from logs.models import Call, HourlyRollup
from logs.scoping import is_staff
from logs.selectors.calls import calls_filter
from logs.timeutil import day_start

RANGE_TODAY = "today"
RANGE_7D = "7d"
RANGE_30D = "30d"
RANGE_THIS_MONTH = "this_month"
RANGE_LAST_MONTH = "last_month"
RANGE_CUSTOM = "custom"
RANGE_CHOICES = [
    (RANGE_TODAY, "Today"),
    (RANGE_7D, "Last 7 days"),
    (RANGE_30D, "Last 30 days"),
    (RANGE_THIS_MONTH, "This month"),
    (RANGE_LAST_MONTH, "Last month"),
    (RANGE_CUSTOM, "Custom"),
]


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


def _noop(queryset, name, value):
    return queryset


class RangeFilterMixin(django_filters.FilterSet):
    """Time range presets, days cut in the page's time zone."""

    range = django_filters.ChoiceFilter(choices=RANGE_CHOICES, empty_label="Any time",
                                        method=_noop, label="Time range")
    date_from = django_filters.DateFilter(method=_noop, label="From",
                                          widget=forms.DateInput(attrs={"type": "date"}))
    date_to = django_filters.DateFilter(method=_noop, label="To (included)",
                                        widget=forms.DateInput(attrs={"type": "date"}))
    model = django_filters.CharFilter(method=_noop, label="Model")
    token_name = django_filters.CharFilter(method=_noop, label="API key")

    default_range: str | None = None

    def __init__(self, data=None, queryset=None, *, request=None, tz=None, today=None,
                 models=(), tokens=(), **kw):
        if data is not None and self.default_range and "range" not in data:
            data = data.copy()
            data["range"] = self.default_range
        super().__init__(data, queryset, request=request, **kw)
        self.tz = tz
        self.today = today or dt.datetime.now(tz or dt.timezone.utc).date()
        self._set_choices("model", [("", "Any model")]
                          + [("Families", [(f.value, f.label) for f in Family])]
                          + ([("Models", [(m, m) for m in models])] if models else []))
        self._set_choices("token_name", [("", "Any key")] + [(t, t) for t in tokens])

    def _set_choices(self, name, choices):
        current = self.data.get(name) if self.data else None
        flat = {v for v, label in choices if not isinstance(label, list)}
        flat |= {v for _g, opts in choices if isinstance(opts, list) for v, _l in opts}
        if current and current not in flat:
            choices = choices + [(current, current)]
        self.filters[name].field.widget = forms.Select(choices=choices)

    def clean_range(self) -> tuple[dt.date | None, dt.date | None]:
        data = self.form.cleaned_data
        first, last = range_dates(data.get("range") or None, self.today,
                                  date_from=data.get("date_from"), date_to=data.get("date_to"))
        return first, last

    @property
    def days(self) -> tuple[dt.date | None, dt.date | None]:
        """The chosen first and last day (None: open)."""
        if not self.is_bound or not self.form.is_valid():
            return None, None
        return self.clean_range()

    def filter_queryset(self, queryset):
        if not self.form.is_valid():
            return queryset.none()
        return self.apply(queryset)

    def apply(self, queryset):  # pragma: no cover - overridden
        raise NotImplementedError


class CallFilterSet(RangeFilterMixin):
    """The Logs page's filters, applied through `calls_filter`."""

    category = django_filters.MultipleChoiceFilter(
        choices=Category.choices, method=_noop, label="Category",
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    failed = django_filters.BooleanFilter(method=_noop, label="Failed only",
                                          widget=forms.CheckboxInput)
    http_status = django_filters.NumberFilter(method=_noop, label="HTTP status",
                                              widget=forms.NumberInput(attrs={"min": 0, "max": 999,
                                                                              "style": "width:6em"}))
    request_id = django_filters.CharFilter(method=_noop, label="Request ID")
    # The gateway's upstream channel: staff only (the gateway hides channels from its users too).
    channel = django_filters.NumberFilter(method=_noop, label="Channel",
                                          widget=forms.NumberInput(attrs={"min": 0, "style": "width:5em"}))

    class Meta:
        model = Call
        fields: list[str] = []

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        if not is_staff(getattr(self.request, "user", None)):
            del self.filters["channel"]

    def selector_params(self) -> dict:
        """The keyword arguments of `logs.selectors.calls_filter` for this form."""
        if not self.is_bound or not self.form.is_valid():
            return {}
        data = self.form.cleaned_data
        first, last = self.clean_range()
        status = data.get("http_status")
        return {
            "date_from": first,
            "date_to": last,
            "model": data.get("model") or None,
            "categories": list(data.get("category") or []),
            "failed": bool(data.get("failed")),
            "token_name": data.get("token_name") or None,
            "http_status": int(status) if status is not None else None,
            "request_id": (data.get("request_id") or "").strip() or None,
            **({"channel_id": int(data["channel"])} if data.get("channel") is not None else {}),
            "tz": self.tz,
        }

    def apply(self, queryset: QuerySet) -> QuerySet:
        return calls_filter(queryset, **self.selector_params())


class RollupFilterSet(RangeFilterMixin):
    """The Overview's filters (range, model, key) over hourly rollups."""

    default_range = RANGE_30D

    class Meta:
        model = HourlyRollup
        fields: list[str] = []

    def apply(self, queryset: QuerySet) -> QuerySet:
        data = self.form.cleaned_data
        first, last = self.clean_range()
        if first:
            queryset = queryset.filter(hour__gte=day_start(first, self.tz))
        if last:
            queryset = queryset.filter(hour__lt=day_start(last + dt.timedelta(days=1), self.tz))
        model = data.get("model")
        if model:
            queryset = (queryset.filter(family=model) if model in Family.values
                        else queryset.filter(model=model))
        if data.get("token_name"):
            queryset = queryset.filter(token_name=data["token_name"])
        return queryset
