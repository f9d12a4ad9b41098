"""Model families (billing.md): aliases map to a family; the name as sent is kept."""
from __future__ import annotations

import re
from functools import lru_cache

from logs.choices import Family

_ALIASES = {
    "gemini-3-pro-image": Family.PRO,
    "gemini-3-pro-image-preview": Family.PRO,
    "gemini-3.1-flash-image": Family.NB2,
    "gemini-3.1-flash-image-preview": Family.NB2,
    "gemini-3.1-flash-lite-image": Family.NB2_LITE,
    "gemini-3.1-flash-lite-image-preview": Family.NB2_LITE,
    "gemini-2.5-flash-image": Family.LEGACY,
    "gemini-2.5-flash-image-preview": Family.LEGACY,
}
# Longest first, so "gemini-3-pro-image-preview-xyz" matches the preview alias before the base one.
_BY_LENGTH = sorted(_ALIASES, key=len, reverse=True)

# Output tokens per image: below this, a consume row of a log export is a text refusal.
REFUSAL_THRESHOLD_DEFAULT = 1000
REFUSAL_THRESHOLDS = {Family.NB2: 700, Family.NB2_LITE: 700}

# Output tokens per image by size (taxonomy.md, "Images and tokens"); "1K" where unknown.
IMAGE_TOKENS = {
    Family.PRO: {"512": 1120, "1K": 1120, "2K": 1120, "4K": 2000},
    Family.NB2: {"512": 747, "1K": 1120, "2K": 1680, "4K": 2520},
    Family.NB2_LITE: {"512": 747, "1K": 1120, "2K": 1680, "4K": 2520},
    Family.LEGACY: {"512": 1290, "1K": 1290, "2K": 1290, "4K": 1290},
}


@lru_cache(maxsize=4096)
def family_of(model: str | None) -> str | None:
    """The family code of a model name as sent, or None for an unknown model.

    Accepts a `models/` (or any path) prefix and a suffix after the ID (a gateway group
    suffix such as `-vip` or `:premium`).
    """
    if not model:
        return None
    name = model.strip().lower().rsplit("/", 1)[-1]
    if name in _ALIASES:
        return str(_ALIASES[name])
    for alias in _BY_LENGTH:
        if name.startswith(alias) and not re.match(r"[a-z0-9.]", name[len(alias):len(alias) + 1] or "-"):
            return str(_ALIASES[alias])
    return None


def is_image_model(model: str | None) -> bool:
    """Rules 2 to 8 apply to the known families and any model whose name contains `image`."""
    if not model:
        return False
    return family_of(model) is not None or "image" in model.lower()


def refusal_threshold(family: str | None) -> int:
    from django.conf import settings

    overrides = getattr(settings, "NBAUDIT_REFUSAL_THRESHOLDS", {}) or {}
    if family in overrides:
        return int(overrides[family])
    return REFUSAL_THRESHOLDS.get(family, REFUSAL_THRESHOLD_DEFAULT)


def image_tokens_for(family: str | None, image_size: str | None) -> int | None:
    table = IMAGE_TOKENS.get(family)
    if not table:
        return None
    return table.get((image_size or "").strip().upper().replace("PX", "") or "1K", table["1K"])
