"""The prompt fingerprint of the repeated-request rule (billing.md, plan rule 4)."""
from __future__ import annotations

import hashlib
import re
import unicodedata

_SPACES = re.compile(r"\s+")


def prompt_normalize(text: str) -> str:
    """Unicode NFKC, case-folded, punctuation removed, whitespace collapsed."""
    s = unicodedata.normalize("NFKC", text).casefold()
    s = "".join(ch for ch in s if not unicodedata.category(ch).startswith("P"))
    return _SPACES.sub(" ", s).strip()


def prompt_fingerprint(text: str | None) -> str:
    """sha256 of the normalized prompt; "" when there is no prompt (never grouped)."""
    if text is None:
        return ""
    norm = prompt_normalize(str(text))
    if not norm:
        return ""
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()
