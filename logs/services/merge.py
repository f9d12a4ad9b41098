"""Two records of one request ID (formats.md): the same call or a conflict, and what a merge fills in.

A second record is a duplicate when every field that both carry agrees (`differences` is empty);
it then fills in the fields the first lacked (`FILLABLE`) and the category is decided again from
the merged record (`reclassify`: a raw response decides over export columns).
"""
from __future__ import annotations

from decimal import Decimal

from logs.choices import Source
from logs.classify import classify_call, classify_export_row
from logs.models import Call

# The fields compared to tell a duplicate from a conflict ("every field that both carry").
COMPARED = ("created_at", "model", "token_name", "http_status", "prompt_tokens", "output_tokens",
            "charged_usd")
# Fields a second record may fill in when the first lacked them.
FILLABLE = (
    "token_name", "route", "group", "log_type", "http_status", "finish_reason", "block_reason",
    "finish_message", "error_text", "prompt_tokens", "output_tokens", "thoughts_tokens", "total_tokens",
    "image_tokens", "image_size", "latency_ms", "charged_usd", "group_ratio", "prompt_fingerprint",
    "prompt", "response", "channel_id",
)


def is_empty(value) -> bool:
    return value is None or value == ""


def _same(field: str, a, b) -> bool:
    if field == "created_at":
        return a.replace(microsecond=0) == b.replace(microsecond=0)
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return Decimal(a) == Decimal(b)
    return a == b


def differences(stored: dict, incoming: dict) -> list[str]:
    """The compared fields that both carry and that differ."""
    return [f for f in COMPARED
            if not is_empty(stored.get(f)) and not is_empty(incoming.get(f)) and not _same(f, stored[f], incoming[f])]


def reclassify(fields: dict) -> None:
    """Decide the category again from a merged record: a raw response decides over export columns."""
    if fields.get("response") is not None or fields.get("source") == Source.CALLS:
        verdict, facts = classify_call(model=fields["model"], http_status=fields.get("http_status"),
                                       response=fields.get("response"),
                                       client_error=fields.get("error_text") if fields.get("response") is None else None)
        fields["images"], fields["drafts"] = facts.images, facts.drafts
    else:
        verdict = classify_export_row(log_type=fields.get("log_type") or "consume", model=fields["model"],
                                      output_tokens=fields.get("output_tokens"),
                                      details=fields.get("error_text") or "")
        fields["images"] = 1 if verdict.category == "success" else 0
    fields["category"], fields["reason"] = verdict.category, verdict.reason[:300]


# What the decisions read of a stored call; `prompt` and `response` only as "present or not".
STORED = tuple(dict.fromkeys(COMPARED + FILLABLE + ("model", "source", "category", "log_type", "family")))
PRESENT = "<present>"  # stands for a stored prompt or response: not empty, never compared


def stored_columns(vendor: str) -> list[str]:
    cols = []
    for name in STORED:
        column = Call._meta.get_field(name).column
        if name in ("prompt", "response"):
            empty = f"{column} IS NULL" if name == "response" else f"{column} = ''"
            cols.append(f"CASE WHEN {empty} THEN NULL ELSE '{PRESENT}' END")
        else:
            cols.append(f'"{column}"' if vendor == "postgresql" else column)
    return cols
