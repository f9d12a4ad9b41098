"""Forms of the API tokens page: what a new token is for; the rules are in logs.services.tokens."""
from __future__ import annotations

from django import forms

GATEWAY = "__gateway__"


class TokenCreateForm(forms.Form):
    """A customer's user: a name (the token is a read token of its own customer)."""

    name = forms.CharField(max_length=100, label="Name", help_text="What uses it, e.g. \"nightly report\".")


class StaffTokenCreateForm(TokenCreateForm):
    """Staff: the gateway's push token, or a customer's token (push and read, or read only)."""

    KINDS = (("push", "Push and read"), ("read", "Read only"))
    owner = forms.ChoiceField(label="For", choices=())
    kind = forms.ChoiceField(label="Access", choices=KINDS, initial="push",
                             help_text="A gateway token always pushes (any customer's calls) and reads.")

    def __init__(self, *args, customers=(), **kw):
        super().__init__(*args, **kw)
        self.fields["owner"].choices = [(GATEWAY, "The gateway (every customer)")] + [
            (c.slug, c.display_name) for c in customers]
        self.order_fields(["owner", "kind", "name"])

    def clean(self):
        data = super().clean()
        if data.get("owner") == GATEWAY and data.get("kind") == "read":
            self.add_error("kind", "A gateway token pushes calls: make a customer's token to read only.")
        return data
