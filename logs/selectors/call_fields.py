"""A call's stored fields as a person reads them: grouped, labelled, with units (the call page).

One entry per stored field (the raw response and the prompt are shown apart); a field added to
Call later and not named here still shows, under "Other", by its verbose name.
"""
from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext as _, gettext_lazy, ngettext

from logs.classify.reasons import reason_text
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
    if n is None:
        return ""
    return ngettext("%(n)s token", "%(n)s tokens", n) % {"n": f"{n:,}"}


def _time(value) -> str:
    return local_time(value, "%Y-%m-%d %H:%M:%S %Z") if value is not None else ""


def _request_id(call: Call) -> str:
    if call.request_id_synthetic:
        return _("%(id)s (made by nbaudit: the source gave none)") % {"id": call.request_id}
    return call.request_id


def _ratio(value) -> str:
    return "" if value is None else f"× {value.normalize():f}"


_REQUEST = gettext_lazy("Request")
_OUTCOME = gettext_lazy("Outcome")
_MODEL = gettext_lazy("Model and images")
_USAGE = gettext_lazy("Usage and time")
_CHARGE = gettext_lazy("Charge")
_RECORD = gettext_lazy("Record")

# (section, field, label, how the value is written from the call)
FIELDS: tuple[tuple[object, str, object, Callable[[Call], object]], ...] = (
    (_REQUEST, "request_id", gettext_lazy("Request ID"), _request_id),
    (_REQUEST, "created_at", gettext_lazy("Time"), lambda c: _time(c.created_at)),
    (_REQUEST, "customer", gettext_lazy("Customer"), lambda c: c.customer.display_name),
    (_REQUEST, "token_name", gettext_lazy("API key"), lambda c: c.token_name),
    (_REQUEST, "route", gettext_lazy("Route"), lambda c: c.route),
    (_REQUEST, "group", gettext_lazy("Group"), lambda c: c.group),
    (_REQUEST, "channel_id", gettext_lazy("Channel"), lambda c: c.channel_id),
    (_OUTCOME, "category", gettext_lazy("Category"), lambda c: label("category", c.category)),
    (_OUTCOME, "reason", gettext_lazy("Why"), lambda c: reason_text(c.reason) if c.reason else ""),
    (_OUTCOME, "http_status", gettext_lazy("HTTP status"), lambda c: c.http_status),
    (_OUTCOME, "finish_reason", gettext_lazy("Finish reason"), lambda c: c.finish_reason),
    (_OUTCOME, "block_reason", gettext_lazy("Block reason"), lambda c: c.block_reason),
    (_OUTCOME, "finish_message", gettext_lazy("Finish message"), lambda c: c.finish_message),
    (_OUTCOME, "error_text", gettext_lazy("Error"), lambda c: c.error_text),
    (_MODEL, "model", gettext_lazy("Model (as sent)"), lambda c: c.model),
    (_MODEL, "family", gettext_lazy("Model family"), lambda c: label("family", c.family)),
    (_MODEL, "image_size", gettext_lazy("Image size"), lambda c: c.image_size),
    (_MODEL, "images", gettext_lazy("Images delivered"), lambda c: c.images),
    (_MODEL, "drafts", gettext_lazy("Drafts (thinking images)"), lambda c: c.drafts),
    (_USAGE, "prompt_tokens", gettext_lazy("Input tokens"), lambda c: tokens_text(c.prompt_tokens)),
    (_USAGE, "output_tokens", gettext_lazy("Output tokens"), lambda c: tokens_text(c.output_tokens)),
    (_USAGE, "image_tokens", gettext_lazy("Image output tokens"), lambda c: tokens_text(c.image_tokens)),
    (_USAGE, "thoughts_tokens", gettext_lazy("Thinking tokens"), lambda c: tokens_text(c.thoughts_tokens)),
    (_USAGE, "total_tokens", gettext_lazy("Total tokens"), lambda c: tokens_text(c.total_tokens)),
    (_USAGE, "latency_ms", gettext_lazy("Latency"), lambda c: latency_text(c.latency_ms)),
    (_CHARGE, "charged_usd", gettext_lazy("Charged"), lambda c: usd(c.charged_usd) if c.charged_usd is not None else ""),
    (_CHARGE, "expected_usd", gettext_lazy("Expected (catalog)"),
     lambda c: usd(c.expected_usd) if c.expected_usd is not None else ""),
    (_CHARGE, "billing_mode", gettext_lazy("Billing mode"), lambda c: label("billing_mode", c.billing_mode)),
    (_CHARGE, "group_ratio", gettext_lazy("Group ratio"), lambda c: _ratio(c.group_ratio)),
    (_RECORD, "source", gettext_lazy("Read from"), lambda c: label("source", c.source)),
    (_RECORD, "log_type", gettext_lazy("Gateway log type"), lambda c: label("log_type", c.log_type)),
    (_RECORD, "batch", gettext_lazy("Ingest batch"), lambda c: f"#{c.batch_id}" if c.batch_id else ""),
    (_RECORD, "ingested_at", gettext_lazy("Ingested at"), lambda c: _time(c.ingested_at)),
    (_RECORD, "prompt_fingerprint", gettext_lazy("Prompt fingerprint"), lambda c: c.prompt_fingerprint),
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
        sections.setdefault(str(section), []).append((str(text), "" if value is None else value))
    for f in Call._meta.concrete_fields:
        if f.name in named or f.name in hidden:
            continue
        value = getattr(call, f.attname)
        sections.setdefault(_("Other"), []).append((str(f.verbose_name).capitalize(), "" if value is None else value))
    return list(sections.items())
