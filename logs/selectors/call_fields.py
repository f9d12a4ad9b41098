"""A call's stored fields as a person reads them: grouped, labelled, with units (the call page).

One entry per stored field (the raw response and the prompt are shown apart); a field added to
Call later and not named here still shows, under "Other", by its verbose name.
"""
from __future__ import annotations

from collections.abc import Callable

from logs.labels import label
from logs.models import Call
from logs.money import usd
from logs.tables.base import local_time

STAFF_ONLY_FIELDS = ("channel_id",)
HIDDEN_FIELDS = ("id", "response", "prompt", "request_id_synthetic")


def latency_text(ms: int | None) -> str:
    """`850 ms`, `30.0 s`, `102.9 s`."""
    if ms is None:
        return ""
    return f"{ms:,} ms" if ms < 1000 else f"{ms / 1000:,.1f} s"


def tokens_text(n: int | None) -> str:
    return "" if n is None else f"{n:,} token" + ("" if n == 1 else "s")


def _time(value) -> str:
    return local_time(value, "%Y-%m-%d %H:%M:%S %Z") if value is not None else ""


def _request_id(call: Call) -> str:
    if call.request_id_synthetic:
        return f"{call.request_id} (made by nbaudit: the source gave none)"
    return call.request_id


def _ratio(value) -> str:
    return "" if value is None else f"× {value.normalize():f}"


# (section, field, label, how the value is written from the call)
FIELDS: tuple[tuple[str, str, str, Callable[[Call], object]], ...] = (
    ("Request", "request_id", "Request ID", _request_id),
    ("Request", "created_at", "Time", lambda c: _time(c.created_at)),
    ("Request", "customer", "Customer", lambda c: c.customer.display_name),
    ("Request", "token_name", "API key", lambda c: c.token_name),
    ("Request", "route", "Route", lambda c: c.route),
    ("Request", "group", "Group", lambda c: c.group),
    ("Request", "channel_id", "Channel", lambda c: c.channel_id),
    ("Outcome", "category", "Category", lambda c: label("category", c.category)),
    ("Outcome", "reason", "Why", lambda c: c.reason),
    ("Outcome", "http_status", "HTTP status", lambda c: c.http_status),
    ("Outcome", "finish_reason", "Finish reason", lambda c: c.finish_reason),
    ("Outcome", "block_reason", "Block reason", lambda c: c.block_reason),
    ("Outcome", "finish_message", "Finish message", lambda c: c.finish_message),
    ("Outcome", "error_text", "Error", lambda c: c.error_text),
    ("Model and images", "model", "Model (as sent)", lambda c: c.model),
    ("Model and images", "family", "Model family", lambda c: label("family", c.family)),
    ("Model and images", "image_size", "Image size", lambda c: c.image_size),
    ("Model and images", "images", "Images delivered", lambda c: c.images),
    ("Model and images", "drafts", "Drafts (thinking images)", lambda c: c.drafts),
    ("Usage and time", "prompt_tokens", "Input tokens", lambda c: tokens_text(c.prompt_tokens)),
    ("Usage and time", "output_tokens", "Output tokens", lambda c: tokens_text(c.output_tokens)),
    ("Usage and time", "image_tokens", "Image output tokens", lambda c: tokens_text(c.image_tokens)),
    ("Usage and time", "thoughts_tokens", "Thinking tokens", lambda c: tokens_text(c.thoughts_tokens)),
    ("Usage and time", "total_tokens", "Total tokens", lambda c: tokens_text(c.total_tokens)),
    ("Usage and time", "latency_ms", "Latency", lambda c: latency_text(c.latency_ms)),
    ("Charge", "charged_usd", "Charged", lambda c: usd(c.charged_usd) if c.charged_usd is not None else ""),
    ("Charge", "expected_usd", "Expected (catalog)",
     lambda c: usd(c.expected_usd) if c.expected_usd is not None else ""),
    ("Charge", "billing_mode", "Billing mode", lambda c: label("billing_mode", c.billing_mode)),
    ("Charge", "group_ratio", "Group ratio", lambda c: _ratio(c.group_ratio)),
    ("Record", "source", "Read from", lambda c: label("source", c.source)),
    ("Record", "log_type", "Gateway log type", lambda c: label("log_type", c.log_type)),
    ("Record", "batch", "Ingest batch", lambda c: f"#{c.batch_id}" if c.batch_id else ""),
    ("Record", "ingested_at", "Ingested at", lambda c: _time(c.ingested_at)),
    ("Record", "prompt_fingerprint", "Prompt fingerprint", lambda c: c.prompt_fingerprint),
)


def call_field_sections(call: Call, *, staff: bool = False) -> list[tuple[str, list[tuple[str, object]]]]:
    """[(section, [(label, value as written)])] of every stored field of the call (staff: with the
    staff-only ones). An empty value is "" (the page shows a dash)."""
    hidden = set(HIDDEN_FIELDS) | (set() if staff else set(STAFF_ONLY_FIELDS))
    sections: dict[str, list[tuple[str, object]]] = {}
    named = set()
    for section, field, text, value_of in FIELDS:
        named.add(field)
        if field in hidden:
            continue
        value = value_of(call)
        sections.setdefault(section, []).append((text, "" if value is None else value))
    for f in Call._meta.concrete_fields:
        if f.name in named or f.name in hidden:
            continue
        value = getattr(call, f.attname)
        sections.setdefault("Other", []).append((str(f.verbose_name).capitalize(), "" if value is None else value))
    return list(sections.items())
