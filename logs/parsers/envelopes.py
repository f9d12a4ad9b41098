"""Format A: call envelopes, NDJSON (one a line) or a JSON array; also the push API's body."""
from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from logs.choices import Source
from logs.classify import classify_call
from logs.families import family_of
from logs.fingerprint import prompt_fingerprint
from logs.parsers.base import InputError, Record, Rejected, RowError, text_reader
from logs.parsers.values import (
    MAX_DEPTH,
    TEXT_LIMITS,
    check_counts,
    check_json,
    check_unicode,
    json_float,
    json_reject_constant,
    may_hold_surrogates,
    may_nest_deep,
    parse_amount,
    parse_int,
    parse_quota,
    parse_ratio,
    parse_request_id,
    parse_slug,
    parse_status,
    parse_text,
    parse_time,
)

# --- image data elision ------------------------------------------------------------------

_DATA_URL = re.compile(r"(data:image/[\w.+-]+;base64,)([A-Za-z0-9+/=_-]{16,})")


def _elide_text(s: str) -> str:
    if "base64," not in s:
        return s
    return _DATA_URL.sub(lambda m: f"{m.group(1)}<{len(m.group(2))} chars elided>", s)


def elide_images(obj: Any) -> Any:
    """The response with every image's base64 replaced by its length: image parts' `data`, the
    Images API's `b64_json`, a Responses `image_generation_call`'s `result`, data: URLs in text."""
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            if key in ("inlineData", "inline_data") and isinstance(value, dict):
                value = {k: (len(v) if k == "data" and isinstance(v, str) else elide_images(v))
                         for k, v in value.items()}
                out[key] = value
            elif isinstance(value, str) and (key == "b64_json" or (  # Images API; Responses API image
                    key == "result" and obj.get("type") == "image_generation_call"
                    and not value.startswith("data:"))):
                out[key] = len(value)
            else:
                out[key] = elide_images(value)
        return out
    if isinstance(obj, list):
        return [elide_images(v) for v in obj]
    if isinstance(obj, str):
        return _elide_text(obj)
    return obj


# --- JSON text -------------------------------------------------------------------------------

_decoder = json.JSONDecoder(parse_float=json_float, parse_constant=json_reject_constant)


def _decoded(decode, text: str, *args):
    try:
        return decode(text, *args)
    except json.JSONDecodeError as exc:
        raise RowError(f"invalid JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        raise RowError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except RowError:
        raise
    except ValueError as exc:  # an integer of thousands of digits (int_max_str_digits)
        raise RowError(f"a number that cannot be read ({str(exc)[:80]})") from None


def _checked(obj: Any, text: str, start: int = 0, end: int | None = None) -> Any:
    deep, odd = may_nest_deep(text, start, end), may_hold_surrogates(text, start, end)
    if deep or odd:
        check_json(obj, depth=deep, strings=odd)
    return obj


def json_value(text: str, start: int = 0) -> tuple[Any, int]:
    """(value, end) of the JSON value at `start`; RowError with the reason when it is bad.

    Bad: invalid JSON, a number that is not finite, an integer too long to read, nesting past
    MAX_DEPTH, a string that is not valid Unicode.
    """
    obj, end = _decoded(_decoder.raw_decode, text, start)
    return _checked(obj, text, start, end), end


def json_line(line: str) -> Any:
    """One NDJSON line's value, checked as `json_value` (the line holds only valid text)."""
    check_unicode(line, "the line")
    return _checked(_decoded(_decoder.decode, line), line)


# --- one envelope ------------------------------------------------------------------------------

def envelope_record(obj: Any, *, line: int, tz: ZoneInfo, customer_slug: str | None,
                    checked: bool = False) -> Record:
    """One envelope -> a classified Record. Raises RowError with the reason.

    `checked`: `obj` was decoded from JSON text by this module, which checked its nesting and
    strings already; any other object is checked here (lone surrogates, depth) first.
    """
    if not isinstance(obj, dict):
        raise RowError(f"an envelope must be a JSON object, not {type(obj).__name__}")
    if not checked:
        check_json(obj)
    rid = obj.get("request_id")
    if not isinstance(rid, (str, int)) or isinstance(rid, bool) or (isinstance(rid, str) and not rid.strip()):
        raise RowError("request_id is missing or empty")
    rid = parse_request_id(rid)
    created_at = parse_time(obj.get("created_at"), tz, "created_at")
    slug = obj.get("customer")
    slug = parse_slug(slug) if isinstance(slug, str) else ""
    if customer_slug:
        if slug and slug != customer_slug:
            raise RowError(f"the envelope names customer {slug!r}, but this import is for {customer_slug!r}")
        slug = customer_slug
    if not slug:
        raise RowError("customer is missing (name one for the import, or give `customer` in the envelope)")
    model = obj.get("model")
    if not isinstance(model, str) or not model.strip():
        raise RowError("model is missing or empty")
    model = parse_text(model, "model", TEXT_LIMITS["model"])
    http_status = parse_status(obj.get("http_status"), "http_status")
    latency_ms = parse_int(obj.get("latency_ms"), "latency_ms")
    charged = parse_amount(obj.get("charged_usd"), "charged_usd")
    if charged is None:
        charged = parse_quota(obj.get("quota"), "quota")
    group_ratio = parse_ratio(obj.get("group_ratio"))
    client_error = obj.get("error")
    client_error = parse_text(client_error, "error") if client_error not in (None, "") else None
    response = obj.get("response")
    verdict, facts = classify_call(
        model=model, http_status=http_status or None, response=response, client_error=client_error
    )
    prompt = obj.get("prompt")
    prompt = prompt if isinstance(prompt, str) else None
    fields = {
        "request_id": rid,
        "created_at": created_at,
        "model": model,
        "family": family_of(model) or "",
        "token_name": parse_text(obj.get("token_name"), "token_name", TEXT_LIMITS["token_name"]),
        "route": parse_text(obj.get("route"), "route", TEXT_LIMITS["route"]),
        "source": Source.CALLS,
        "http_status": facts.http_status if facts.http_status is not None else (http_status or None),
        "finish_reason": facts.finish_reason[:64],
        "block_reason": facts.block_reason[:64],
        "finish_message": facts.finish_message,
        "error_text": facts.error_text or (client_error or ""),
        "prompt_tokens": facts.prompt_tokens,
        "output_tokens": facts.output_tokens,
        "thoughts_tokens": facts.thoughts_tokens,
        "total_tokens": facts.total_tokens,
        "image_tokens": facts.image_tokens,
        "images": facts.images,
        "drafts": facts.drafts,
        "image_size": parse_text(obj.get("image_size"), "image_size", TEXT_LIMITS["image_size"]),
        "latency_ms": latency_ms,
        "charged_usd": charged,
        "group_ratio": group_ratio,
        "category": verdict.category,
        "reason": verdict.reason[:300],
        "prompt_fingerprint": prompt_fingerprint(prompt),
        "prompt": (prompt or "") if settings.NBAUDIT_STORE_PROMPTS else "",
        "response": elide_images(response) if response is not None else None,
    }
    check_counts(fields)  # counts read from the response's usage block, and its error code
    raw = {k: v for k, v in obj.items() if k not in ("response", "prompt")}
    raw["response"] = fields["response"]
    return Record(line=line, customer_slug=slug, fields=fields, raw=_jsonable(raw))


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str))


def envelope_or_reject(obj, line: int, tz: ZoneInfo, customer_slug: str | None) -> Record | Rejected:
    try:
        return envelope_record(obj, line=line, tz=tz, customer_slug=customer_slug, checked=True)
    except RowError as exc:
        return Rejected(line, str(exc))
    except RecursionError:  # a structure deep enough to exhaust the reader: still a bad row
        return Rejected(line, f"JSON nested deeper than {MAX_DEPTH} levels")


# --- a stream of envelopes ----------------------------------------------------------------

def iter_envelopes(stream: io.BufferedIOBase, *, tz: ZoneInfo, customer_slug: str | None
                   ) -> Iterator[Record | Rejected]:
    """NDJSON (a line an envelope) or one JSON array of envelopes."""
    text_stream = text_reader(stream)
    first_chunk = text_stream.read(4096)
    if first_chunk.lstrip().startswith("["):
        yield from _array(first_chunk + text_stream.read(), tz=tz, customer_slug=customer_slug)
        return

    def lines():
        buf = first_chunk
        while True:
            while "\n" in buf:
                line, buf = buf.split("\n", 1)
                yield line
            more = text_stream.read(1 << 16)
            if not more:
                if buf:
                    yield buf
                return
            buf += more

    yield from _ndjson(lines(), tz=tz, customer_slug=customer_slug)


def _ndjson(lines, *, tz, customer_slug):
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json_line(line)
        except RowError as exc:
            yield Rejected(number, str(exc))
            continue
        yield envelope_or_reject(obj, number, tz, customer_slug)


def _array(text: str, *, tz, customer_slug):
    """A JSON array of envelopes, its positions counted from 1; a bad element costs only itself."""
    try:
        items = _decoder.decode(text)
    except json.JSONDecodeError as exc:
        # An array that does not parse may still be NDJSON whose first line is an array.
        lines = text.splitlines()
        try:
            json.loads(lines[0]) if lines else None
        except (ValueError, RecursionError):
            raise InputError(f"the JSON array does not parse: {exc.msg} at line {exc.lineno}, "
                             f"column {exc.colno}") from None
        yield from _ndjson(iter(lines), tz=tz, customer_slug=customer_slug)
        return
    except (ValueError, RecursionError):
        # A value in it is bad (not finite, too deep, too long a number): element by element.
        yield from _array_elements(text, tz=tz, customer_slug=customer_slug)
        return
    if not isinstance(items, list):
        raise InputError("expected a JSON array of call envelopes")
    deep, odd = may_nest_deep(text), may_hold_surrogates(text)
    for pos, obj in enumerate(items, start=1):
        if deep or odd:
            try:
                check_json(obj, depth=deep, strings=odd)
            except RowError as exc:
                yield Rejected(pos, str(exc))
                continue
        yield envelope_or_reject(obj, pos, tz, customer_slug)


_SPACE = " \t\r\n"


def _array_elements(text: str, *, tz, customer_slug):
    """The elements of an array one at a time (the array itself is well formed JSON)."""
    pos = text.index("[") + 1
    number = 0
    while True:
        while pos < len(text) and text[pos] in _SPACE:
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            return
        number += 1
        try:
            obj, pos = json_value(text, pos)
        except RowError as exc:
            yield Rejected(number, str(exc))
            pos = skip_value(text, pos)
        else:
            yield envelope_or_reject(obj, number, tz, customer_slug)
        while pos < len(text) and text[pos] in _SPACE:
            pos += 1
        if pos < len(text) and text[pos] == ",":
            pos += 1


def skip_value(text: str, pos: int) -> int:
    """The end of the JSON value at `pos`, found without parsing it (strings and nesting only)."""
    depth = 0
    in_string = False
    i = pos
    n = len(text)
    while i < n:
        ch = text[i]
        if in_string:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_string = False
                if depth == 0:
                    return i + 1
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            if depth == 0:
                return i
            depth -= 1
            if depth == 0:
                return i + 1
        elif ch == "," and depth == 0:
            return i
        i += 1
    return n
