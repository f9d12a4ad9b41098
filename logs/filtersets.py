"""The filters of the Logs page and the Overview: django-filter FilterSets over one schema.

The fields and their rules are `logs.filters` (the same schema parses the read API's and
the exports' filters); a FilterSet here only binds it to a page: the page's time zone and
today, the model and key lists, and the query (`calls_filter` for calls, `rollups_filter`
for the Overview's rollups, which narrow days, model and key the same way).
`selector_params()` gives the arguments to whoever needs them (the export button).
"""
from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext

from logs.choices import Family
from logs.families import family_of
from logs.filters import (  # noqa: F401  (the range presets, for forms that offer them)
    RANGE_7D,
    RANGE_30D,
    RANGE_CHOICES,
    RANGE_CUSTOM,
    RANGE_LAST_MONTH,
    RANGE_THIS_MONTH,
    RANGE_TODAY,
    CallFilterForm,
    RangeFilterForm,
    call_params,
    range_dates,
    range_params,
)
from logs.models import Call, HourlyRollup
from logs.scoping import is_staff
from logs.selectors.calls import calls_filter
from logs.selectors.rollups import overview_table, rollups_filter


def model_choices(models) -> list:
    """The model filter's choices: each family by its name, its whole family first and the raw
    model IDs seen beneath it (an <optgroup> per family); IDs of no known family last."""
    by_family: dict[str, list[str]] = {f.value: [] for f in Family}
    other = []
    for m in models:
        fam = family_of(m)
        (by_family[fam] if fam in by_family else other).append(m)
    every = gettext("%(family)s: every model")
    groups = [(f.label, [(f.value, every % {"family": f.label}), *[(m, m) for m in by_family[f.value]]])
              for f in Family]
    if other:
        groups.append((gettext("Other models"), [(m, m) for m in other]))
    return [("", gettext("Any model")), *groups]


class RangeFilterMixin(django_filters.FilterSet):
    """Time range presets, days cut in the page's time zone; model and key lists to choose from."""

    default_range: str | None = None

    def __init__(self, data=None, queryset=None, *, request=None, tz=None, today=None,
                 models=(), tokens=(), **kw):
        if data is not None and self.default_range and "range" not in data:
            data = data.copy()
            data["range"] = self.default_range
        super().__init__(data, queryset, request=request, **kw)
        self.tz = tz
        self.today = today or dt.datetime.now(tz or dt.timezone.utc).date()
        self._set_choices("model", model_choices(models))
        self._set_choices("token_name", [("", gettext("Any key"))] + [(t, t) for t in tokens])

    def _set_choices(self, name, choices):
        current = self.data.get(name) if self.data else None
        flat = {v for v, label in choices if not isinstance(label, list)}
        flat |= {v for _g, opts in choices if isinstance(opts, list) for v, _l in opts}
        if current and current not in flat:
            choices = choices + [(current, current)]
        self.form.fields[name].widget = forms.Select(choices=choices)

    def clean_range(self) -> tuple[dt.date | None, dt.date | None]:
        params = range_params(self.form.cleaned_data, today=self.today)
        return params["date_from"], params["date_to"]

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

    class Meta:
        model = Call
        fields: list[str] = []
        form = CallFilterForm

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        # The gateway's upstream channel: staff only (the gateway hides channels from its users too).
        if not is_staff(getattr(self.request, "user", None)):
            del self.form.fields["channel"]
        # A request ID finds the calls whose ID starts with it (logs.selectors.calls.request_id_prefix).
        self.form.fields["request_id"].widget.attrs.update(
            placeholder=gettext("an ID or its start"), title=gettext("Calls whose request ID starts with this"))

    def selector_params(self) -> dict:
        """The keyword arguments of `logs.selectors.calls_filter` for this form."""
        if not self.is_bound or not self.form.is_valid():
            return {}
        return call_params(self.form.cleaned_data, today=self.today, tz=self.tz)

    def apply(self, queryset: QuerySet) -> QuerySet:
        return calls_filter(queryset, **self.selector_params())


class RollupFilterSet(RangeFilterMixin):
    """The Overview's filters (range, model, key) over hourly rollups."""

    default_range = RANGE_30D

    class Meta:
        model = HourlyRollup
        fields: list[str] = []
        form = RangeFilterForm

    def apply(self, queryset: QuerySet) -> QuerySet:
        return rollups_filter(queryset, **range_params(self.form.cleaned_data, today=self.today),
                              tz=self.tz)

    def rollup_model(self):
        """The rollups these filters read (`overview_table`): the coarse ones unless an exact
        model or an API key is chosen (an invalid form reads none: either will do)."""
        if not self.is_bound or not self.form.is_valid():
            return overview_table()
        params = range_params(self.form.cleaned_data, today=self.today)
        return overview_table(model=params["model"], token_name=params["token_name"])
