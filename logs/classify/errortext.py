"""Rule 1 read off a text: a status code, else a status word (taxonomy.md, "Request
errors" and "More real shapes": SDK exception texts, class names, whole words)."""
from __future__ import annotations

import re

from logs.choices import Category
from logs.classify.values import Verdict, _str

# Rule 1: `error.status` words.
STATUS_WORDS = {
    "RESOURCE_EXHAUSTED": Category.RATE_LIMITED,
    "UNAVAILABLE": Category.OVERLOADED,
    "INTERNAL": Category.SERVER_ERROR,
    "DEADLINE_EXCEEDED": Category.TIMEOUT,
    "CANCELLED": Category.TIMEOUT,
    "INVALID_ARGUMENT": Category.BAD_REQUEST,
    "FAILED_PRECONDITION": Category.BAD_REQUEST,
    "NOT_FOUND": Category.BAD_REQUEST,
    "PERMISSION_DENIED": Category.AUTH_ERROR,
    "UNAUTHENTICATED": Category.AUTH_ERROR,
}
# SDK exception class names are status words too (google.api_core, HTTP libraries).
CLASS_WORDS = {
    "ResourceExhausted": Category.RATE_LIMITED,
    "TooManyRequests": Category.RATE_LIMITED,
    "ServiceUnavailable": Category.OVERLOADED,
    "DeadlineExceeded": Category.TIMEOUT,
    "InternalServerError": Category.SERVER_ERROR,
    "InvalidArgument": Category.BAD_REQUEST,
    "FailedPrecondition": Category.BAD_REQUEST,
    "NotFound": Category.BAD_REQUEST,
    "BadRequest": Category.BAD_REQUEST,
    "PermissionDenied": Category.AUTH_ERROR,
    "Unauthorized": Category.AUTH_ERROR,
    "Forbidden": Category.AUTH_ERROR,
}
# Rule 1, an error given as text: the status words, the class names and a few plain ones,
# keyed upper case; `_WORD_NAMES` gives each the spelling a reason shows.
TEXT_WORDS = {**STATUS_WORDS, **{name.upper(): category for name, category in CLASS_WORDS.items()},
              "OVERLOADED": Category.OVERLOADED, "TIMEOUT": Category.TIMEOUT,
              "TIMED OUT": Category.TIMEOUT}
_WORD_NAMES = {name.upper(): name for name in CLASS_WORDS}
# A status code (400-599) that opens the text, or follows status/code/status_code/HTTP.
_CODE_AT_START = re.compile(r"^\s*([45]\d\d)(?!\d)")
# ... or follows an exception's class name and a colon at the start of a line
# ("google.api_core.exceptions.ResourceExhausted: 429 Quota exceeded").
_CODE_AFTER_CLASS = re.compile(
    r"^\s*(?:[A-Za-z_][\w$]*[.$])*[A-Z][\w]*:[ \t]*([45]\d\d)(?!\d)", re.MULTILINE)
_CODE_AFTER_WORD = re.compile(
    r"(?<![a-z])(?:status_code|status|code|http(?:/\d(?:\.\d)?)?)[\s\"'=:]*([45]\d\d)(?!\d)",
    re.IGNORECASE,
)
# Status words as whole words, any case, the error.status words before the class names
# (so that "Internal Server Error" reads as INTERNAL); "Timeout" also as a part of a class
# name (ReadTimeout, TimeoutError), but not inside a word ("timeouts").
_WORD = re.compile(
    r"\b(" + "|".join([*STATUS_WORDS, *CLASS_WORDS]) + r"|overloaded|timed out|timeout)\b"
    r"|((?-i:(?<=[a-z])Timeout(?![a-z]))|(?-i:\bTimeout(?=[A-Z])))",
    re.IGNORECASE,
)
_HTML = re.compile(r"<\s*(?:!doctype|html|head|body|title)\b", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
NO_STATUS_IN_TEXT = "error text without a status"


def category_for_status(code: int) -> str:
    """The category of a non-2xx HTTP status (rule 1); a 2xx code is `other_error` here."""
    if code == 429:
        return Category.RATE_LIMITED
    if code == 503:
        return Category.OVERLOADED
    if code in (504, 499):
        return Category.TIMEOUT
    if 500 <= code <= 599:
        return Category.SERVER_ERROR
    if code in (400, 404):
        return Category.BAD_REQUEST
    if code in (401, 402, 403):
        return Category.AUTH_ERROR
    return Category.OTHER_ERROR


def _plain_text(text: str) -> str:
    """An HTML page as its words, so that "502 Bad Gateway" opens the text."""
    if not _HTML.search(text):
        return text
    return " ".join(_TAG.sub(" ", text).split())


def _code_in_text(text: str) -> int | None:
    match = (_CODE_AT_START.search(text) or _CODE_AFTER_CLASS.search(text)
             or _CODE_AFTER_WORD.search(text))
    return int(match.group(1)) if match else None


def _word_in_text(text: str) -> str:
    """The first status word of the text, upper case (a class name as it is spelled)."""
    match = _WORD.search(text)
    if not match:
        return ""
    word = (match.group(1) or match.group(2)).upper()
    return _WORD_NAMES.get(word, word)


def classify_error_text(text: str) -> Verdict:
    """Rule 1 for an error given as text: a status code first, then a status word."""
    text = _plain_text(_str(text))
    code = _code_in_text(text)
    word = _word_in_text(text)
    if code is not None:
        # The code decides; the reason names a status word beside it, not a class name
        # ("403 Forbidden" is "HTTP 403").
        shown = "" if word in CLASS_WORDS else word
        return Verdict(category_for_status(code), _status_reason(code, shown))
    if word:
        return Verdict(TEXT_WORDS[word.upper()], f"error text: {word}")
    return Verdict(Category.OTHER_ERROR, NO_STATUS_IN_TEXT)


def _status_reason(code: int, word: str = "") -> str:
    return f"HTTP {code} {word}".strip()


def _says_prompt_blocked(text: str) -> str:
    lowered = text.lower()
    if "prompt_blocked" in lowered:
        return "prompt_blocked"
    if "blocked by gemini" in lowered:
        return "blocked by Gemini"
    return ""
