"""FilterSets of billing: the query of each list; the form is only how it looks."""
from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

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
        self.choices = [("unknown", _("Any")), ("true", _("Yes")), ("false", _("No"))]


class TallyFilterSet(django_filters.FilterSet):
    month = MonthFilter(field_name="month", label=_("Month"), max_length=None)
    customer = django_filters.ModelChoiceFilter(queryset=None, to_field_name="slug", label=_("Customer"),
                                                empty_label=_("All customers"))
    status = django_filters.ChoiceFilter(choices=TallyStatus.choices, empty_label=_("Any status"), label=_("Status"))
    eligible = django_filters.BooleanFilter(label=_("Eligible"), widget=AnyYesNo)
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Overdue"),
                                           widget=forms.CheckboxInput)
    open_question = django_filters.BooleanFilter(method="filter_open_question", label=_("Has open question"),
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
    status = django_filters.ChoiceFilter(choices=TallyCallStatus.choices, empty_label=_("Any status"),
                                         label=_("Status"))
    category = django_filters.ChoiceFilter(choices=[(c.value, c.label) for c in Category],
                                           empty_label=_("Any category"), label=_("Category"))
    request_id = django_filters.CharFilter(label=_("Request ID"))

    class Meta:
        model = TallyCall
        fields = ["status", "category", "request_id"]


class ItemFilterSet(django_filters.FilterSet):
    category = django_filters.MultipleChoiceFilter(
        choices=ReconCategory.choices, widget=forms.SelectMultiple, label=_("Category"),
        help_text=_("Empty: every difference (matches left out)."))
    request_id = django_filters.CharFilter(label=_("Request ID"))

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
