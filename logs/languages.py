"""The two languages of nbaudit (settings.LANGUAGES) as codes: what a user, an export job or an
email is written in. Pages pick theirs in the middleware (logs.middleware.UserLanguageMiddleware)."""
from __future__ import annotations

from django.conf import settings
from django.utils import translation

ENGLISH, CHINESE = "en", "zh-hans"


def language_code(value: str | None, default: str = ENGLISH) -> str:
    """One of settings.LANGUAGES for `value` (zh, zh-CN, zh_Hans, en-us ...), else `default`."""
    if not value:
        return default
    try:
        code = translation.get_supported_language_variant(str(value).replace("_", "-").lower())
    except LookupError:
        return default
    return code if code in dict(settings.LANGUAGES) else default


def language_for(user=None) -> str:
    """A user's own language, else the active one (the request's), else English."""
    own = getattr(user, "language", "") if user is not None else ""
    return language_code(own or translation.get_language())


def language_of(users) -> str:
    """The language to write to these people in: the one most of them chose, else English."""
    chosen = [language_code(u.language) for u in users if u is not None and getattr(u, "language", "")]
    return max(sorted(set(chosen)), key=chosen.count) if chosen else ENGLISH
