"""Reading a raw response, of any shape, into one `_Body` the rules ask.

The shapes (taxonomy.md): a Gemini `generateContent` response or its streamed chunks,
an agent framework's event list (Google ADK), an OpenAI-compatible `chat.completion` or
its chunks, an OpenAI Responses or Images API body, an error body (a relay's included,
with the upstream's answer it wraps), an error as text. Any other value reads as a body
of no known shape."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from logs.classify.errortext import _says_prompt_blocked
from logs.classify.values import _dict, _get, _http_code, _int, _list, _str

MAX_DECODE_DEPTH = 3  # how many times a double-encoded JSON string is unwrapped
BLOCK_REASON_UNSPECIFIED = "BLOCK_REASON_UNSPECIFIED"
_DATA_IMAGE = re.compile(r"data:image/", re.IGNORECASE)
_HTTP_URL = re.compile(r"^\s*https?://\S", re.IGNORECASE)
# How each kind of image is named in a verdict's reason.
SIGNAL_IMAGE = "image delivered"  # an inline image part, an OpenAI image entry or data URL
SIGNAL_TEXT_DATA_URL = "data:image URL in a text part"
SIGNAL_OUTPUT_TEXT_DATA_URL = "data:image URL in output_text"
SIGNAL_MARKDOWN_URL = "image URL in markdown"
SIGNAL_WHOLE_URL = "image URL as the whole reply"
SIGNAL_IMAGE_CALL = "image_generation_call result"
# ADK writes this error code when Gemini sent neither candidates nor prompt feedback.
ADK_UNKNOWN_ERROR = "UNKNOWN_ERROR"
MAX_UPSTREAM_DEPTH = 3  # relays wrapping relays


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
    upstream: _Error | None = None  # the upstream's answer a relay wrapped, if it says

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
    """One OpenAI-style reply: a chat message, the deltas of a stream, or the message
    items of a Responses API body."""

    texts: list = field(default_factory=list)
    images: list = field(default_factory=list)  # signals of image entries and image_url items
    finish_reason: str = ""
    data_url_signal: str = SIGNAL_IMAGE


@dataclass
class _Body:
    missing: bool = False  # no response at all
    error: _Error | None = None
    candidates: dict = field(default_factory=dict)  # index -> _Candidate
    choices: dict = field(default_factory=dict)     # index -> _Choice
    block_reason: str = ""
    usage: dict | None = None         # Gemini usageMetadata
    openai_usage: dict | None = None  # OpenAI usage (chat, Responses or Images API names)
    shape: str = ""                   # the first shape recognised
    empty: bool = True                # no chunk with any member: `{}`, `[]`
    replies: list = field(default_factory=list)  # Responses API message items, one _Choice
    items: list = field(default_factory=list)    # signals of Responses/Images API images
    status: str = ""                  # Responses API status, or incomplete_details.reason

    def recognise(self, shape: str) -> None:
        self.shape = self.shape or shape

    def all_choices(self) -> list:
        return [self.choices[key] for key in sorted(self.choices)] + self.replies


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


def _dict_error(error: dict, depth: int = 0) -> _Error:
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
        upstream=_upstream_of(error, depth) if depth < MAX_UPSTREAM_DEPTH else None,
    )


def _upstream_of(error: dict, depth: int, from_message: bool = True) -> _Error | None:
    """The upstream answer a relay wrapped into its own error, or None.

    Seen: `error.upstreamStatus` (a plain code), `error.upstreamResponse.error` (the
    upstream's error body, as an object or a JSON string), and an `error.message` that
    is the upstream's whole error body as JSON (Gemini CLI's API errors).
    """
    wrapped = _get(error, "upstreamResponse", "upstream_response")
    if wrapped is None and from_message:
        message = error.get("message")
        wrapped = message if isinstance(message, str) and message.lstrip().startswith("{") else None
    wrapped = _decode_string(wrapped)
    inner = wrapped.get("error") if isinstance(wrapped, dict) else None
    upstream = _dict_error(inner, depth + 1) if isinstance(inner, dict) else None
    code = _http_code(_get(error, "upstreamStatus", "upstream_status"))
    if code is not None:
        upstream = upstream or _Error()
        upstream.code = code
    return upstream


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
        body.shape = "none"
        return body
    response = _decode_string(response)
    if isinstance(response, str):
        body.error = _text_error(response)
        body.shape = "text"
        return body
    chunks = response if isinstance(response, list) else [response]
    for chunk in chunks:
        if isinstance(chunk, dict):
            _read_chunk(body, chunk)
        if chunk != {}:
            body.empty = False
    if body.error is not None:
        body.shape = "error"
    elif not body.shape:
        body.shape = "empty" if body.empty else "unknown"
    return body


def _read_chunk(body: _Body, chunk: dict, wrapped: bool = False) -> None:
    """One response, or one chunk of a stream: later chunks add to the earlier ones."""
    if body.error is None:
        body.error = _error_of(chunk.get("error"))
        if body.error is not None and body.error.upstream is None:
            # A relay may put the upstream's answer beside its error instead of inside it.
            body.error.upstream = _upstream_of(chunk, 0, from_message=False)
    if "candidates" in chunk or "promptFeedback" in chunk or "prompt_feedback" in chunk:
        body.recognise("gemini")
    for position, candidate in enumerate(_list(chunk.get("candidates"))):
        if isinstance(candidate, dict):
            _read_candidate(body, position, candidate)
    _read_prompt_feedback(body, _get(chunk, "promptFeedback", "prompt_feedback"))
    usage = _get(chunk, "usageMetadata", "usage_metadata")
    if isinstance(usage, dict):
        body.usage = usage
    if "choices" in chunk:
        body.recognise("chat")
    for position, choice in enumerate(_list(chunk.get("choices"))):
        if isinstance(choice, dict):
            _read_choice(body, position, choice)
    if isinstance(chunk.get("usage"), dict):
        body.openai_usage = chunk["usage"]
    if _is_responses(chunk):
        body.recognise("responses")
        _read_responses(body, chunk)
    if _is_images(chunk):
        body.recognise("images")
        _read_images(body, chunk["data"])
    if _is_event(chunk):
        body.recognise("events")
        _read_event(body, chunk)
    if not wrapped and _is_wrapper(chunk):
        # Decision: `{"response": {...}}` (Gemini's Cloud Code API, Vertex batch lines,
        # Responses API stream events) is read as the response it wraps.
        _read_chunk(body, chunk["response"], wrapped=True)


def _is_responses(chunk: dict) -> bool:
    """An OpenAI Responses API body: `object: "response"` and an output, or (relays drop
    the object) an output of typed items. Decision: an output of anything else (a list of
    addresses, say) is no known shape."""
    output = chunk.get("output")
    if chunk.get("object") == "response" and "output" in chunk:
        return True
    return (isinstance(output, list) and bool(output)
            and all(isinstance(item, dict) and "type" in item for item in output))


def _is_images(chunk: dict) -> bool:
    """An OpenAI Images API body: a `data` array of objects (or an empty one)."""
    data = chunk.get("data")
    return isinstance(data, list) and all(isinstance(entry, dict) for entry in data)


_KNOWN_MEMBERS = ("candidates", "promptFeedback", "prompt_feedback", "choices", "output", "data")


# Responses API stream events that carry the whole, final response.
_FINAL_RESPONSE_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})


def _is_wrapper(chunk: dict) -> bool:
    """`{"response": {...}}` and nothing the shapes know. Of the Responses API's stream
    events only the final ones count: `response.created` holds an empty output, so a
    stream cut before its end stays unread rather than an empty answer."""
    kind = _str(chunk.get("type"))
    if kind.startswith("response.") and kind not in _FINAL_RESPONSE_EVENTS:
        return False
    return (isinstance(chunk.get("response"), dict) and chunk.get("error") is None
            and not any(key in chunk for key in _KNOWN_MEMBERS) and not _is_event(chunk))


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
    merged.images.extend(SIGNAL_IMAGE for _ in _list(_get(message, "images")))
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
    found = len(_DATA_IMAGE.findall(url)) or (1 if _HTTP_URL.match(url) else 0)
    merged.images.extend(SIGNAL_IMAGE for _ in range(found))


_EVENT_MEMBERS = ("invocationId", "invocation_id", "author")


def _is_event(chunk: dict) -> bool:
    """An agent framework's event (Google ADK): a top-level `content` and no candidates."""
    if "candidates" in chunk or "choices" in chunk:
        return False
    return isinstance(chunk.get("content"), dict) or any(key in chunk for key in _EVENT_MEMBERS)


def _read_event(body: _Body, event: dict) -> None:
    """One event: its content parts count as candidate 0's, its finish holds if it has one.

    ADK writes Gemini's finish reason and finish message of a candidate without parts
    as `errorCode` and `errorMessage` (LlmResponse.create; newer versions also keep
    `finishReason`), so those stand in when the event has no finish of its own.
    """
    content = event.get("content")
    role = _str(_get(content, "role")).strip().lower()
    if role == "user" or _str(event.get("author")).strip() == "user":
        return  # Decision: the user's own message (a session's history) is not the reply
    merged = body.candidates.setdefault(0, _Candidate())
    merged.parts.extend(part for part in _list(_get(content, "parts")) if isinstance(part, dict))
    finish_reason = _str(_get(event, "finishReason", "finish_reason")).strip()
    error_code = _str(_get(event, "errorCode", "error_code")).strip()
    if not finish_reason and error_code.upper() != ADK_UNKNOWN_ERROR:
        finish_reason = error_code
    if finish_reason:
        merged.finish_reason = finish_reason
    finish_message = _str(_get(event, "finishMessage", "finish_message",
                               "errorMessage", "error_message"))
    if finish_message.strip():
        merged.finish_message = finish_message


def _read_responses(body: _Body, response: dict) -> None:
    """An OpenAI Responses API body: image_generation_call results and message texts."""
    reply = _Choice(data_url_signal=SIGNAL_OUTPUT_TEXT_DATA_URL)
    for item in _list(response.get("output")):
        if not isinstance(item, dict):
            continue
        kind = _str(item.get("type")).strip()
        if kind == "image_generation_call":
            # A result is the image (base64 or a data URL), whatever the item's status says.
            if _str(item.get("result")).strip():
                body.items.append(SIGNAL_IMAGE_CALL)
            continue
        for part in _list(item.get("content")):
            if isinstance(part, dict):
                text = _get(part, "text", "refusal")
                if isinstance(text, str):
                    reply.texts.append(text)
    if reply.texts:
        body.replies.append(reply)
    reason = _str(_get(_dict(response.get("incomplete_details")), "reason")).strip()
    status = _str(response.get("status")).strip()
    if reason or status:
        body.status = reason or status


def _read_images(body: _Body, data: list) -> None:
    """An OpenAI Images API body: every `data[]` entry with `b64_json` or `url` is an image
    (`revised_prompt` is the prompt the model used, not a reply)."""
    for entry in data:
        for key in ("b64_json", "url"):
            if _str(_get(entry, key)).strip():
                body.items.append(f"Images API data[].{key}")
                break
