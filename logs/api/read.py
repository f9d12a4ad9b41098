"""The read API: `GET /api/v1/calls` (a keyset-paged list) and `GET /api/v1/calls/<request_id>`.

A customer token sees its own customer only; a gateway token sees every customer and may
narrow with `customer=<slug>` (tenancy: `logs.scoping.scope_calls_for_token`). Filters are
the Logs page's, parsed by the same schema (`logs.filters`).
Times are ISO 8601 with the billing zone's offset; amounts are decimal strings.
"""
from __future__ import annotations

import datetime as dt

from django.http import JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from logs.choices import Category
from logs.coverage import coverage_of
from logs.filters import ApiCallFilterForm, call_params, errors_text
from logs.models import ApiToken, Call, Customer
from logs.money import fmt6
from logs.pagination import BadCursor, keyset_page
from logs.scoping import scope_calls_for_token
from logs.selectors.calls import LIST_DEFER, calls_filter, calls_with_request_id
from logs.timeutil import billing_tz

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


class BadParam(ValueError):
    pass


def _error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _iso(value: dt.datetime | None) -> str | None:
    if not value:
        return None
    try:
        return value.astimezone(billing_tz()).isoformat()
    except OverflowError:  # a time at the very end of the calendar: said in UTC
        return value.isoformat()


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


def _filters(params) -> dict:
    """The calls_filter arguments of the query, parsed by the one filter schema (logs.filters)."""
    form = ApiCallFilterForm(params)
    if not form.is_valid():
        raise BadParam(errors_text(form))
    return call_params(form.cleaned_data, tz=billing_tz())


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


def calls_list(request, token: ApiToken) -> JsonResponse:
    params = request.GET
    try:
        qs = scope_calls_for_token(token, params.get("customer"))
        qs = calls_filter(qs.select_related("customer").defer(*LIST_DEFER), **_filters(params))
        limit = _limit(params)
        page = keyset_page(qs, per_page=limit, after=params.get("cursor") or None)
    except Customer.DoesNotExist:
        return _error(_("no such customer"), 404)
    except BadCursor:
        return _error(_("cursor: not a cursor this API gave"))
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
        qs = scope_calls_for_token(token, request.GET.get("customer"))
    except Customer.DoesNotExist:
        return _error(_("no such customer"), 404)
    found = list(calls_with_request_id(qs.select_related("customer"), request_id)[:11])
    if not found:
        return _error(_("no such call"), 404)
    if len(found) > 1:
        slugs = sorted({c.customer.slug for c in found})
        return _error(_("request ID %(id)r is shared by customers %(slugs)s: pass customer=<slug>") % {
            "id": request_id, "slugs": ", ".join(slugs)})
    return JsonResponse(call_data(found[0], detail=True))
