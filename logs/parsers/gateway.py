"""Format B: the gateway's log export, CSV or XLSX (a New API style console's log table)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import operator
import re
import unicodedata
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from logs.choices import Category, LogType, Source
from logs.classify import _text_error, classify_export_row
from logs.families import family_of
from logs.parsers.base import InputError, Record, Rejected, RowError, Skipped, text_wrapper
from logs.parsers.tabular import csv_records, xlsx_open, xlsx_read
from logs.parsers.values import (
    EARLIEST,
    TEXT_LIMITS,
    check_unicode,
    horizon,
    parse_amount,
    parse_int,
    parse_quota,
    parse_ratio,
    parse_seconds_ms,
    parse_slug,
    parse_text,
    parse_time,
)
from logs.timeutil import UTC

KIND_HELP = ("expected call envelopes (format A: NDJSON, one JSON object a line, or a JSON array) "
             "or a gateway log export (format B: CSV or XLSX with a header row such as "
             "Time/时间, Type/类型, Model/模型)")

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
_RATIO = re.compile(r"(?:分组倍率|group\s*ratio)\s*[:：=]?\s*([0-9]+(?:\.[0-9]+)?)", re.IGNORECASE)


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


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str))


class GatewayRows:
    """Turns the cells of a gateway export row into a Record / Skipped / Rejected.

    The decisions are the shared pure functions (`classify_export_row`, `parse_amount`, ...);
    as an export repeats the same few cost, details and (model, tokens) values over and
    over, their results are memoized per reader, keyed by every argument they take.
    """

    def __init__(self, cols: dict[str, int], *, tz: ZoneInfo, customer_slug: str | None):
        self.cols = cols
        self.tz = tz
        self.customer_slug = customer_slug
        self.latest = horizon()  # the clock taken once for the file's rows
        self.items = list(cols.items())
        self._verdicts: dict = {}
        self._details: dict = {}
        self._amounts: dict = {}
        self._slugs: dict = {}
        self._quota = "quota" in cols
        (self.i_time, self.i_type, self.i_model, self.i_user, self.i_prompt, self.i_completion,
         self.i_cost, self.i_use_time, self.i_details, self.i_token, self.i_rid, self.i_group) = (
            cols.get(k) for k in ("time", "type", "model", "user", "prompt", "completion",
                                  "quota" if self._quota else "cost", "use_time", "details", "token",
                                  "request_id", "group"))
        # The short path (`_fast`) reads rows of exports that have every one of these columns.
        order = (self.i_time, self.i_type, self.i_model, self.i_user, self.i_prompt, self.i_completion,
                 self.i_cost, self.i_use_time, self.i_details, self.i_token, self.i_rid, self.i_group)
        self._pick = operator.itemgetter(*order) if None not in order else None
        self._shapes: dict = {}
        self._hours: dict = {}

    def cell(self, cells: list, key: str):
        i = self.cols.get(key)
        if i is None or i >= len(cells):
            return None
        v = cells[i]
        return v.strip() if isinstance(v, str) else v

    def row(self, cells: list, line: int) -> Record | Skipped | Rejected:
        if self._pick is not None:
            record = self._fast(cells, line)
            if record is not None:
                return record
        try:
            return self._row(cells, line)
        except RowError as exc:
            return Rejected(line, str(exc))

    # -- the short path ------------------------------------------------------------------------
    # An export repeats a few shapes: a call row's type, model, completion tokens and details
    # decide its log type, family, status, group ratio and category (`_shape`). A row whose shape
    # `_row` has read before, with plain values everywhere else, is read here in fewer steps, to
    # the same Record. Anything else (a new shape, an odd value, a bad row) returns None and is
    # read by `_row`, which alone rejects: its reasons and their order stay as they are.

    def _fast(self, cells: list, line: int) -> Record | None:
        try:
            (at, raw_type, model, user, prompt, completion, cost, use_time, details, token, rid,
             group) = [v.strip() for v in self._pick(cells)]
            shape = self._shapes.get((raw_type, model, completion, details))
            if shape is None:
                return None
            created_at = self._time(at)
            if created_at is None:
                return None
            slug = self.customer_slug or self._slug(user)
            if prompt == "":
                prompt_tokens = None
            elif prompt.isdigit() and prompt.isascii() and len(prompt) < 10:
                prompt_tokens = int(prompt)
            else:
                return None
            charged = self._amount(cost)
            if use_time == "":
                latency_ms = None
            elif use_time.isdigit() and use_time.isascii() and len(use_time) < 7:
                latency_ms = int(use_time) * 1000
            else:
                return None
        except (RowError, AttributeError, TypeError, IndexError):
            return None
        if (not slug or not (token.isascii() and len(token) <= TEXT_LIMITS["token_name"])
                or not (rid and rid.isascii() and len(rid) <= TEXT_LIMITS["request_id"])
                or not (group.isascii() and len(group) <= TEXT_LIMITS["group"])):
            return None
        log_type, model, family, output_tokens, http_status, group_ratio, category, reason, images = shape
        fields = {
            "request_id": rid,
            "request_id_synthetic": False,
            "created_at": created_at,
            "model": model,
            "family": family,
            "token_name": token,
            "route": "gateway",
            "group": group,
            "source": Source.GATEWAY,
            "log_type": log_type,
            "http_status": http_status,
            "error_text": details,
            "prompt_tokens": prompt_tokens,
            "output_tokens": output_tokens,
            "images": images,
            "latency_ms": latency_ms,
            "charged_usd": charged,
            "group_ratio": group_ratio,
            "category": category,
            "reason": reason,
        }
        return Record(line, slug, fields, raw_from=(self.raw_of, cells))

    def _time(self, text: str) -> dt.datetime | None:
        """`YYYY-MM-DD HH:MM:SS` in the import's zone -> UTC, as `parse_time` reads it, or None.

        The zone's offset is taken once per hour of the text, and only for an hour that keeps
        one offset from its first to its last second (no change of clocks inside it).
        """
        if len(text) != 19 or text[4] != "-" or not text[:4].isdigit():
            return None
        hour = text[:13]
        offset = self._hours.get(hour)
        if offset is None:
            offset = self._hours[hour] = self._hour_offset(hour)
            if len(self._hours) > _MEMO_LIMIT:
                self._hours.clear()
        if offset is False:
            return None
        try:
            when = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
        if when.tzinfo is not None:
            return None
        when = (when - offset).replace(tzinfo=UTC)
        if when < EARLIEST or when > self.latest:
            return None
        return when

    def _hour_offset(self, hour: str):
        try:
            first = dt.datetime.fromisoformat(hour + ":00:00")
        except ValueError:
            return False
        if first.tzinfo is not None:
            return False
        last = first.replace(minute=59, second=59)
        try:
            a = first.replace(tzinfo=self.tz).astimezone(UTC).replace(tzinfo=None)
            b = last.replace(tzinfo=self.tz).astimezone(UTC).replace(tzinfo=None)
        except (OverflowError, ValueError):
            return False
        if b - a != last - first:
            return False
        return first - a

    def _shape_keep(self, key: tuple, fields: dict) -> None:
        if len(self._shapes) > _MEMO_LIMIT:
            self._shapes.clear()
        self._shapes[key] = (fields["log_type"], fields["model"], fields["family"], fields["output_tokens"],
                             fields["http_status"], fields["group_ratio"], fields["category"], fields["reason"],
                             fields["images"])

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

    def _slug(self, value) -> str:
        slug = self._slugs.get(value) if type(value) is str else None
        if slug is None:
            slug = parse_slug(value, "user")
            if type(value) is str and len(self._slugs) < _MEMO_LIMIT:
                self._slugs[value] = slug
        return slug

    def _from_details(self, details: str, is_error: bool):
        key = (details, is_error)
        hit = self._details.get(key)
        if hit is None:
            m = _RATIO.search(details)
            group_ratio = parse_ratio(m.group(1), "the group ratio in details") if m else None
            http_status = _text_error(details).code if is_error else None
            if http_status is not None and not (100 <= http_status <= 599):
                http_status = None  # a number in error text that is no HTTP status
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

    def call_shape(self, raw_type: str, model_cell: str, completion: str, details: str) -> tuple | None:
        """What `_row` reads off these four cells (type, model, completion, details) of a call row
        whose other cells are good: (log type, model, family, output tokens, HTTP status, group
        ratio, category, reason, images), as `_shape_keep` keeps it. None where any of them is
        not plainly good (needs trimming, is no call, or `_row` would reject the row for it).
        For the ingest's PostgreSQL path, which reads the other cells in SQL."""
        for v in (raw_type, model_cell, completion, details):
            if type(v) is not str or v != v.strip():
                return None
        log_type = _TYPE_VALUES.get(raw_type)
        if log_type is None:
            log_type = _TYPE_VALUES.get(raw_type.strip().lower().removesuffix(".0"))
        if log_type != "consume" and log_type != "error":
            return None
        try:
            model = parse_text(model_cell, "model", TEXT_LIMITS["model"])
            if not model:
                return None
            output_tokens = _int_cell(completion, "completion tokens")
            if not details.isascii():
                check_unicode(details, "details")
            group_ratio, http_status = self._from_details(details, log_type == "error")
        except RowError:
            return None
        verdict = self._verdict(log_type, model, output_tokens, details)
        category = verdict.category
        return (log_type, model, family_of(model) or "", output_tokens, http_status, group_ratio, category,
                verdict.reason[:300], 1 if category == Category.SUCCESS else 0)

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
            type_key = type_key.removesuffix(".0")
            log_type = _TYPE_VALUES.get(type_key)
            if log_type is None:
                raise RowError(f"type {str(raw_type)[:40]!r} is not a known log type")
        created_at = parse_time(c(self.i_time), self.tz, "time", self.latest)
        if log_type != "consume" and log_type != "error":
            return Skipped(line, f"{log_type} row (not a call)")
        model = parse_text(c(self.i_model), "model", TEXT_LIMITS["model"])
        if not model:
            raise RowError("model is missing")
        slug = self.customer_slug or self._slug(c(self.i_user))
        if not slug:
            raise RowError("no customer: the row has no User and the import names no customer")
        prompt_tokens = _int_cell(c(self.i_prompt), "prompt tokens")
        output_tokens = _int_cell(c(self.i_completion), "completion tokens")
        charged = self._amount(c(self.i_cost))
        use_time = c(self.i_use_time)
        if type(use_time) is str and use_time.isdigit() and use_time.isascii() and len(use_time) < 7:
            latency_ms = int(use_time) * 1000
        else:
            latency_ms = parse_seconds_ms(use_time, "use time")
        details = c(self.i_details)  # free text, as given
        details = "" if details is None else (details if type(details) is str else str(details))
        if not details.isascii():
            check_unicode(details, "details")  # rows read from a gateway's API are no CSV line
        token = parse_text(c(self.i_token), "token", TEXT_LIMITS["token_name"])
        group_ratio, http_status = self._from_details(details, log_type == "error")
        verdict = self._verdict(log_type, model, output_tokens, details)
        rid = parse_text(c(self.i_rid), "request ID", TEXT_LIMITS["request_id"])
        synthetic = not rid
        if synthetic:
            rid = f"~{created_at:%Y%m%dT%H%M%SZ}|{token}|{model}|{charged if charged is not None else ''}"[:200]
        category = verdict.category
        model_cell, completion_cell = c(self.i_model), c(self.i_completion)
        fields = {
            "request_id": rid,
            "request_id_synthetic": synthetic,
            "created_at": created_at,
            "model": model,
            "family": family_of(model) or "",
            "token_name": token,
            "route": "gateway",
            "group": parse_text(c(self.i_group), "group", TEXT_LIMITS["group"]),
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
        if (self._pick is not None and type(raw_type) is str and type(model_cell) is str
                and type(completion_cell) is str and type(c(self.i_details)) is str):
            self._shape_keep((raw_type, model_cell, completion_cell, details), fields)
        return Record(line, slug, fields, raw_from=(self.raw_of, cells))


def _int_cell(value, label: str) -> int | None:
    """parse_int, with the common case (a plain decimal string of a few digits) first."""
    if type(value) is str:
        if not value:
            return None
        if value.isdigit() and value.isascii() and len(value) < 10:
            return int(value)
    return parse_int(value, label)


def gateway_csv_open(stream: io.BufferedIOBase, *, tz: ZoneInfo, customer_slug: str | None
                     ) -> tuple[Iterator[tuple[int, str]], GatewayRows, int]:
    """(the numbered lines after the header, the row reader, the header's width) of a CSV export;
    InputError for a file that is no export."""
    text = text_wrapper(stream)
    lines = enumerate(text, start=1)
    header_line = next(lines, None)
    if header_line is None:
        raise InputError(f"the file is empty: {KIND_HELP}")
    header = next(csv.reader([header_line[1]]), [])
    cols = gateway_columns(header)
    if "time" not in cols or "type" not in cols:
        raise InputError(f"the header row has no Time/时间 and Type/类型 columns: {KIND_HELP}")
    return lines, GatewayRows(cols, tz=tz, customer_slug=customer_slug), len(header)


def gateway_csv_items(lines, rows: GatewayRows, width: int) -> Iterator[Record | Skipped | Rejected]:
    """The rows of numbered CSV lines (from `gateway_csv_open`) as Record / Skipped / Rejected."""
    for start, cells in csv_records(lines, width):
        if isinstance(cells, str):
            yield Rejected(start, cells)
            continue
        yield rows.row(cells, start)


def iter_gateway_csv(stream: io.BufferedIOBase, *, tz: ZoneInfo, customer_slug: str | None
                     ) -> Iterator[Record | Skipped | Rejected]:
    lines, rows, width = gateway_csv_open(stream, tz=tz, customer_slug=customer_slug)
    yield from gateway_csv_items(lines, rows, width)


def iter_gateway_xlsx(stream, *, tz: ZoneInfo, customer_slug: str | None
                      ) -> Iterator[Record | Skipped | Rejected]:
    def refuse(message):
        return InputError(f"{message}: {KIND_HELP}")

    wb = xlsx_open(stream, refuse)
    try:
        for ws in wb.worksheets:
            rows_iter = ws.iter_rows(values_only=True)
            try:
                header = next(rows_iter, None)
            except Exception as exc:  # noqa: BLE001 -- damaged sheet XML
                raise refuse(f"the XLSX sheet {ws.title!r} cannot be read ({exc.__class__.__name__})") from None
            cols = gateway_columns(list(header or []))
            if "time" not in cols or "type" not in cols:
                continue
            rows = GatewayRows(cols, tz=tz, customer_slug=customer_slug)
            yield from xlsx_read(rows_iter, 2, lambda number, cells: rows.row(cells, number), refuse)
            return
        raise InputError(f"no sheet has a known header row: {KIND_HELP}")
    finally:
        wb.close()
