"""The Gateways page's one form: an action on a source."""
from django import forms
from django.utils.translation import gettext_lazy as _

ACTIONS = (("sync", _("Sync now")), ("pause", _("Pause")), ("resume", _("Resume")))


class SourceActionForm(forms.Form):
    action = forms.ChoiceField(choices=ACTIONS)
