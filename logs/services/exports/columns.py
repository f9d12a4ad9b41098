"""The columns of an export of calls: one list, read by the writer (the Calls sheet) and by the
local-log reader (an export of calls is a valid local log for reconciliation, billing.md).

Each column names its header (plain English; the place a translation wraps it), the call field
it shows, its width, how a cell is written, and the column of format C it stands for where it
has one (`local`). A reader of exports asks `export_header_names()` for the names a column may
carry in any language, so the writer and the reader follow this one list.
"""
from __future__ import annotations

from typing import NamedTuple

from django.conf import settings


class CallColumn(NamedTuple):
    header: str
    field: str
    width: int
    # time, text, int, money, customer (its name), failed (bool), label:<kind> (logs.labels)
    type: str
    local: str = ""  # the format C column (logs.parsers.local.FLAT_HEADERS) it maps onto


# The time column's header names its zone: "Time (Asia/Shanghai)".
TIME_HEADER = "Time"

CALL_COLUMNS: tuple[CallColumn, ...] = (
    CallColumn(TIME_HEADER, "created_at", 20, "time", "created_at"),
    CallColumn("Request ID", "request_id", 30, "text", "request_id"),
    CallColumn("Customer", "customer_id", 18, "customer"),
    CallColumn("Model", "model", 28, "text", "model"),
    CallColumn("API key", "token_name", 16, "text"),
    CallColumn("HTTP status", "http_status", 8, "int", "http_status"),
    CallColumn("Category", "category", 18, "label:category"),
    CallColumn("Category code", "category", 15, "text", "category"),
    CallColumn("Failed", "category", 8, "failed"),
    CallColumn("Reason", "reason", 40, "text"),
    CallColumn("Finish reason", "finish_reason", 16, "text", "finish_reason"),
    CallColumn("Finish message", "finish_message", 30, "text", "finish_message"),
    CallColumn("Error", "error_text", 40, "text"),
    CallColumn("Images", "images", 7, "int", "images"),
    CallColumn("Image size", "image_size", 8, "text"),
    CallColumn("Prompt tokens", "prompt_tokens", 9, "int", "prompt_tokens"),
    CallColumn("Output tokens", "output_tokens", 9, "int", "output_tokens"),
    CallColumn("Thoughts tokens", "thoughts_tokens", 9, "int"),
    CallColumn("Total tokens", "total_tokens", 9, "int", "total_tokens"),
    CallColumn("Latency (ms)", "latency_ms", 9, "int"),
    CallColumn("Billing mode", "billing_mode", 11, "label:billing_mode"),
    CallColumn("Charged (USD)", "charged_usd", 14, "money", "charged_usd"),
    CallColumn("Expected (USD)", "expected_usd", 14, "money"),
)
PROMPT_COLUMN = CallColumn("Prompt", "prompt", 50, "text")


def call_columns(*, with_prompt: bool) -> list[CallColumn]:
    return [*CALL_COLUMNS, PROMPT_COLUMN] if with_prompt else list(CALL_COLUMNS)


def column_header(column: CallColumn, *, tzname: str | None = None) -> str:
    """The header as written: the time column's names its zone."""
    header = str(column.header)
    if column.type == "time":
        return f"{header} ({tzname or settings.NBAUDIT_BILLING_TZ})"
    return header


def header_key(text) -> str:
    """A header cell compared: case and spacing ignored."""
    return " ".join(str(text or "").replace("\ufeff", "").split()).casefold()


def export_header_names() -> dict[str, set[str]]:
    """{format C column: the header keys its export column may carry}: the header in English and
    in every language of settings.LANGUAGES (when translation is on), and each part of a
    bilingual header ("Request ID / 请求 ID" or one name per line)."""
    from django.utils import translation

    languages = [code for code, _ in settings.LANGUAGES] if settings.USE_I18N else []
    names: dict[str, set[str]] = {}
    for column in CALL_COLUMNS:
        if not column.local:
            continue
        texts = {str(column.header)}
        for code in languages:
            with translation.override(code):
                texts.add(str(column.header))
        keys = names.setdefault(column.local, set())
        for text in texts:
            keys.add(header_key(text))
            for part in text.replace(" / ", "\n").splitlines():
                if part.strip():
                    keys.add(header_key(part))
    return names
