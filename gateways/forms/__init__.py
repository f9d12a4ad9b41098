"""The Gateways page's one form: an action on a source."""
from django import forms

ACTIONS = (("sync", "Sync now"), ("pause", "Pause"), ("resume", "Resume"))


class SourceActionForm(forms.Form):
    action = forms.ChoiceField(choices=ACTIONS)
