"""Classifying a call: the rules of taxonomy.md (the domain spec), as pure functions.

Three entry points, one per kind of input (formats.md):

- `classify_call` for a raw upstream response (section A, "The rules, in order"),
- `classify_export_row` for a gateway log export row (section B, "The rules for a log
  export row"),
- `classify_local_row` for a flat row of a customer's local log (section C).

`read_response` reads the facts off a raw response (status, finish reason, token usage,
images and drafts) for the ingest to store; `classify_call` returns them with the verdict.

Nothing here touches the database, and nothing here raises on odd input: a response can
be any JSON value (wrong types anywhere, null everywhere) and still gets a category.
Decisions taken where taxonomy.md leaves room are marked "Decision:" below.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

from logs.choices import Category
from logs.families import family_of, is_image_model, refusal_threshold

MAX_ERROR_TEXT = 2000
MAX_DECODE_DEPTH = 3  # how many times a double-encoded JSON string is unwrapped

NO_CHARGE_WORDS = "you will not be charged"
BLOCK_REASON_UNSPECIFIED = "BLOCK_REASON_UNSPECIFIED"
# Rule 5: the output was refused by policy.
IMAGE_BLOCK_REASONS = frozenset({
    "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "SAFETY",
    "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION",
})
OPENAI_CONTENT_FILTER = "content_filter"
# OpenAI-compatible finish reasons that decide nothing (rule 6); only used for flat rows,
# where the shape is unknown.
OPENAI_NEUTRAL_FINISH = frozenset({"stop", "length", "tool_calls", "function_call"})

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
# Rule 1, an error given as text: the status words and a few plain ones.
TEXT_WORDS = {**STATUS_WORDS, "OVERLOADED": Category.OVERLOADED,
              "TIMEOUT": Category.TIMEOUT, "TIMED OUT": Category.TIMEOUT}

# A status code (400-599) that opens the text, or follows status/code/status_code/HTTP.
_CODE_AT_START = re.compile(r"^\s*([45]\d\d)(?!\d)")
_CODE_AFTER_WORD = re.compile(
    r"(?<![a-z])(?:status_code|status|code|http(?:/\d(?:\.\d)?)?)[\s\"'=:]*([45]\d\d)(?!\d)",
    re.IGNORECASE,
)
# Status words as whole words; "timeout" also inside a name such as ReadTimeout.
_WORD = re.compile(
    r"\b(" + "|".join(STATUS_WORDS) + r"|overloaded|timed out)\b|(timeout)",
    re.IGNORECASE,
)
_HTML = re.compile(r"<\s*(?:!doctype|html|head|body|title)\b", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_DATA_IMAGE = re.compile(r"data:image/", re.IGNORECASE)
_MARKDOWN_DATA_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*data:image/[^)]*\)", re.IGNORECASE)
_BARE_DATA_IMAGE = re.compile(r"data:image/[^\s)\"']*", re.IGNORECASE)


@dataclass(frozen=True)
class Facts:
    """Everything read off a raw response."""

    http_status: int | None
    finish_reason: str
    block_reason: str
    finish_message: str
    error_text: str
    prompt_tokens: int | None
    output_tokens: int | None
    thoughts_tokens: int | None
    total_tokens: int | None
    image_tokens: int | None
    images: int
    drafts: int
    has_text: bool


@dataclass(frozen=True)
class Verdict:
    category: str
    reason: str

    def __post_init__(self):
        # A Category member becomes its plain value ("success").
        object.__setattr__(self, "category", str(self.category))


# ---------------------------------------------------------------------------
# Small readers that accept anything
# ---------------------------------------------------------------------------

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
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,18}\s*", value):
        return int(value)
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


# ---------------------------------------------------------------------------
# Reading a raw response into a body
# ---------------------------------------------------------------------------

@dataclass
class _Error:
    """An error body: `{"error": {...}}`, `{"error": "text"}` or a plain string."""

    code: int | None = None      # error.code when it is an HTTP status
    status: str = ""             # error.status, upper case
    message: str = ""
    only_text: bool = False      # an error given only as text (a plain string)
    text: str = ""               # that text, whole
    prompt_blocked: str = ""     # exception 1 of rule 1: the signal, or ""
    key_invalid: bool = False    # exception 2 of rule 1

    def words(self) -> str:
        if self.only_text:
            return self.text
        return ": ".join(part for part in (self.status, self.message) if part)


@dataclass
class _Candidate:
    parts: list = field(default_factory=list)
    finish_reason: str = ""
    finish_message: str = ""


@dataclass
class _Choice:
    """One OpenAI-compatible choice (a message, or the deltas of a stream)."""

    texts: list = field(default_factory=list)
    image_urls: int = 0
    images: int = 0
    finish_reason: str = ""


@dataclass
class _Body:
    missing: bool = False  # no response at all
    error: _Error | None = None
    candidates: dict = field(default_factory=dict)  # index -> _Candidate
    choices: dict = field(default_factory=dict)     # index -> _Choice
    block_reason: str = ""
    usage: dict | None = None         # Gemini usageMetadata
    openai_usage: dict | None = None  # OpenAI usage


def _decode_string(value):
    """Unwrap a JSON document given as a string (double-encoded JSON included)."""
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8", errors="replace")
    for _ in range(MAX_DECODE_DEPTH):
        if not isinstance(value, str) or value.strip()[:1] not in ("{", "[", '"'):
            return value
        try:
            decoded = json.loads(value)
        except (ValueError, RecursionError):
            return value
        if not isinstance(decoded, (dict, list, str)):
            return value
        value = decoded
    return value


def _text_error(text: str) -> _Error:
    phrase = _says_prompt_blocked(text)
    return _Error(
        only_text=True,
        text=text,
        prompt_blocked=f"error text: {phrase}" if phrase else "",
        key_invalid="API_KEY_INVALID" in text,
    )


def _dict_error(error: dict) -> _Error:
    code_value = error.get("code")
    code_name = _str(code_value).strip().lower()
    status = _str(error.get("status")).strip()
    code = _http_code(code_value)
    if code is None and _http_code(status) is not None:
        code, status = _http_code(status), ""
    type_name = _str(error.get("type")).strip().lower()
    if code_name == "prompt_blocked":
        blocked = "error.code=prompt_blocked"
    elif type_name == "prompt_blocked":
        blocked = "error.type=prompt_blocked"
    else:
        blocked = ""
    return _Error(
        code=code,
        status=status.upper(),
        message=_str(error.get("message")),
        prompt_blocked=blocked,
        key_invalid=_has_key_invalid(error.get("details")),
    )


def _has_key_invalid(details) -> bool:
    for detail in _list(details):
        if _str(_get(detail, "reason")).strip().upper() == "API_KEY_INVALID":
            return True
    return False


def _error_of(value) -> _Error | None:
    """The error an `error` member holds, or None when it is not an error."""
    if isinstance(value, dict):
        return _dict_error(value)
    if isinstance(value, str) and value.strip():
        decoded = _decode_string(value)
        if isinstance(decoded, dict) and isinstance(decoded.get("error"), dict):
            return _dict_error(decoded["error"])
        return _text_error(value)
    return None


def _read_body(response) -> _Body:
    body = _Body()
    if response is None:
        body.missing = True
        return body
    response = _decode_string(response)
    if isinstance(response, str):
        body.error = _text_error(response)
        return body
    chunks = response if isinstance(response, list) else [response]
    for chunk in chunks:
        if isinstance(chunk, dict):
            _read_chunk(body, chunk)
    return body


def _read_chunk(body: _Body, chunk: dict) -> None:
    """One response, or one chunk of a stream: later chunks add to the earlier ones."""
    if body.error is None:
        body.error = _error_of(chunk.get("error"))
    for position, candidate in enumerate(_list(chunk.get("candidates"))):
        if isinstance(candidate, dict):
            _read_candidate(body, position, candidate)
    _read_prompt_feedback(body, _get(chunk, "promptFeedback", "prompt_feedback"))
    usage = _get(chunk, "usageMetadata", "usage_metadata")
    if isinstance(usage, dict):
        body.usage = usage
    for position, choice in enumerate(_list(chunk.get("choices"))):
        if isinstance(choice, dict):
            _read_choice(body, position, choice)
    if isinstance(chunk.get("usage"), dict):
        body.openai_usage = chunk["usage"]


def _read_candidate(body: _Body, position: int, candidate: dict) -> None:
    index = _int(candidate.get("index"))
    merged = body.candidates.setdefault(position if index is None else index, _Candidate())
    content = candidate.get("content")
    merged.parts.extend(part for part in _list(_get(content, "parts")) if isinstance(part, dict))
    finish_reason = _str(_get(candidate, "finishReason", "finish_reason")).strip()
    if finish_reason:
        merged.finish_reason = finish_reason
    finish_message = _str(_get(candidate, "finishMessage", "finish_message"))
    if finish_message.strip():
        merged.finish_message = finish_message


def _read_prompt_feedback(body: _Body, feedback) -> None:
    reason = _str(_get(feedback, "blockReason", "block_reason")).strip()
    # A real block reason, once seen in any chunk, holds.
    if reason and (not body.block_reason or body.block_reason.upper() == BLOCK_REASON_UNSPECIFIED):
        body.block_reason = reason


def _read_choice(body: _Body, position: int, choice: dict) -> None:
    index = _int(choice.get("index"))
    merged = body.choices.setdefault(position if index is None else index, _Choice())
    message = _get(choice, "message", "delta")
    content = _get(message, "content")
    if isinstance(content, str):
        merged.texts.append(content)
    for item in _list(content):
        _read_content_item(merged, item)
    merged.images += len(_list(_get(message, "images")))
    finish_reason = _str(choice.get("finish_reason")).strip()
    if finish_reason:
        merged.finish_reason = finish_reason


def _read_content_item(merged: _Choice, item) -> None:
    """One item of an OpenAI content list: text, or an image_url."""
    if isinstance(item, str):
        merged.texts.append(item)
        return
    if not isinstance(item, dict):
        return
    text = item.get("text")
    if isinstance(text, str):
        merged.texts.append(text)
    image_url = item.get("image_url")
    url = _str(_get(image_url, "url")) if isinstance(image_url, dict) else _str(image_url)
    merged.image_urls += len(_DATA_IMAGE.findall(url))


# ---------------------------------------------------------------------------
# Facts
# ---------------------------------------------------------------------------

def _is_image_part(part: dict) -> bool:
    inline = _get(part, "inlineData", "inline_data")
    mime = _str(_get(inline, "mimeType", "mime_type")).strip().lower()
    return mime.startswith("image/")


def _is_text_part(part: dict) -> bool:
    text = part.get("text")
    return isinstance(text, str) and bool(text.strip()) and not _is_true(part.get("thought"))


def _all_parts(body: _Body) -> list:
    return [part for key in sorted(body.candidates) for part in body.candidates[key].parts]


def _openai_text(choice: _Choice) -> str:
    """The message content without its images."""
    text = "".join(choice.texts)
    text = _MARKDOWN_DATA_IMAGE.sub("", text)
    return _BARE_DATA_IMAGE.sub("", text)


def _openai_image_count(choice: _Choice) -> int:
    return len(_DATA_IMAGE.findall("".join(choice.texts))) + choice.image_urls + choice.images


def _count_images(body: _Body) -> tuple[int, int]:
    """(final images delivered, drafts), taxonomy rule 2.

    Where a part carries a thought flag: the non-thought images are final, the thought
    images drafts. Where none does: one final image if any, every other image a draft.
    """
    parts = _all_parts(body)
    flagged = any(part.get("thought") is not None for part in parts)
    image_thoughts = [_is_true(part.get("thought")) for part in parts if _is_image_part(part)]
    unflagged = sum(_openai_image_count(choice) for choice in body.choices.values())
    if flagged:
        drafts = sum(image_thoughts)
        finals = len(image_thoughts) - drafts
        return finals + min(unflagged, 1), drafts + max(unflagged - 1, 0)
    total = len(image_thoughts) + unflagged
    finals = min(total, 1)
    return finals, total - finals


def _has_text(body: _Body) -> bool:
    if any(_is_text_part(part) for part in _all_parts(body)):
        return True
    return any(_openai_text(choice).strip() for choice in body.choices.values())


def _first_finish_reason(body: _Body) -> str:
    for key in sorted(body.candidates):
        if body.candidates[key].finish_reason:
            return body.candidates[key].finish_reason
    for key in sorted(body.choices):
        if body.choices[key].finish_reason:
            return body.choices[key].finish_reason
    return ""


def _first_finish_message(body: _Body) -> str:
    for key in sorted(body.candidates):
        if body.candidates[key].finish_message:
            return body.candidates[key].finish_message
    return ""


def _usage_facts(body: _Body) -> dict:
    if body.usage is not None:
        usage = body.usage
        return {
            "prompt_tokens": _int(_get(usage, "promptTokenCount", "prompt_token_count")),
            "output_tokens": _int(_get(usage, "candidatesTokenCount", "candidates_token_count")),
            "thoughts_tokens": _int(_get(usage, "thoughtsTokenCount", "thoughts_token_count")),
            "total_tokens": _int(_get(usage, "totalTokenCount", "total_token_count")),
            "image_tokens": _image_tokens(
                _get(usage, "candidatesTokensDetails", "candidates_tokens_details")),
        }
    usage = body.openai_usage or {}
    details = _dict(usage.get("completion_tokens_details"))
    return {
        "prompt_tokens": _int(usage.get("prompt_tokens")),
        "output_tokens": _int(usage.get("completion_tokens")),
        "thoughts_tokens": _int(details.get("reasoning_tokens")),
        "total_tokens": _int(usage.get("total_tokens")),
        "image_tokens": _int(details.get("image_tokens")),
    }


def _image_tokens(details) -> int | None:
    """The IMAGE entries of candidatesTokensDetails, summed; None when there is none."""
    counts = [
        _int(_get(entry, "tokenCount", "token_count"))
        for entry in _list(details)
        if _str(_get(entry, "modality")).strip().upper() == "IMAGE"
    ]
    counts = [count for count in counts if count is not None]
    return sum(counts) if counts else None


def _effective_status(envelope_status, error: _Error | None) -> int | None:
    """Taxonomy "The status": the envelope's, or the body's error code standing in."""
    status = _http_code(envelope_status)
    if error is None:
        return status
    if status is not None and not _is_2xx(status):
        return status
    if error.code is not None:
        return error.code
    if status is None and error.only_text:
        return _code_in_text(_plain_text(error.text))
    return status


def _facts(body: _Body, http_status, client_error) -> Facts:
    finals, drafts = _count_images(body)
    if body.error is not None:
        error_text = body.error.words().strip()
    elif body.missing:
        error_text = _str(client_error).strip()
    else:
        error_text = ""
    return Facts(
        http_status=_effective_status(http_status, body.error),
        finish_reason=_first_finish_reason(body),
        block_reason=body.block_reason,
        finish_message=_first_finish_message(body),
        error_text=error_text[:MAX_ERROR_TEXT],
        images=finals,
        drafts=drafts,
        has_text=_has_text(body),
        **_usage_facts(body),
    )


def read_response(response, *, http_status=None, client_error=None) -> Facts:
    """The facts of a raw response (see `Facts`), without a verdict."""
    return _facts(_read_body(response), http_status, client_error)


# ---------------------------------------------------------------------------
# Rule 1: request errors
# ---------------------------------------------------------------------------

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
    match = _CODE_AT_START.search(text) or _CODE_AFTER_WORD.search(text)
    return int(match.group(1)) if match else None


def _word_in_text(text: str) -> str:
    match = _WORD.search(text)
    if not match:
        return ""
    return (match.group(1) or match.group(2)).upper()


def classify_error_text(text: str) -> Verdict:
    """Rule 1 for an error given as text: a status code first, then a status word."""
    text = _plain_text(_str(text))
    code = _code_in_text(text)
    word = _word_in_text(text)
    if code is not None:
        return Verdict(category_for_status(code), _status_reason(code, word))
    if word:
        return Verdict(TEXT_WORDS[word], f"error text: {word}")
    return Verdict(Category.OTHER_ERROR, "error text without a status")


def _status_reason(code: int, word: str = "") -> str:
    return f"HTTP {code} {word}".strip()


def _client_error(text: str) -> Verdict:
    lowered = text.lower()
    if "timeout" in lowered or "timed out" in lowered:
        return Verdict(Category.TIMEOUT, f"client error: {_short(text)}")
    return Verdict(Category.OTHER_ERROR, f"client error: {_short(text)}")


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _exception(error: _Error | None) -> Verdict | None:
    """The two exceptions that come before the status code."""
    if error is None:
        return None
    if error.prompt_blocked:
        return Verdict(Category.PROMPT_BLOCKED, error.prompt_blocked)
    if error.key_invalid:
        return Verdict(Category.AUTH_ERROR, "ErrorInfo reason=API_KEY_INVALID")
    return None


def _request_error(status: int | None, error: _Error | None, client_error) -> Verdict:
    """Rule 1, once it applies. `status` is the envelope's status (None, or any code)."""
    exception = _exception(error)
    if exception:
        return exception
    code = status if status is not None and not _is_2xx(status) else None
    if code is None and error is not None and error.code is not None and not _is_2xx(error.code):
        code = error.code
    if code is not None:
        return Verdict(category_for_status(code), _status_reason(code, error.status if error else ""))
    if error is not None and error.status in STATUS_WORDS:
        return Verdict(STATUS_WORDS[error.status], f"error.status={error.status}")
    if error is not None:
        # Decision: a structured error with neither code nor known status has its message
        # read like a text error too ("The model is overloaded").
        return classify_error_text(error.words())
    if _str(client_error).strip():
        return _client_error(_str(client_error).strip())
    return Verdict(Category.OTHER_ERROR, "no response")


# ---------------------------------------------------------------------------
# Rules 2 to 8: what the model gave back
# ---------------------------------------------------------------------------

def _generation(body: _Body, facts: Facts) -> Verdict:
    candidates = [body.candidates[key] for key in sorted(body.candidates)]
    if facts.images > 0:
        return Verdict(Category.SUCCESS, "image delivered")
    if body.block_reason and body.block_reason.upper() != BLOCK_REASON_UNSPECIFIED:
        return Verdict(Category.PROMPT_BLOCKED, f"promptFeedback.blockReason={body.block_reason}")
    for candidate in candidates:
        if NO_CHARGE_WORDS in candidate.finish_message.lower():
            return Verdict(Category.NO_CHARGE, "finishMessage: You will not be charged")
    for candidate in candidates:
        if candidate.finish_reason.upper() in IMAGE_BLOCK_REASONS:
            return Verdict(Category.IMAGE_BLOCKED, f"finishReason={candidate.finish_reason}")
    for choice in body.choices.values():
        if choice.finish_reason.lower() == OPENAI_CONTENT_FILTER:
            return Verdict(Category.IMAGE_BLOCKED, f"finish_reason={choice.finish_reason}")
    for candidate in candidates:
        if candidate.finish_reason and candidate.finish_reason.upper() != "STOP":
            return Verdict(Category.NO_IMAGE, f"finishReason={candidate.finish_reason}")
    if facts.has_text:
        return Verdict(Category.TEXT_REFUSAL, "text only, no image")
    return Verdict(Category.EMPTY_OUTPUT, "no image, no text")


def _applies_image_rules(model: str | None) -> bool:
    """Decision: a call whose model is unknown (None or "") is read as an image call."""
    return not model or is_image_model(model)


def classify_call(*, model: str | None, http_status: int | None = None, response=None,
                  client_error: str | None = None) -> tuple[Verdict, Facts]:
    """The category of a call from its raw response (taxonomy.md, all 8 rules)."""
    body = _read_body(response)
    facts = _facts(body, http_status, client_error)
    status = _http_code(http_status)
    client_error = _str(client_error).strip()
    if status is not None and not _is_2xx(status):
        return _request_error(status, body.error, client_error), facts
    if body.error is not None:
        return _request_error(status, body.error, client_error), facts
    # Decision: a 2xx status with no response and no client error is an empty answer
    # (rules 2 to 8), not a request error.
    if body.missing and (status is None or client_error):
        return _request_error(status, None, client_error), facts
    if not _applies_image_rules(model):
        return Verdict(Category.SUCCESS, "non-image model, no error"), facts
    return _generation(body, facts), facts


# ---------------------------------------------------------------------------
# Log export rows and flat local rows
# ---------------------------------------------------------------------------

_LOG_TYPES = {"consume": "consume", "消费": "consume", "2": "consume",
              "error": "error", "错误": "error", "5": "error"}


def _says_prompt_blocked(text: str) -> str:
    lowered = text.lower()
    if "prompt_blocked" in lowered:
        return "prompt_blocked"
    if "blocked by gemini" in lowered:
        return "blocked by Gemini"
    return ""


def _threshold_verdict(model: str | None, output_tokens: int | None) -> Verdict:
    """Export rule 2: an image model's consume row read by its output tokens."""
    if output_tokens is None:
        return Verdict(Category.EMPTY_OUTPUT, "output tokens empty")
    if output_tokens <= 0:
        return Verdict(Category.EMPTY_OUTPUT, f"output tokens {output_tokens}")
    threshold = refusal_threshold(family_of(model))
    if output_tokens < threshold:
        return Verdict(Category.TEXT_REFUSAL, f"output tokens {output_tokens} < {threshold}")
    return Verdict(Category.SUCCESS, f"output tokens {output_tokens} >= {threshold}")


def classify_export_row(*, log_type: str, model: str | None, output_tokens: int | None,
                        details: str = "") -> Verdict:
    """The category of a gateway log export row (taxonomy.md, rules for a log export row)."""
    kind = _LOG_TYPES.get(_str(log_type).strip().lower())
    details = _str(details)
    if kind == "error":
        phrase = _says_prompt_blocked(details)
        if phrase:
            return Verdict(Category.PROMPT_BLOCKED, f"details: {phrase}")
        if "API_KEY_INVALID" in details:
            return Verdict(Category.AUTH_ERROR, "details: API_KEY_INVALID")
        return classify_error_text(details)
    if kind == "consume":
        if not _applies_image_rules(model):
            return Verdict(Category.SUCCESS, "consume row, non-image model")
        return _threshold_verdict(model, _int(output_tokens))
    return Verdict(Category.OTHER_ERROR, f"log type {_short(_str(log_type)) or 'empty'} is not a call")


def classify_local_row(*, model=None, http_status=None, finish_reason="", block_reason="",
                       finish_message="", output_tokens=None, images=None) -> Verdict:
    """The category of a flat local log row (formats.md section C)."""
    status = _http_code(http_status)
    if status is not None and not _is_2xx(status):
        return Verdict(category_for_status(status), _status_reason(status))
    if not _applies_image_rules(model):
        return Verdict(Category.SUCCESS, "non-image model, no error")
    images = _int(images)
    output_tokens = _int(output_tokens)
    finish_reason = _str(finish_reason).strip()
    block_reason = _str(block_reason).strip()
    if images is not None and images > 0:
        return Verdict(Category.SUCCESS, f"images {images}")
    if block_reason and block_reason.upper() != BLOCK_REASON_UNSPECIFIED:
        return Verdict(Category.PROMPT_BLOCKED, f"block_reason={block_reason}")
    if NO_CHARGE_WORDS in _str(finish_message).lower():
        return Verdict(Category.NO_CHARGE, "finishMessage: You will not be charged")
    if finish_reason.upper() in IMAGE_BLOCK_REASONS or finish_reason.lower() == OPENAI_CONTENT_FILTER:
        return Verdict(Category.IMAGE_BLOCKED, f"finish_reason={finish_reason}")
    if finish_reason and finish_reason.lower() not in OPENAI_NEUTRAL_FINISH:
        return Verdict(Category.NO_IMAGE, f"finish_reason={finish_reason}")
    if images is None and output_tokens is not None and output_tokens > 0:
        # Decision: without an images column, output tokens are read as in a log export
        # (at or above the threshold is an image).
        return _threshold_verdict(model, output_tokens)
    if output_tokens is not None and output_tokens > 0:
        return Verdict(Category.TEXT_REFUSAL, f"output tokens {output_tokens}, no image")
    return Verdict(Category.EMPTY_OUTPUT, "no image, no output tokens")
