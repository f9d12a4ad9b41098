"""Credentials of a gateway source: encrypted at rest, or named in the environment; never shown whole.

A stored value is either `env:NAME` (read from the environment variable NAME when used, so the
secret never enters the database) or `enc:<Fernet token>` (encrypted with a key derived from
NBAUDIT_SECRETS_KEY, else the Django SECRET_KEY).
"""
from __future__ import annotations

import base64
import hashlib
import os
import re
from urllib.parse import urlsplit, urlunsplit

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

ENV_PREFIX = "env:"
ENC_PREFIX = "enc:"


class SecretError(Exception):
    """A secret cannot be read (a missing environment variable, a changed key)."""


def _fernet() -> Fernet:
    key = os.environ.get("NBAUDIT_SECRETS_KEY") or settings.SECRET_KEY
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(f"nbaudit-gateways:{key}".encode()).digest()))


def secret_store(value: str) -> str:
    """What to keep in the database for `value` (`env:NAME` stays a reference)."""
    value = (value or "").strip()
    if not value or value.startswith(ENV_PREFIX):
        return value
    return ENC_PREFIX + _fernet().encrypt(value.encode()).decode()


def secret_read(stored: str) -> str:
    """The secret itself, for the connection only."""
    if not stored:
        return ""
    if stored.startswith(ENV_PREFIX):
        name = stored[len(ENV_PREFIX):]
        value = os.environ.get(name)
        if not value:
            raise SecretError(f"the environment variable {name} is not set")
        return value
    if stored.startswith(ENC_PREFIX):
        try:
            return _fernet().decrypt(stored[len(ENC_PREFIX):].encode()).decode()
        except InvalidToken:
            raise SecretError("the stored credential cannot be decrypted (was the secret key changed?): "
                              "give it again with `gateway add`") from None
    return stored


def dsn_masked(dsn: str) -> str:
    """A DSN with its password replaced by ****."""
    if not dsn:
        return ""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    netloc = parts.netloc.rsplit("@", 1)
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:****@{netloc[-1]}"))


def token_masked(token: str) -> str:
    """An access token as `****` and its last four characters."""
    if not token:
        return ""
    return "****" + token[-4:] if len(token) > 8 else "****"


def secret_shown(stored: str, *, kind: str) -> str:
    """How staff see a stored secret: the environment variable's name, or the masked value."""
    if not stored:
        return ""
    if stored.startswith(ENV_PREFIX):
        return f"from ${stored[len(ENV_PREFIX):]}"
    try:
        value = secret_read(stored)
    except SecretError as exc:
        return f"unreadable ({exc})"
    return dsn_masked(value) if kind == "dsn" else token_masked(value)


def scrub(text: str, *secrets: str) -> str:
    """`text` with every secret (and any password in a URL) replaced by ****."""
    for s in secrets:
        if s and len(s) >= 4:
            text = text.replace(s, "****")
    return re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1****@", text)
