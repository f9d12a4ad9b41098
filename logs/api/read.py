"""The read API: `GET /api/v1/calls` (a keyset-paged list) and `GET /api/v1/calls/<request_id>`.

A customer token sees its own customer only; a gateway token sees every customer and may
narrow with `customer=<slug>`. Filters are the Logs page's (`logs.selectors.calls_filter`).
Times are ISO 8601 with the billing zone's offset; amounts are decimal strings.
"""
from __future__ import annotations

import datetime as dt
import re

from django.http import JsonResponse
from django.urls import reverse

from logs.choices import Category
from logs.coverage import coverage_of
from logs.models import ApiToken, Call, Customer
from logs.money import fmt6
from logs.pagination import BadCursor, keyset_page
from logs.selectors.calls import calls_filter
from logs.timeutil import billing_tz

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
LIST_DEFER = ("response", "prompt", "error_text", "finish_message", "prompt_fingerprint")


class BadParam(ValueError):
    pass


def _error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(billing_tz()).isoformat() if value else None


def call_data(call: Call, *, detail: bool = False) -> dict:
    data = {
        "request_id": call.request_id,
        "created_at": _iso(call.created_at),
        "customer": call.customer.slug,
        "model": call.model,
        "family": call.family or None,
        "token_name": call.token_name,
        "route": call.route,
        "source": call.source,
        "http_status": call.http_status,
        "category": call.category,
        "failed": call.category != Category.SUCCESS,
        "reason": call.reason,
        "charged_usd": fmt6(call.charged_usd),
        "expected_usd": fmt6(call.expected_usd),
        "billing_mode": call.billing_mode or None,
        "group_ratio": None if call.group_ratio is None else str(call.group_ratio),
        "images": call.images,
        "drafts": call.drafts,
        "image_size": call.image_size,
        "latency_ms": call.latency_ms,
        "finish_reason": call.finish_reason,
        "prompt_tokens": call.prompt_tokens,
        "output_tokens": call.output_tokens,
        "thoughts_tokens": call.thoughts_tokens,
        "total_tokens": call.total_tokens,
    }
    if detail:
        covered, why = coverage_of(call)
        data.update({
            "block_reason": call.block_reason,
            "finish_message": call.finish_message,
            "error_text": call.error_text,
            "image_tokens": call.image_tokens,
            "request_id_synthetic": call.request_id_synthetic,
            "covered": covered,
            "coverage_reason": why,
            "response": call.response,
        })
    return data


def _parse_when(name: str, text: str):
    """A date (YYYY-MM-DD, a whole day in the billing zone) or an ISO 8601 time."""
    text = text.strip()
    if len(text) == 10:
        try:
            return "date", dt.date.fromisoformat(text)
        except ValueError:
            pass
    try:
        # An unencoded "+08:00" arrives as " 08:00".
        when = dt.datetime.fromisoformat(re.sub(r"(\d) (\d\d:?\d\d)$", r"\1+\2", text))
    except ValueError:
        raise BadParam(f"{name}: not a date (YYYY-MM-DD) or an ISO 8601 time: {text!r}") from None
    if when.tzinfo is None:  # Decision: a time without offset is in the billing zone.
        when = when.replace(tzinfo=billing_tz())
    return "time", when


def _filters(params) -> dict:
    out: dict = {}
    for name, end in (("from", False), ("to", True)):
        raw = params.get(name)
        if not raw:
            continue
        kind, value = _parse_when(name, raw)
        key = ("date_" if kind == "date" else "time_") + ("to" if end else "from")
        out[key] = value
    cats = [c for c in params.getlist("category") for c in c.split(",") if c]
    unknown = [c for c in cats if c not in Category.values]
    if unknown:
        raise BadParam(f"category: unknown {', '.join(unknown)}; known: {', '.join(Category.values)}")
    if cats:
        out["categories"] = cats
    failed = params.get("failed", "").strip().lower()
    if failed not in ("", "0", "1", "true", "false", "yes", "no"):
        raise BadParam(f"failed: use 1 or 0, not {failed!r}")
    out["failed"] = failed in ("1", "true", "yes")
    if params.get("http_status"):
        try:
            out["http_status"] = int(params["http_status"])
        except ValueError:
            raise BadParam(f"http_status: not a number: {params['http_status']!r}") from None
    for name in ("model", "token_name", "request_id"):
        if params.get(name):
            out[name] = params[name].strip()
    out["tz"] = billing_tz()
    return out


def _limit(params) -> int:
    raw = params.get("limit")
    if not raw:
        return DEFAULT_LIMIT
    try:
        n = int(raw)
    except ValueError:
        raise BadParam(f"limit: not a number: {raw!r}") from None
    if n < 1:
        raise BadParam("limit: at least 1")
    return min(n, MAX_LIMIT)


def _scoped(token: ApiToken, params):
    """Calls the token may see, narrowed to `customer` where given. Raises Customer.DoesNotExist."""
    qs = Call.objects.all()
    slug = (params.get("customer") or "").strip()
    if not token.is_gateway:
        qs = qs.filter(customer_id=token.customer_id)
        if slug and slug != token.customer.slug:
            raise Customer.DoesNotExist  # another customer: as if it did not exist
        return qs
    if slug:
        customer = Customer.objects.get(slug=slug)
        qs = qs.filter(customer=customer)
    return qs


def calls_list(request, token: ApiToken) -> JsonResponse:
    params = request.GET
    try:
        qs = _scoped(token, params)
        qs = calls_filter(qs.select_related("customer").defer(*LIST_DEFER), **_filters(params))
        limit = _limit(params)
        page = keyset_page(qs, per_page=limit, after=params.get("cursor") or None)
    except Customer.DoesNotExist:
        return _error("no such customer", 404)
    except BadCursor:
        return _error("cursor: not a cursor this API gave")
    except BadParam as exc:
        return _error(str(exc))
    next_url = None
    if page.has_next:
        query = params.copy()
        query["cursor"] = page.next_cursor
        next_url = request.build_absolute_uri(f"{reverse('api:calls')}?{query.urlencode()}")
    return JsonResponse({"results": [call_data(c) for c in page.rows], "next": next_url})


def call_one(request, token: ApiToken, request_id: str) -> JsonResponse:
    try:
        qs = _scoped(token, request.GET)
    except Customer.DoesNotExist:
        return _error("no such customer", 404)
    found = list(qs.select_related("customer").filter(request_id=request_id)[:11])
    if not found:
        return _error("no such call", 404)
    if len(found) > 1:
        slugs = sorted({c.customer.slug for c in found})
        return _error(f"request ID {request_id!r} is shared by customers {', '.join(slugs)}: "
                      "pass customer=<slug>")
    return JsonResponse(call_data(found[0], detail=True))
