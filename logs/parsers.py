"""Reading the inputs of formats.md into call records.

Each reader yields, for every input row, one of `Record` (a call, classified, with the
fields of `logs.models.Call`), `Skipped` (a row that is not a call) or `Rejected` (a bad
row, with its line and the reason). Nothing is dropped silently.

Line numbers are the physical line where a record starts, the header being line 1 (NDJSON
has no header: its first line is 1; a JSON array counts envelopes from 1).
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Iterator
from zoneinfo import ZoneInfo

from django.conf import settings

from logs.choices import Category, LogType, Source
from logs.classify import _text_error, classify_call, classify_export_row
from logs.families import family_of
from logs.fingerprint import prompt_fingerprint
from logs.money import parse_usd, quota_to_usd
from logs.timeutil import UTC


class InputError(Exception):
    """The whole input is refused: not of the kind declared or detected."""


class RowError(ValueError):
    """One row is bad; the message is the reason shown to the user."""


class Record:
    """A call read from the input: its line, customer, `Call` fields, and the incoming record.

    `raw` (the incoming record whole, kept for a conflict) is built only when read: a reader
    may pass `raw_from=(function, argument)` instead of `raw`, so the millions of rows that
    are no conflict never pay for it.
    """

    __slots__ = ("line", "customer_slug", "fields", "_raw", "_raw_from")

    def __init__(self, line: int, customer_slug: str, fields: dict[str, Any],
                 raw: dict[str, Any] | None = None, *, raw_from: tuple | None = None):
        self.line = line
        self.customer_slug = customer_slug
        self.fields = fields            # Call fields
        self._raw = raw
        self._raw_from = raw_from

    @property
    def raw(self) -> dict[str, Any]:
        if self._raw is None:
            if self._raw_from is not None:
                fn, arg = self._raw_from
                self._raw = fn(arg)
                self._raw_from = None
            else:
                self._raw = {}
        return self._raw

    @raw.setter
    def raw(self, value: dict[str, Any]) -> None:
        self._raw, self._raw_from = value, None

    def __repr__(self) -> str:
        return f"Record(line={self.line!r}, customer_slug={self.customer_slug!r}, fields={self.fields!r})"

    def __eq__(self, other) -> bool:
        if not isinstance(other, Record):
            return NotImplemented
        return (self.line, self.customer_slug, self.fields, self.raw) == (
            other.line, other.customer_slug, other.fields, other.raw)


@dataclass
class Skipped:
    line: int
    reason: str


@dataclass
class Rejected:
    line: int
    reason: str


# --- detection -------------------------------------------------------------------------

XLSX_MAGIC = b"PK\x03\x04"
KIND_HELP = ("expected call envelopes (format A: NDJSON, one JSON object a line, or a JSON array) "
             "or a gateway log export (format B: CSV or XLSX with a header row such as "
             "Time/时间, Type/类型, Model/模型)")


def detect(head: bytes) -> tuple[str, str]:
    """(source, container) from the first bytes: ("calls", "json") / ("gateway", "csv"|"xlsx")."""
    if head.startswith(XLSX_MAGIC):
        return Source.GATEWAY, "xlsx"
    if b"\x00" in head:
        raise InputError(f"this is a binary file, not text: {KIND_HELP}")
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8):]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            raise InputError(f"the file is not UTF-8 text: {KIND_HELP}") from None
        text = head[: exc.start].decode("utf-8", errors="ignore")
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        return Source.CALLS, "json"
    first = stripped.splitlines()[0] if stripped else ""
    cols = gateway_columns(next(csv.reader([first]), []))
    if "time" in cols and "type" in cols:
        return Source.GATEWAY, "csv"
    if not stripped:
        raise InputError(f"the file is empty: {KIND_HELP}")
    raise InputError(f"no known header or JSON found: {KIND_HELP}")


# --- values ------------------------------------------------------------------------------

def parse_time(value: Any, tz: ZoneInfo, label: str = "time") -> dt.datetime:
    """ISO 8601 (with offset, or naive in `tz`), `YYYY-MM-DD HH:MM:SS`, or Unix seconds."""
    if isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, bool) or value is None:
        raise RowError(f"{label} is missing")
    elif isinstance(value, (int, float)):
        try:
            return dt.datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise RowError(f"{label} {value!r} is out of range") from None
    else:
        s = str(value).strip()
        if not s:
            raise RowError(f"{label} is missing")
        if not (s[:4].isdigit() and s[4:5] == "-") and _NUMBER.fullmatch(s):
            return parse_time(float(s), tz, label)
        try:
            when = dt.datetime.fromisoformat(s)
        except ValueError:
            raise RowError(
                f"{label} {s!r} is neither ISO 8601, YYYY-MM-DD HH:MM:SS nor Unix seconds") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    return when.astimezone(UTC)


_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def parse_int(value: Any, label: str) -> int | None:
    if value is None or isinstance(value, bool):
        if isinstance(value, bool):
            raise RowError(f"{label} {value!r} is not an integer")
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise RowError(f"{label} {value!r} is not an integer")
    s = str(value).strip()
    if not s:
        return None
    try:
        return int(s)
    except ValueError:
        try:
            d = Decimal(s)
        except InvalidOperation:
            raise RowError(f"{label} {s!r} is not an integer") from None
        if d.is_finite() and d == d.to_integral_value():
            return int(d)
        raise RowError(f"{label} {s!r} is not an integer") from None


def parse_seconds_ms(value: Any, label: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        seconds = Decimal(str(value).strip().rstrip("s"))
    except InvalidOperation:
        raise RowError(f"{label} {value!r} is not a number of seconds") from None
    if not seconds.is_finite():
        raise RowError(f"{label} {value!r} is not a number of seconds")
    return int(seconds * 1000)


def parse_amount(value: Any, label: str) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return parse_usd(value)
    except ValueError:
        raise RowError(f"{label} {value!r} is not a number") from None


def parse_quota(value: Any, label: str) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return quota_to_usd(value)
    except ValueError:
        raise RowError(f"{label} {value!r} is not a quota number") from None


def parse_ratio(value: Any, label: str = "group_ratio") -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise RowError(f"{label} {value!r} is not a number")
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise RowError(f"{label} {value!r} is not a number") from None
    if not d.is_finite() or d < 0:
        raise RowError(f"{label} {value!r} is not a number")
    return d.quantize(Decimal("0.000001"))


def _text(value: Any, limit: int = 200) -> str:
    if value is None:
        return ""
    return str(value).strip()[:limit]


# --- image data elision ------------------------------------------------------------------

_DATA_URL = re.compile(r"(data:image/[\w.+-]+;base64,)([A-Za-z0-9+/=_-]{16,})")


def _elide_text(s: str) -> str:
    if "base64," not in s:
        return s
    return _DATA_URL.sub(lambda m: f"{m.group(1)}<{len(m.group(2))} chars elided>", s)


def elide_images(obj: Any) -> Any:
    """The response with every image part's `data` replaced by its length."""
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            if key in ("inlineData", "inline_data") and isinstance(value, dict):
                value = {k: (len(v) if k == "data" and isinstance(v, str) else elide_images(v))
                         for k, v in value.items()}
                out[key] = value
            else:
                out[key] = elide_images(value)
        return out
    if isinstance(obj, list):
        return [elide_images(v) for v in obj]
    if isinstance(obj, str):
        return _elide_text(obj)
    return obj


# --- format A: call envelopes --------------------------------------------------------------

def envelope_record(obj: Any, *, line: int, tz: ZoneInfo, customer_slug: str | None) -> Record:
    """One envelope -> a classified Record. Raises RowError with the reason."""
    if not isinstance(obj, dict):
        raise RowError(f"an envelope must be a JSON object, not {type(obj).__name__}")
    rid = obj.get("request_id")
    if isinstance(rid, (int,)) and not isinstance(rid, bool):
        rid = str(rid)
    if not isinstance(rid, str) or not rid.strip():
        raise RowError("request_id is missing or empty")
    rid = rid.strip()
    if len(rid) > 200:
        raise RowError("request_id is longer than 200 characters")
    created_at = parse_time(obj.get("created_at"), tz, "created_at")
    slug = obj.get("customer")
    slug = slug.strip() if isinstance(slug, str) else ""
    if customer_slug:
        if slug and slug != customer_slug:
            raise RowError(f"the envelope names customer {slug!r}, but this import is for {customer_slug!r}")
        slug = customer_slug
    if not slug:
        raise RowError("customer is missing (name one for the import, or give `customer` in the envelope)")
    model = obj.get("model")
    if not isinstance(model, str) or not model.strip():
        raise RowError("model is missing or empty")
    model = model.strip()
    http_status = parse_int(obj.get("http_status"), "http_status")
    latency_ms = parse_int(obj.get("latency_ms"), "latency_ms")
    charged = parse_amount(obj.get("charged_usd"), "charged_usd")
    if charged is None:
        charged = parse_quota(obj.get("quota"), "quota")
    group_ratio = parse_ratio(obj.get("group_ratio"))
    client_error = obj.get("error")
    client_error = _text(client_error, 2000) if client_error not in (None, "") else None
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
        "token_name": _text(obj.get("token_name")),
        "route": _text(obj.get("route"), 64),
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
        "image_size": _text(obj.get("image_size"), 32),
        "latency_ms": latency_ms,
        "charged_usd": charged,
        "group_ratio": group_ratio,
        "category": verdict.category,
        "reason": verdict.reason[:300],
        "prompt_fingerprint": prompt_fingerprint(prompt),
        "prompt": (prompt or "") if settings.NBAUDIT_STORE_PROMPTS else "",
        "response": elide_images(response) if response is not None else None,
    }
    raw = {k: v for k, v in obj.items() if k not in ("response", "prompt")}
    raw["response"] = fields["response"]
    return Record(line=line, customer_slug=slug, fields=fields, raw=_jsonable(raw))


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str))


def iter_envelopes(stream: io.BufferedIOBase, *, tz: ZoneInfo, customer_slug: str | None
                   ) -> Iterator[Record | Rejected]:
    """NDJSON (a line an envelope) or one JSON array of envelopes."""
    text_stream = codecs.getreader("utf-8-sig")(stream, errors="replace")
    first_chunk = text_stream.read(4096)
    if first_chunk.lstrip().startswith("["):
        rest = text_stream.read()
        try:
            items = json.loads(first_chunk + rest)
        except json.JSONDecodeError as exc:
            # An array that does not parse may still be NDJSON whose first line is an array.
            lines = (first_chunk + rest).splitlines()
            try:
                json.loads(lines[0]) if lines else None
            except json.JSONDecodeError:
                raise InputError(f"the JSON array does not parse: {exc.msg} at line {exc.lineno}, "
                                 f"column {exc.colno}") from None
            yield from _ndjson(iter(lines), tz=tz, customer_slug=customer_slug)
            return
        if not isinstance(items, list):
            raise InputError("expected a JSON array of call envelopes")
        for pos, obj in enumerate(items, start=1):
            yield _envelope_or_reject(obj, pos, tz, customer_slug)
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
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Rejected(number, f"invalid JSON: {exc.msg} (column {exc.colno})")
            continue
        yield _envelope_or_reject(obj, number, tz, customer_slug)


def _envelope_or_reject(obj, line, tz, customer_slug):
    try:
        return envelope_record(obj, line=line, tz=tz, customer_slug=customer_slug)
    except RowError as exc:
        return Rejected(line, str(exc))


# --- format B: gateway log export ------------------------------------------------------------

_HEADERS = {
    "time": ["time", "created at", "时间", "创建时间"],
    "request_id": ["request id", "请求id", "请求 id"],
    "user": ["user", "username", "用户", "用户名"],
    "token": ["token", "token name", "令牌", "令牌名称"],
    "group": ["group", "分组"],
    "type": ["type", "类型"],
    "model": ["model", "模型", "模型名称"],
    "use_time": ["use time", "use time (s)", "用时", "用时(s)"],
    "prompt": ["prompt", "prompt tokens", "input tokens", "提示", "输入"],
    "completion": ["completion", "completion tokens", "output tokens", "补全", "输出"],
    "cost": ["cost", "花费"],
    "quota": ["quota", "额度"],
    "details": ["details", "content", "详情", "内容"],
}


def _header_key(h: Any) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(h or "")).strip().lower())


_HEADER_INDEX = {_header_key(name): key for key, names in _HEADERS.items() for name in names}

_TYPES = {
    "消费": LogType.CONSUME, "consume": LogType.CONSUME, "2": LogType.CONSUME,
    "错误": LogType.ERROR, "error": LogType.ERROR, "5": LogType.ERROR,
    "充值": "topup", "topup": "topup", "1": "topup",
    "管理": "manage", "manage": "manage", "3": "manage",
    "系统": "system", "system": "system", "4": "system",
    "退款": "refund", "refund": "refund", "6": "refund",
}
_RATIO = re.compile(r"(?:分组倍率|group\s*ratio)\s*[:：=]?\s*([0-9]+(?:\.[0-9]+)?)", re.I)


def gateway_columns(header: list) -> dict[str, int]:
    """Canonical column key -> index; unknown columns ignored."""
    cols: dict[str, int] = {}
    for i, h in enumerate(header):
        key = _HEADER_INDEX.get(_header_key(h))
        if key and key not in cols:
            cols[key] = i
    return cols


_TYPE_VALUES = {key: str(value) for key, value in _TYPES.items()}  # plain strings
_MEMO_LIMIT = 100_000
_SIX = Decimal("0.000001")


class GatewayRows:
    """Turns the cells of a gateway export row into a Record / Skipped / Rejected.

    The decisions are the shared pure functions (`classify_export_row`, `parse_usd`, ...);
    as an export repeats the same few cost, details and (model, tokens) values over and
    over, their results are memoized per reader, keyed by every argument they take.
    """

    def __init__(self, cols: dict[str, int], *, tz: ZoneInfo, customer_slug: str | None):
        self.cols = cols
        self.tz = tz
        self.customer_slug = customer_slug
        self.items = list(cols.items())
        self._verdicts: dict = {}
        self._details: dict = {}
        self._amounts: dict = {}
        self._quota = "quota" in cols
        (self.i_time, self.i_type, self.i_model, self.i_user, self.i_prompt, self.i_completion,
         self.i_cost, self.i_use_time, self.i_details, self.i_token, self.i_rid, self.i_group) = (
            cols.get(k) for k in ("time", "type", "model", "user", "prompt", "completion",
                                  "quota" if self._quota else "cost", "use_time", "details", "token",
                                  "request_id", "group"))

    def cell(self, cells: list, key: str):
        i = self.cols.get(key)
        if i is None or i >= len(cells):
            return None
        v = cells[i]
        return v.strip() if isinstance(v, str) else v

    def row(self, cells: list, line: int) -> Record | Skipped | Rejected:
        try:
            return self._row(cells, line)
        except RowError as exc:
            return Rejected(line, str(exc))

    def raw_of(self, cells: list) -> dict:
        """The incoming row whole, by canonical column key (JSON-safe)."""
        raw = {key: (cells[i] if i < len(cells) else None) for key, i in self.items}
        if all(v is None or type(v) is str for v in raw.values()):
            return raw
        return _jsonable(raw)

    def _amount(self, value):
        if value is None or value == "":
            return None
        memo = self._amounts
        try:
            return memo[value]
        except (KeyError, TypeError):
            pass
        amount = parse_quota(value, "quota") if self._quota else parse_amount(value, "cost")
        if type(value) is str:
            if len(memo) > _MEMO_LIMIT:
                memo.clear()
            memo[value] = amount
        return amount

    def _from_details(self, details: str, is_error: bool):
        key = (details, is_error)
        hit = self._details.get(key)
        if hit is None:
            m = _RATIO.search(details)
            group_ratio = Decimal(m.group(1)).quantize(_SIX) if m else None
            http_status = _text_error(details).code if is_error else None
            hit = (group_ratio, http_status)
            if len(self._details) > _MEMO_LIMIT:
                self._details.clear()
            self._details[key] = hit
        return hit

    def _verdict(self, log_type: str, model: str, output_tokens, details: str):
        key = (log_type, model, output_tokens, details)
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = classify_export_row(log_type=log_type, model=model, output_tokens=output_tokens,
                                          details=details)
            if len(self._verdicts) > _MEMO_LIMIT:
                self._verdicts.clear()
            self._verdicts[key] = verdict
        return verdict

    def _row(self, cells: list, line: int):
        n = len(cells)

        def c(i):
            if i is None or i >= n:
                return None
            v = cells[i]
            return v.strip() if type(v) is str else v

        raw_type = c(self.i_type)
        if raw_type is None or str(raw_type).strip() == "":
            raise RowError("type is missing")
        log_type = _TYPE_VALUES.get(raw_type) if type(raw_type) is str else None
        if log_type is None:
            type_key = str(raw_type).strip().lower()
            if type_key.endswith(".0"):
                type_key = type_key[:-2]
            log_type = _TYPE_VALUES.get(type_key)
            if log_type is None:
                raise RowError(f"type {raw_type!r} is not a known log type")
        created_at = parse_time(c(self.i_time), self.tz, "time")
        if log_type != "consume" and log_type != "error":
            return Skipped(line, f"{log_type} row (not a call)")
        model = c(self.i_model)
        model = str(model).strip() if model is not None else ""
        if not model:
            raise RowError("model is missing")
        slug = self.customer_slug or _text(c(self.i_user), 64)
        if not slug:
            raise RowError("no customer: the row has no User and the import names no customer")
        prompt_tokens = _int_cell(c(self.i_prompt), "prompt tokens")
        output_tokens = _int_cell(c(self.i_completion), "completion tokens")
        charged = self._amount(c(self.i_cost))
        use_time = c(self.i_use_time)
        if type(use_time) is str and use_time.isdigit() and use_time.isascii():
            latency_ms = int(use_time) * 1000
        else:
            latency_ms = parse_seconds_ms(use_time, "use time")
        details = c(self.i_details)
        details = "" if details is None else str(details)
        token = _text(c(self.i_token))
        group_ratio, http_status = self._from_details(details, log_type == "error")
        verdict = self._verdict(log_type, model, output_tokens, details)
        rid = _text(c(self.i_rid))
        synthetic = not rid
        if synthetic:
            rid = f"~{created_at:%Y%m%dT%H%M%SZ}|{token}|{model}|{charged if charged is not None else ''}"[:200]
        category = verdict.category
        fields = {
            "request_id": rid,
            "request_id_synthetic": synthetic,
            "created_at": created_at,
            "model": model,
            "family": family_of(model) or "",
            "token_name": token,
            "route": "gateway",
            "group": _text(c(self.i_group), 64),
            "source": Source.GATEWAY,
            "log_type": log_type,
            "http_status": http_status,
            "error_text": details,
            "prompt_tokens": prompt_tokens,
            "output_tokens": output_tokens,
            "images": 1 if category == Category.SUCCESS else 0,
            "latency_ms": latency_ms,
            "charged_usd": charged,
            "group_ratio": group_ratio,
            "category": category,
            "reason": verdict.reason[:300],
        }
        return Record(line, slug, fields, raw_from=(self.raw_of, cells))


def _int_cell(value, label: str) -> int | None:
    """parse_int, with the common case (a plain decimal string) first."""
    if type(value) is str:
        if not value:
            return None
        if value.isdigit() and value.isascii():
            return int(value)
    return parse_int(value, label)


def iter_gateway_csv(stream: io.BufferedIOBase, *, tz: ZoneInfo, customer_slug: str | None
                     ) -> Iterator[Record | Skipped | Rejected]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    lines = enumerate(text, start=1)
    header_line = next(lines, None)
    if header_line is None:
        raise InputError(f"the file is empty: {KIND_HELP}")
    header = next(csv.reader([header_line[1]]), [])
    cols = gateway_columns(header)
    if "time" not in cols or "type" not in cols:
        raise InputError(f"the header row has no Time/时间 and Type/类型 columns: {KIND_HELP}")
    rows = GatewayRows(cols, tz=tz, customer_slug=customer_slug)
    width = len(header)
    for start, cells in _csv_records(lines, width):
        if isinstance(cells, str):
            yield Rejected(start, cells)
            continue
        yield rows.row(cells, start)


def _csv_records(lines, width: int):
    """(start line, cells) per record; (start line, reason) for a broken record.

    A record spans lines while a quote is open (an odd count of `"`); a record that then
    does not have the header's width is a broken quote: its first line is rejected and the
    lines after it are read again as records of their own.
    """
    pending: list[tuple[int, str]] = []
    replay: list[tuple[int, str]] = []
    it = iter(lines)
    while True:
        if replay:
            number, line = replay.pop(0)
        else:
            nxt = next(it, None)
            if nxt is None:
                break
            number, line = nxt
        if not pending and '"' not in line:
            # The common case: one line, no quotes (what the general path below does for it).
            cells = line.rstrip("\r\n").split(",")
            if len(cells) < width and not any(c.strip() for c in cells):
                continue  # blank lines are not rows, but they advance the line number
            yield number, cells
            continue
        if not pending and not line.strip():
            continue  # blank lines are not rows, but they advance the line number
        pending.append((number, line))
        joined = "".join(part for _, part in pending)
        if joined.count('"') % 2 == 1 and len(pending) < 50:
            continue
        start = pending[0][0]
        if '"' not in joined:
            cells = joined.rstrip("\r\n").split(",")
        else:
            try:
                cells = next(csv.reader([joined.rstrip("\r\n")], strict=True))
            except csv.Error:
                cells = None
        if cells is None or (len(cells) != width and len(pending) > 1) or joined.count('"') % 2 == 1:
            yield start, "broken quote: the record does not parse as CSV"
            replay = pending[1:] + replay
            pending = []
            continue
        pending = []
        if len(cells) < width and not any(c.strip() for c in cells):
            continue
        yield start, cells
    if pending:
        yield pending[0][0], "broken quote: the record does not parse as CSV"
        for number, line in pending[1:]:
            yield from _csv_records(iter([(number, line)]), width)


def iter_gateway_xlsx(stream, *, tz: ZoneInfo, customer_slug: str | None
                      ) -> Iterator[Record | Skipped | Rejected]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged archive
        raise InputError(f"the XLSX file cannot be opened ({exc.__class__.__name__}): {KIND_HELP}") from None
    try:
        for ws in wb.worksheets:
            rows_iter = ws.iter_rows(values_only=True)
            header = next(rows_iter, None)
            cols = gateway_columns(list(header or []))
            if "time" not in cols or "type" not in cols:
                continue
            rows = GatewayRows(cols, tz=tz, customer_slug=customer_slug)
            for number, cells in enumerate(rows_iter, start=2):
                cells = list(cells)
                if not any(v is not None and str(v).strip() for v in cells):
                    continue
                yield rows.row(cells, number)
            return
        raise InputError(f"no sheet has a known header row: {KIND_HELP}")
    finally:
        wb.close()
