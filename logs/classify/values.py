"""Small readers that accept anything, and the verdict: the ground every module of the
classifier stands on. Nothing here raises on odd input."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    category: str
    reason: str

    def __post_init__(self):
        # A Category member becomes its plain value ("success").
        object.__setattr__(self, "category", str(self.category))


def _get(obj, *keys):
    """The first non-null value among `keys` (camelCase and snake_case spellings)."""
    if not isinstance(obj, dict):
        return None
    for key in keys:
        value = obj.get(key)
        if value is not None:
            return value
    return None


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _str(value) -> str:
    """A string as given; a number as its digits; anything else ""."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


def _int(value) -> int | None:
    """An integer from an int, an integral float or a string of digits; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return int(value)
        return None
    if isinstance(value, str):
        text = value.strip(" \t\r\n")
        if re.fullmatch(r"-?[0-9]{1,18}", text):
            return int(text)
    return None


def _is_true(value) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _is_2xx(code: int) -> bool:
    return 200 <= code < 300


def _http_code(value) -> int | None:
    """An HTTP status code (100-599) or None; 0 and anything else mean none."""
    code = _int(value)
    if code is None or not 100 <= code <= 599:
        return None
    return code


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
