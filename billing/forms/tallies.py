"""Forms of billing: how the staff steps of a tally look; the rules are in billing.services.tally."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from logs.models import Customer
from logs.timeutil import parse_month


class MonthField(forms.CharField):
    """`YYYY-MM` -> the first day of that month."""

    def __init__(self, **kw):
        kw.setdefault("max_length", 7)
        kw.setdefault("widget", forms.TextInput(attrs={"placeholder": "YYYY-MM", "size": 8}))
        super().__init__(**kw)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        try:
            return parse_month(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


class TallyComputeForm(forms.Form):
    month = MonthField(label=_("Month"))
    customer = forms.ModelChoiceField(queryset=Customer.objects.order_by("slug"), required=False,
                                      to_field_name="slug", empty_label=_("every enrolled customer"),
                                      label=_("Customer"))


class TallyApproveForm(forms.Form):
    amount = forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=2,
                                label=_("Adjusted amount (US$)"), help_text=_("Empty: the computed credit."))
    reason = forms.CharField(required=False, max_length=300, label=_("Reason"),
                             help_text=_("Required when the amount is adjusted."))


class TallyRejectForm(forms.Form):
    reason = forms.CharField(max_length=300, label=_("Reason"))


class TallyCreditedForm(forms.Form):
    reference = forms.CharField(max_length=200, label=_("Reference"), help_text=_("The top-up or redemption code."))


class TallyCallActionForm(forms.Form):
    ACTIONS = (("exclude", _("Exclude")), ("include", _("Re-include")))
    request_id = forms.CharField(max_length=200, label=_("Request ID"))
    action = forms.ChoiceField(choices=ACTIONS, label=_("Action"))
    reason = forms.CharField(max_length=300, label=_("Reason"))


class QuestionForm(forms.Form):
    KINDS = (("question", _("A question")), ("dispute", _("A dispute (I think the figures are wrong)")))
    kind = forms.ChoiceField(choices=KINDS, initial="question", label=_("What is it"))
    text = forms.CharField(max_length=2000, label=_("Message"), widget=forms.Textarea(attrs={"rows": 3}))


class ReplyForm(forms.Form):
    text = forms.CharField(max_length=2000, label=_("Reply"), widget=forms.Textarea(attrs={"rows": 2}))
    close = forms.BooleanField(required=False, label=_("Close the question with this answer"))
