"""Bearer tokens for the HTTP API: per customer or gateway-wide; only a hash is stored."""
from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone

from logs.models import ApiToken, Customer

PREFIX = "nba_"


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def apitoken_create(*, customer: Customer | None, name: str = "", created_by=None) -> tuple[ApiToken, str]:
    """A new token; the raw value is returned once and never stored."""
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(customer=customer, name=name, prefix=raw[:12], key_hash=_hash(raw),
                                    created_by=created_by)
    return token, raw


def apitoken_revoke(*, raw_or_prefix: str) -> int:
    """Revoke by the raw token or its printed prefix. Returns how many were revoked."""
    qs = ApiToken.objects.filter(revoked_at__isnull=True)
    hit = qs.filter(key_hash=_hash(raw_or_prefix))
    if not hit.exists() and len(raw_or_prefix) >= 8:
        hit = qs.filter(prefix=raw_or_prefix[:12])
    return hit.update(revoked_at=timezone.now())


def apitoken_authenticate(request) -> ApiToken | None:
    """The live token of `Authorization: Bearer <token>`, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return None
    token = (ApiToken.objects.select_related("customer")
             .filter(key_hash=_hash(raw.strip()), revoked_at__isnull=True).first())
    if token is not None:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token
