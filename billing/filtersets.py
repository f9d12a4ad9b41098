"""FilterSets of billing: the query of each list; the form is only how it looks."""
from __future__ import annotations

import django_filters
from django import forms

from billing.choices import ReconCategory, TallyCallStatus, TallyStatus
from billing.forms.tallies import MonthField
from billing.models import ReconciliationItem, Tally, TallyCall
from billing.selectors import open_questions_q, tallies_overdue_q
from logs.choices import Category
from logs.scoping import visible_customers

DIFFERENCES = [c for c in ReconCategory.values if c != ReconCategory.MATCH]


class MonthFilter(django_filters.Filter):
    """A billing month, YYYY-MM (a text that is not one is the form's error, in words)."""

    field_class = MonthField


class AnyYesNo(forms.NullBooleanSelect):
    """Any, Yes, No (Django's says "Unknown" for no choice)."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = [("unknown", "Any"), ("true", "Yes"), ("false", "No")]


class TallyFilterSet(django_filters.FilterSet):
    month = MonthFilter(field_name="month", label="Month", max_length=None)
    customer = django_filters.ModelChoiceFilter(queryset=None, to_field_name="slug", label="Customer",
                                                empty_label="All customers")
    status = django_filters.ChoiceFilter(choices=TallyStatus.choices, empty_label="Any status")
    eligible = django_filters.BooleanFilter(label="Eligible", widget=AnyYesNo)
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Overdue",
                                           widget=forms.CheckboxInput)
    open_question = django_filters.BooleanFilter(method="filter_open_question", label="Has open question",
                                                 widget=forms.CheckboxInput)

    class Meta:
        model = Tally
        fields = ["month", "customer", "status", "eligible", "overdue", "open_question"]

    def __init__(self, *args, request=None, **kw):
        super().__init__(*args, request=request, **kw)
        user = request.user if request is not None else None
        self.filters["customer"].queryset = visible_customers(user)
        if user is None or not user.is_staff:
            self.filters.pop("customer")

    def filter_queryset(self, queryset):
        # A filter that does not parse shows its error and lists nothing (not everything).
        return super().filter_queryset(queryset) if self.form.is_valid() else queryset.none()

    def filter_overdue(self, qs, name, value):
        return qs.filter(tallies_overdue_q()) if value else qs

    def filter_open_question(self, qs, name, value):
        return qs.filter(open_questions_q()) if value else qs


class TallyCallFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=TallyCallStatus.choices, empty_label="Any status")
    category = django_filters.ChoiceFilter(choices=[(c.value, c.label) for c in Category],
                                           empty_label="Any category")
    request_id = django_filters.CharFilter(label="Request ID")

    class Meta:
        model = TallyCall
        fields = ["status", "category", "request_id"]


class ItemFilterSet(django_filters.FilterSet):
    category = django_filters.MultipleChoiceFilter(
        choices=ReconCategory.choices, widget=forms.SelectMultiple,
        help_text="Empty: every difference (matches left out).")
    request_id = django_filters.CharFilter(label="Request ID")

    class Meta:
        model = ReconciliationItem
        fields = ["category", "request_id"]

    @property
    def qs(self):
        qs = super().qs
        if not self.form.is_valid() or not self.form.cleaned_data.get("category"):
            if not (self.form.is_valid() and self.form.cleaned_data.get("request_id")):
                qs = qs.filter(category__in=DIFFERENCES)
        return qs
