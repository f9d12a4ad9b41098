"""Classifying a call: the rules of taxonomy.md (the domain spec), as pure functions.

Three entry points, one per kind of input (formats.md):

- `classify_call` for a raw upstream response (section A, "The rules, in order"),
- `classify_export_row` for a gateway log export row (section B, "The rules for a log
  export row"),
- `classify_local_row` for a flat row of a customer's local log (section C).

`read_response` reads the facts off a raw response (status, finish reason, token usage,
images and drafts) for the ingest to store; `classify_call` returns them with the verdict.

A raw response comes in many shapes (taxonomy.md, "More real shapes"): a Gemini
`generateContent` response or its streamed chunks, an agent framework's event list, an
OpenAI-compatible `chat.completion` or its chunks, an OpenAI Responses or Images API body,
an error body, or an error as text. Each is read into one `_Body`; the rules then ask the
body. A body of no known shape is `other_error` ("response shape not recognised"): only a
shape that is read can prove that no image came back.

The rules live here; the package's modules read: `body` reads a response of any shape,
`facts` reads the facts off it, `errortext` reads an error given as text, `values` holds
the verdict and the small readers.

Nothing here touches the database, and nothing here raises on odd input: a response can
be any JSON value (wrong types anywhere, null everywhere) and still gets a category.
Decisions taken where taxonomy.md leaves room are marked "Decision:" in the modules.
"""
from __future__ import annotations

from logs.choices import Category
from logs.classify.body import (
    BLOCK_REASON_UNSPECIFIED,
    SIGNAL_IMAGE,
    _Body,
    _Error,
    _read_body,
    _text_error,
)
from logs.classify.errortext import (
    CLASS_WORDS,
    NO_STATUS_IN_TEXT,
    STATUS_WORDS,
    _says_prompt_blocked,
    _status_reason,
    category_for_status,
    classify_error_text,
)
from logs.classify.facts import Facts, _facts, read_response
from logs.classify.values import Verdict, _http_code, _int, _is_2xx, _short, _str
from logs.families import family_of, is_image_model, refusal_threshold

__all__ = [
    "CLASS_WORDS", "STATUS_WORDS", "Facts", "Verdict", "_text_error", "category_for_status",
    "classify_call", "classify_error_text", "classify_export_row", "classify_local_row",
    "read_response",
]

NO_CHARGE_WORDS = "you will not be charged"
# Rule 5: the output was refused by policy.
IMAGE_BLOCK_REASONS = frozenset({
    "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "SAFETY",
    "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION",
})
OPENAI_CONTENT_FILTER = "content_filter"
# OpenAI-compatible finish reasons that decide nothing (rule 6); only used for flat rows,
# where the shape is unknown.
OPENAI_NEUTRAL_FINISH = frozenset({"stop", "length", "tool_calls", "function_call"})
UNRECOGNISED = "response shape not recognised"


def _client_error(text: str) -> Verdict:
    lowered = text.lower()
    if "timeout" in lowered or "timed out" in lowered:
        return Verdict(Category.TIMEOUT, f"client error: {_short(text)}")
    return Verdict(Category.OTHER_ERROR, f"client error: {_short(text)}")


def _exception(error: _Error | None) -> Verdict | None:
    """The two exceptions that come before the status code (the upstream's too)."""
    while error is not None:
        if error.prompt_blocked:
            return Verdict(Category.PROMPT_BLOCKED, error.prompt_blocked)
        if error.key_invalid:
            return Verdict(Category.AUTH_ERROR, "ErrorInfo reason=API_KEY_INVALID")
        error = error.upstream
    return None


def _upstream_verdict(error: _Error | None) -> Verdict | None:
    """A relay's error read for the upstream's code (or status word) before its own."""
    upstream = error.upstream if error is not None else None
    while upstream is not None:
        if upstream.code is not None and not _is_2xx(upstream.code):
            reason = _status_reason(upstream.code, upstream.status)
            return Verdict(category_for_status(upstream.code), f"upstream {reason}")
        if upstream.status in STATUS_WORDS:
            return Verdict(STATUS_WORDS[upstream.status], f"upstream error.status={upstream.status}")
        upstream = upstream.upstream
    return None


def _request_error(status: int | None, error: _Error | None, client_error) -> Verdict:
    """Rule 1, once it applies. `status` is the envelope's status (None, or any code)."""
    exception = _exception(error) or _upstream_verdict(error)
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


def _generation(body: _Body, facts: Facts, signal: str) -> Verdict:
    candidates = [body.candidates[key] for key in sorted(body.candidates)]
    if facts.images > 0:
        return Verdict(Category.SUCCESS, signal or SIGNAL_IMAGE)
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
    if body.status.lower() == OPENAI_CONTENT_FILTER:
        return Verdict(Category.IMAGE_BLOCKED, f"incomplete_details.reason={body.status}")
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
    facts, signal = _facts(body, http_status, client_error)
    status = _http_code(http_status)
    client_error = _str(client_error).strip()
    if status is not None and not _is_2xx(status):
        return _request_error(status, body.error, client_error), facts
    if body.error is not None:
        verdict = _request_error(status, body.error, client_error)
        if status is not None and body.error.only_text and verdict.reason == NO_STATUS_IN_TEXT:
            # A 2xx answer that is a text with no status in it (a logged Python repr, say).
            verdict = Verdict(Category.OTHER_ERROR, UNRECOGNISED)
        return verdict, facts
    # Decision: a 2xx status with no response and no client error is an empty answer
    # (rules 2 to 8), not a request error.
    if body.missing and (status is None or client_error):
        return _request_error(status, None, client_error), facts
    if not _applies_image_rules(model):
        return Verdict(Category.SUCCESS, "non-image model, no error"), facts
    if body.shape == "unknown":
        # Not a failed generation: only a shape that is read can prove that no image came
        # back. Decision: `{}` and `[]` hold nothing to misread and stay empty answers.
        return Verdict(Category.OTHER_ERROR, UNRECOGNISED), facts
    return _generation(body, facts, signal), facts


_LOG_TYPES = {"consume": "consume", "消费": "consume", "2": "consume",
              "error": "error", "错误": "error", "5": "error"}


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
