"""The columns of an export of calls: one list, read by the writer (the Calls sheet) and by the
local-log reader (an export of calls is a valid local log for reconciliation, billing.md).

Each column names its header (plain English, a lazy msgid: written in the export's language),
the call field it shows, its width, how a cell is written, the column of format C it stands for
where it has one (`local`), and the fixed header it carries in a language where the gateway's own
export names that column (`named`: in Chinese the gateway console's names, formats.md section B,
so that `manage.py ingest` reads a Chinese export back; interface, not translations). A reader of
exports asks `export_header_names()` for the names a column may carry in any language, so the
writer and the reader follow this one list.
"""
from __future__ import annotations

from typing import NamedTuple

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext, gettext_lazy as _

from logs.languages import CHINESE


class CallColumn(NamedTuple):
    header: str
    field: str
    width: int
    # time, text, int, money, customer (its name), failed (bool), label:<kind> (logs.labels),
    # logtype (the gateway's log type: consume or error), reason (re-rendered in the language)
    type: str
    local: str = ""  # the format C column (logs.parsers.local.FLAT_HEADERS) it maps onto
    named: tuple[tuple[str, str], ...] = ()  # (language, the gateway's fixed header in it)


def zh(name: str) -> tuple[tuple[str, str], ...]:
    return ((CHINESE, name),)


# Where a column carries the gateway's name, its cells are written as the gateway writes them:
# 用户 (the gateway's user name) is the customer's slug, not its display name.
NAMED_TYPES = {"customer": "customer_slug"}


# The time column's header names its zone: "Time (Asia/Shanghai)".
TIME_HEADER = _("Time")

CALL_COLUMNS: tuple[CallColumn, ...] = (
    CallColumn(TIME_HEADER, "created_at", 20, "time", "created_at", zh("时间")),
    CallColumn(_("Request ID"), "request_id", 30, "text", "request_id", zh("请求ID")),
    CallColumn(_("Customer"), "customer_id", 18, "customer", named=zh("用户")),
    CallColumn(_("Model"), "model", 28, "text", "model", zh("模型")),
    CallColumn(_("API key"), "token_name", 16, "text", named=zh("令牌")),
    CallColumn(_("Type"), "category", 8, "logtype", named=zh("类型")),
    CallColumn(_("HTTP status"), "http_status", 8, "int", "http_status"),
    CallColumn(_("Category"), "category", 18, "label:category"),
    CallColumn(_("Category code"), "category", 15, "text", "category"),
    CallColumn(_("Failed"), "category", 8, "failed"),
    CallColumn(_("Reason"), "reason", 40, "reason"),
    CallColumn(_("Finish reason"), "finish_reason", 16, "text", "finish_reason"),
    CallColumn(_("Finish message"), "finish_message", 30, "text", "finish_message"),
    CallColumn(_("Error"), "error_text", 40, "text", named=zh("详情")),
    CallColumn(_("Images"), "images", 7, "int", "images"),
    CallColumn(_("Image size"), "image_size", 8, "text"),
    CallColumn(_("Prompt tokens"), "prompt_tokens", 9, "int", "prompt_tokens", zh("提示")),
    CallColumn(_("Output tokens"), "output_tokens", 9, "int", "output_tokens", zh("补全")),
    CallColumn(_("Thoughts tokens"), "thoughts_tokens", 9, "int"),
    CallColumn(_("Total tokens"), "total_tokens", 9, "int", "total_tokens"),
    CallColumn(_("Latency (ms)"), "latency_ms", 9, "int"),
    CallColumn(_("Billing mode"), "billing_mode", 11, "label:billing_mode"),
    CallColumn(_("Charged (USD)"), "charged_usd", 14, "money", "charged_usd", zh("花费")),
    CallColumn(_("Expected (USD)"), "expected_usd", 14, "money"),
)
PROMPT_COLUMN = CallColumn(_("Prompt"), "prompt", 50, "text")


def call_columns(*, with_prompt: bool) -> list[CallColumn]:
    return [*CALL_COLUMNS, PROMPT_COLUMN] if with_prompt else list(CALL_COLUMNS)


def column_named(column: CallColumn, language: str | None = None) -> str:
    """The gateway's fixed header of the column in `language` (default: the active one), or ''."""
    return dict(column.named).get(language or translation.get_language() or "", "")


def column_header(column: CallColumn, *, tzname: str | None = None) -> str:
    """The header as written, in the active language: the gateway's name where it has one, else
    the translated header; the time column's names its zone."""
    named = column_named(column)
    if named:
        return named
    header = str(column.header)
    if column.type == "time":
        # Translators: an export's time column, e.g. "Time (Asia/Shanghai)".
        return gettext("%(header)s (%(tz)s)") % {"header": header, "tz": tzname or settings.NBAUDIT_BILLING_TZ}
    return header


def column_type(column: CallColumn) -> str:
    """How the column's cells are written in the active language (NAMED_TYPES where it carries the
    gateway's name)."""
    return NAMED_TYPES.get(column.type, column.type) if column_named(column) else column.type


def header_key(text) -> str:
    """A header cell compared: case and spacing ignored."""
    return " ".join(str(text or "").replace("\ufeff", "").split()).casefold()


def export_header_names() -> dict[str, set[str]]:
    """{format C column: the header keys its export column may carry}: the header in English and
    in every language of settings.LANGUAGES (when translation is on), the gateway's fixed names
    (`named`), and each part of a bilingual header ("Request ID / 请求 ID" or one name per line)."""
    languages = [code for code, _ in settings.LANGUAGES] if settings.USE_I18N else []
    names: dict[str, set[str]] = {}
    for column in CALL_COLUMNS:
        if not column.local:
            continue
        texts = {str(column.header), *(name for _, name in column.named)}
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
