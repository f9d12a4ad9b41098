"""Bearer tokens of the HTTP API: made, revoked and marked used here; only a hash is stored."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db.models import Q, QuerySet
from django.utils import timezone

from logs.models import ApiToken, Customer
from nbaudit.db import write_unless_busy

PREFIX = "nba_"
# last_used_at is written at most this often per token, so that reads do not queue for the
# write lock (SQLite has one per database) behind an ingest.
USED_AT_EVERY = dt.timedelta(seconds=60)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def apitoken_create(*, customer: Customer | None, name: str = "", created_by=None,
                    read_only: bool = False) -> tuple[ApiToken, str]:
    """A new token; the raw value is returned once and never stored.

    `read_only`: GET only (what a customer's user makes for its programs); a gateway token
    (no customer) is never read-only, since pushing calls is what it is for.
    """
    if customer is None and read_only:
        raise ValueError("a gateway token pushes calls: it cannot be read-only")
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(customer=customer, name=name, prefix=raw[:12], key_hash=token_hash(raw),
                                    created_by=created_by, read_only=read_only)
    return token, raw


def apitoken_revoke(*, raw_or_prefix: str | None = None, tokens: QuerySet | None = None) -> int:
    """Revoke by the raw token or its printed prefix (the command), or the live ones of `tokens`
    (the admin's action). Returns how many were revoked."""
    if (raw_or_prefix is None) == (tokens is None):
        raise TypeError("give raw_or_prefix or tokens")
    if tokens is not None:
        hit = tokens.filter(revoked_at__isnull=True)
    else:
        qs = ApiToken.objects.filter(revoked_at__isnull=True)
        hit = qs.filter(key_hash=token_hash(raw_or_prefix))
        if not hit.exists() and len(raw_or_prefix) >= 8:
            hit = qs.filter(prefix=raw_or_prefix[:12])
    return hit.update(revoked_at=timezone.now())


def apitoken_mark_used(*, token: ApiToken, now: dt.datetime | None = None) -> bool:
    """Record that `token` was used now, at most once a minute: no write at all when the loaded
    token was marked less than a minute ago, else one conditional UPDATE (two requests at once
    write once). On SQLite the UPDATE is skipped while another process holds the write lock (an
    ingest): a read never waits for it, and the next request after the lock is free records
    it. Returns whether it wrote."""
    now = now or timezone.now()
    if token.last_used_at is not None and token.last_used_at >= now - USED_AT_EVERY:
        return False
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - USED_AT_EVERY)
    written = bool(write_unless_busy(
        lambda: ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now)))
    if written:
        token.last_used_at = now
    return written
