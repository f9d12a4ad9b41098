"""Reads of API tokens: what a user may see and revoke (tenancy as everywhere: another
customer's token is a 404)."""
from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from logs.models import ApiToken
from logs.scoping import is_staff


def tokens_visible(user) -> QuerySet:
    """Staff: every token (gateway and customers'); a customer's user: its customer's tokens."""
    qs = ApiToken.objects.select_related("customer", "created_by").order_by("revoked_at", "-created_at", "-id")
    if is_staff(user):
        return qs
    if not user.is_authenticated or not user.customer_id:
        return qs.none()
    return qs.filter(customer_id=user.customer_id)


def token_revocable_get(user, pk: int) -> ApiToken:
    """A live token the user may revoke: staff any; a customer's user its customer's read tokens
    (a push token feeds the customer's data in: staff revoke those). Else a 404."""
    qs = tokens_visible(user).filter(revoked_at__isnull=True)
    if not is_staff(user):
        qs = qs.filter(read_only=True)
    return get_object_or_404(qs, pk=pk)


def token_can_revoke(user, token: ApiToken) -> bool:
    return token.revoked_at is None and (is_staff(user) or token.read_only)
