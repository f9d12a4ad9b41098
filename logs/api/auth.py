"""Who is calling the HTTP API: the live bearer token of the request (tokens: logs.services.tokens)."""
from __future__ import annotations

from logs.models import ApiToken
from logs.services.tokens import apitoken_mark_used, token_hash


def apitoken_authenticate(request) -> ApiToken | None:
    """The live token of `Authorization: Bearer <token>`, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return None
    token = (ApiToken.objects.select_related("customer")
             .filter(key_hash=token_hash(raw.strip()), revoked_at__isnull=True).first())
    if token is not None:
        apitoken_mark_used(token=token)
    return token
