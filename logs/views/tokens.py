"""API tokens: staff make and revoke the gateway's and customers' tokens; a customer's user makes
and revokes its own read tokens. A new token's value is shown once, on the page right after it
is made (kept in the session for that one page), and never again: only its hash is stored."""
from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from logs.forms.tokens import GATEWAY, StaffTokenCreateForm, TokenCreateForm
from logs.scoping import is_staff, visible_customers
from logs.selectors.tokens import token_can_revoke, token_revocable_get, tokens_visible
from logs.services.tokens import apitoken_create, apitoken_revoke

SHOWN_ONCE = "nbaudit_new_token"


def _form(request, data=None):
    if is_staff(request.user):
        return StaffTokenCreateForm(data, customers=visible_customers(request.user).order_by("slug"))
    return TokenCreateForm(data)


def tokens(request):
    staff = is_staff(request.user)
    if not staff and not request.user.customer_id:
        form = None
    else:
        form = _form(request)
    if request.method == "POST" and form is not None:
        form = _form(request, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            if staff:
                owner = data["owner"]
                customer = None if owner == GATEWAY else visible_customers(request.user).get(slug=owner)
                read_only = data["kind"] == "read"
            else:
                customer, read_only = request.user.customer, True
            token, raw = apitoken_create(customer=customer, name=data["name"], created_by=request.user,
                                         read_only=read_only)
            request.session[SHOWN_ONCE] = {"id": token.pk, "raw": raw}
            return redirect("logs:tokens")
    new = request.session.pop(SHOWN_ONCE, None)
    rows = [(t, token_can_revoke(request.user, t)) for t in tokens_visible(request.user)[:500]]
    return render(request, "logs/tokens.html", {"form": form, "rows": rows, "new": new, "staff": staff},
                  status=400 if form is not None and form.is_bound and not form.is_valid() else 200)


@require_POST
def token_revoke(request, pk: int):
    token = token_revocable_get(request.user, pk)
    apitoken_revoke(tokens=type(token).objects.filter(pk=token.pk))
    messages.success(request, _("Token %(prefix)s… revoked: programs using it now get 401.") % {"prefix": token.prefix})
    return redirect("logs:tokens")
