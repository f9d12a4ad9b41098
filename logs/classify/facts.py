"""The facts of a raw response: images and drafts (wherever the shape puts them, text
included), text, finish reason, token usage and the status."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from logs.classify.body import (
    _DATA_IMAGE,
    SIGNAL_IMAGE,
    SIGNAL_MARKDOWN_URL,
    SIGNAL_TEXT_DATA_URL,
    SIGNAL_WHOLE_URL,
    _Body,
    _Candidate,
    _Choice,
    _Error,
    _read_body,
)
from logs.classify.errortext import _code_in_text, _plain_text
from logs.classify.values import _dict, _get, _http_code, _int, _is_2xx, _is_true, _list, _str

MAX_ERROR_TEXT = 2000
_MARKDOWN_DATA_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*data:image/[^)]*\)", re.IGNORECASE)
_BARE_DATA_IMAGE = re.compile(r"data:image/[^\s)\"']*", re.IGNORECASE)
# An image the gateway stored and linked: a markdown image with an http(s) address, or
# an address that is the whole reply (after at most a short lead such as "..." that
# earlier stream chunks sent while the image was being made).
_MARKDOWN_URL_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*https?://[^\s)]+[^)]*\)", re.IGNORECASE)
MAX_URL_LEAD = 20  # Decision: characters of text allowed before an address that is the reply
_WHOLE_URL = re.compile(r"\s*(.{0," + str(MAX_URL_LEAD) + r"}?)\s*(https?://\S+)\s*",
                        re.IGNORECASE | re.DOTALL)


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
    # Which shape the response was read as: gemini, events, chat, responses, images, error,
    # text (an error as text), none (no response), empty, unknown. Not compared: it names
    # the reading, not a fact of the call.
    shape: str = field(default="", compare=False)


def _is_image_part(part: dict) -> bool:
    inline = _get(part, "inlineData", "inline_data")
    mime = _str(_get(inline, "mimeType", "mime_type")).strip().lower()
    return mime.startswith("image/")


def _is_thought(part: dict) -> bool:
    return _is_true(part.get("thought"))


def _text_of(part: dict) -> str:
    text = part.get("text")
    return text if isinstance(text, str) else ""


def _scan_text(text: str, data_url_signal: str, whole_url: bool = True) -> tuple[list, str]:
    """The images a reply's text holds, and the text without them.

    Images: every `data:image/` URL (markdown or bare) and every markdown image with an
    http(s) address; else (when `whole_url`) an http(s) address that is the whole text,
    after at most a short lead: the image the gateway stored and linked to.
    """
    if ":" not in text:
        return [], text  # no URL of any kind (a long base64 text is read no further)
    images = [data_url_signal] * len(_DATA_IMAGE.findall(text))
    text = _BARE_DATA_IMAGE.sub("", _MARKDOWN_DATA_IMAGE.sub("", text))
    images += [SIGNAL_MARKDOWN_URL] * len(_MARKDOWN_URL_IMAGE.findall(text))
    text = _MARKDOWN_URL_IMAGE.sub("", text)
    if whole_url and not images and _WHOLE_URL.fullmatch(text):
        images, text = [SIGNAL_WHOLE_URL], ""
    return images, text


def _candidate_images(candidate: _Candidate) -> tuple[list, str]:
    """(images as (thought, signal) pairs, the reply's text without its images)."""
    images = [(_is_thought(part), SIGNAL_IMAGE) for part in candidate.parts if _is_image_part(part)]
    thought_text = "".join(_text_of(part) for part in candidate.parts if _is_thought(part))
    found, _ = _scan_text(thought_text, SIGNAL_TEXT_DATA_URL, whole_url=False)
    images += [(True, signal) for signal in found]
    # Decision: next to a final image, an address alone in the text is a link, not an image.
    reply_text = "".join(_text_of(part) for part in candidate.parts if not _is_thought(part))
    has_final = any(not thought for thought, _ in images)
    found, reply_text = _scan_text(reply_text, SIGNAL_TEXT_DATA_URL, whole_url=not has_final)
    return images + [(False, signal) for signal in found], reply_text


def _choice_images(choice: _Choice) -> tuple[list, str]:
    """(image signals, the text without its images) of one OpenAI-style reply."""
    found, text = _scan_text("".join(choice.texts), choice.data_url_signal, whole_url=not choice.images)
    return choice.images + found, text


def _count_images(body: _Body) -> tuple[int, int, str, bool]:
    """(final images delivered, drafts, the signal of the final image, whether text came
    back), taxonomy rules 2 and 7.

    Where a part carries a thought flag: the non-thought images are final, the thought
    images drafts. Where none does: one final image if any, every other image a draft.
    Images of OpenAI-style shapes carry no flag.
    """
    parts = [part for key in sorted(body.candidates) for part in body.candidates[key].parts]
    flagged = any(part.get("thought") is not None for part in parts)
    flags, unflagged, has_text = [], [], False
    for key in sorted(body.candidates):
        images, text = _candidate_images(body.candidates[key])
        flags += images
        has_text = has_text or bool(text.strip())
    for choice in body.all_choices():
        images, text = _choice_images(choice)
        unflagged += images
        has_text = has_text or bool(text.strip())
    unflagged += body.items
    finals = [signal for thought, signal in flags if not (flagged and thought)]
    if flagged:
        drafts = len(flags) - len(finals) + max(len(unflagged) - 1, 0)
        finals += unflagged[-1:]
        return len(finals), drafts, (finals[-1] if finals else ""), has_text
    every = finals + unflagged
    return min(len(every), 1), max(len(every) - 1, 0), (every[-1] if every else ""), has_text


def _first_finish_reason(body: _Body) -> str:
    for key in sorted(body.candidates):
        if body.candidates[key].finish_reason:
            return body.candidates[key].finish_reason
    for key in sorted(body.choices):
        if body.choices[key].finish_reason:
            return body.choices[key].finish_reason
    return body.status


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
    # OpenAI: chat completions name them prompt/completion, Responses and Images API input/output.
    usage = body.openai_usage or {}
    details = _dict(_get(usage, "completion_tokens_details", "output_tokens_details"))
    return {
        "prompt_tokens": _int(_get(usage, "prompt_tokens", "input_tokens")),
        "output_tokens": _int(_get(usage, "completion_tokens", "output_tokens")),
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
    if error.upstream is not None and error.upstream.code is not None:
        return error.upstream.code
    if status is None and error.only_text:
        return _code_in_text(_plain_text(error.text))
    return status


def _facts(body: _Body, http_status, client_error) -> tuple[Facts, str]:
    """The facts, and the signal of the final image ("" when none)."""
    finals, drafts, signal, has_text = _count_images(body)
    if body.error is not None:
        error_text = body.error.words().strip()
    elif body.missing:
        error_text = _str(client_error).strip()
    else:
        error_text = ""
    facts = Facts(
        http_status=_effective_status(http_status, body.error),
        finish_reason=_first_finish_reason(body),
        block_reason=body.block_reason,
        finish_message=_first_finish_message(body),
        error_text=error_text[:MAX_ERROR_TEXT],
        images=finals,
        drafts=drafts,
        has_text=has_text,
        shape=body.shape,
        **_usage_facts(body),
    )
    return facts, signal


def read_response(response, *, http_status=None, client_error=None) -> Facts:
    """The facts of a raw response (see `Facts`), without a verdict."""
    return _facts(_read_body(response), http_status, client_error)[0]
