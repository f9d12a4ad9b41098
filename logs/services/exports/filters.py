"""The filters an export carries, from a request's parameters or a dict (the Logs page's names)."""
from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError

from logs.choices import Category

# The filters an export carries: the same names as the Logs page and the read API.
FILTER_KEYS = ("model", "category", "failed", "token_name", "http_status", "request_id")


def _getlist(params, key) -> list:
    if hasattr(params, "getlist"):
        return params.getlist(key)
    value = params.get(key)
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def export_filters_clean(params: Mapping) -> dict:
    """The export filters of a request's parameters (or a dict), JSON-ready, empty ones left out.

    Raises ValidationError with a message in words for a value that cannot be a filter.
    """
    out: dict = {}
    model = str(params.get("model") or "").strip()
    if model:
        out["model"] = model
    cats = []
    for raw in _getlist(params, "category"):
        for part in str(raw).split(","):
            part = part.strip()
            if not part:
                continue
            if part not in Category.values:
                raise ValidationError(f"unknown category {part!r}; use one of: {', '.join(Category.values)}")
            if part not in cats:
                cats.append(part)
    if cats:
        out["category"] = cats
    failed = params.get("failed")
    if isinstance(failed, bool):
        failed_on = failed
    else:
        failed_on = str(failed or "").strip().lower() in {"1", "true", "yes", "on"}
    if failed_on:
        out["failed"] = True
    token = str(params.get("token_name") or "").strip()
    if token:
        out["token_name"] = token
    status = params.get("http_status")
    if status not in (None, ""):
        try:
            code = int(str(status).strip())
        except ValueError:
            raise ValidationError(f"HTTP status must be a number, not {status!r}") from None
        if not 100 <= code <= 599:
            raise ValidationError(f"HTTP status must be between 100 and 599, not {code}")
        out["http_status"] = code
    rid = str(params.get("request_id") or "").strip()
    if rid:
        out["request_id"] = rid
    return out
