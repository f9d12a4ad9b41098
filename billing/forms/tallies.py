"""Forms of billing: how the staff steps of a tally look; the rules are in billing.services.tally."""
from __future__ import annotations

from django import forms

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
    month = MonthField(label="Month")
    customer = forms.ModelChoiceField(queryset=Customer.objects.order_by("slug"), required=False,
                                      to_field_name="slug", empty_label="every enrolled customer")


class TallyApproveForm(forms.Form):
    amount = forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=2,
                                label="Adjusted amount (US$)", help_text="Empty: the computed credit.")
    reason = forms.CharField(required=False, max_length=300, label="Reason",
                             help_text="Required when the amount is adjusted.")


class TallyRejectForm(forms.Form):
    reason = forms.CharField(max_length=300, label="Reason")


class TallyCreditedForm(forms.Form):
    reference = forms.CharField(max_length=200, label="Reference", help_text="The top-up or redemption code.")


class TallyCallActionForm(forms.Form):
    ACTIONS = (("exclude", "Exclude"), ("include", "Re-include"))
    request_id = forms.CharField(max_length=200, label="Request ID")
    action = forms.ChoiceField(choices=ACTIONS)
    reason = forms.CharField(max_length=300, label="Reason")


class QuestionForm(forms.Form):
    KINDS = (("question", "A question"), ("dispute", "A dispute (I think the figures are wrong)"))
    kind = forms.ChoiceField(choices=KINDS, initial="question", label="What is it")
    text = forms.CharField(max_length=2000, label="Message", widget=forms.Textarea(attrs={"rows": 3}))


class ReplyForm(forms.Form):
    text = forms.CharField(max_length=2000, label="Reply", widget=forms.Textarea(attrs={"rows": 2}))
    close = forms.BooleanField(required=False, label="Close the question with this answer")
