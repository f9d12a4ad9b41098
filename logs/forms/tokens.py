"""Forms of the API tokens page: what a new token is for; the rules are in logs.services.tokens."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _, gettext_lazy

GATEWAY = "__gateway__"


class TokenCreateForm(forms.Form):
    """A customer's user: a name (the token is a read token of its own customer)."""

    name = forms.CharField(max_length=100, label=gettext_lazy("Name"),
                           help_text=gettext_lazy("What uses it, e.g. \"nightly report\"."))


class StaffTokenCreateForm(TokenCreateForm):
    """Staff: the gateway's push token, or a customer's token (push and read, or read only)."""

    KINDS = (("push", gettext_lazy("Push and read")), ("read", gettext_lazy("Read only")))
    owner = forms.ChoiceField(label=gettext_lazy("For"), choices=())
    kind = forms.ChoiceField(label=gettext_lazy("Access"), choices=KINDS, initial="push",
                             help_text=gettext_lazy("A gateway token always pushes (any customer's calls) and reads."))

    def __init__(self, *args, customers=(), **kw):
        super().__init__(*args, **kw)
        self.fields["owner"].choices = [(GATEWAY, gettext_lazy("The gateway (every customer)"))] + [
            (c.slug, c.display_name) for c in customers]
        self.order_fields(["owner", "kind", "name"])

    def clean(self):
        data = super().clean()
        if data.get("owner") == GATEWAY and data.get("kind") == "read":
            self.add_error("kind", _("A gateway token pushes calls: make a customer's token to read only."))
        return data
