"""POST /api/v1/calls: a JSON array or NDJSON of call envelopes, answered with the ingest summary.

Always answered in JSON: the summary (bad envelopes listed with their line and reason), or an
error in words; never an HTML error page.
"""
from __future__ import annotations

import json
import logging

from django.conf import settings
from django.http import JsonResponse
from django.utils.translation import gettext as _

from logs.parsers import InputError
from logs.selectors.customers import customer_by_slug
from logs.services.ingest import calls_ingest

log = logging.getLogger(__name__)


def _count_envelopes(body: bytes) -> int:
    text = body.lstrip()
    if text.startswith(b"["):
        try:
            items = json.loads(body)
        except (ValueError, RecursionError):  # not JSON, not UTF-8, too deep: the lines count
            return sum(1 for line in body.splitlines() if line.strip())
        return len(items) if isinstance(items, list) else 1
    return sum(1 for line in body.splitlines() if line.strip())


def calls_post(request, token):
    limit_bytes, limit_n = settings.NBAUDIT_API_MAX_BYTES, settings.NBAUDIT_API_MAX_ENVELOPES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit_bytes:
        return JsonResponse({"error": _("the body is over the limit of %(mb)s MB (%(bytes)s bytes): send the calls "
                                        "in smaller batches") % {"mb": limit_bytes // (1024 * 1024), "bytes": limit_bytes}},
                            status=413)
    body = request.body
    if len(body) > limit_bytes:
        return JsonResponse({"error": _("the body is over the limit of %(bytes)s bytes") % {"bytes": limit_bytes}},
                            status=413)
    if not body.strip():
        return JsonResponse({"error": _("the body is empty: send a JSON array or NDJSON of call envelopes")},
                            status=400)
    n = _count_envelopes(body)
    if n > limit_n:
        return JsonResponse({"error": _("%(n)s envelopes is over the limit of %(limit)s a request: "
                                        "send them in smaller batches") % {"n": n, "limit": limit_n}}, status=400)
    customer = token.customer
    if customer is None and request.GET.get("customer"):
        customer = customer_by_slug(request.GET["customer"])
        if customer is None:
            return JsonResponse({"error": _("no customer %(slug)r") % {"slug": request.GET["customer"]}}, status=400)
    try:
        batch = calls_ingest(source=body, fmt="calls", customer=customer, api_token=token, origin="api")
    except InputError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    except Exception as exc:  # the caller gets words and the batch, the log the trace
        log.exception("API ingest failed")
        answer = {"error": _("the ingest stopped at an unexpected error; calls stored before it are complete, "
                             "and sending the same body again adds only the rest")}
        failed = getattr(exc, "batch", None)
        if failed is not None:
            answer["batch"] = failed.pk
        return JsonResponse(answer, status=500)
    return JsonResponse(batch.summary(), status=200)
