"""The OpenAPI 3 description of /api/v1/, built from the code it describes where it can be.

The read API's query parameters are the filter schema's own fields (`logs.filters.
ApiCallFilterForm`), so a filter added there is documented here; the categories are
`logs.choices.Category`; the limits are the settings'. Served as JSON at /api/v1/openapi.json
and rendered as the API documentation page (logs.views.apidocs). A test checks that every
path here is routed and every route of logs.api.urls is here.

Its texts are translated: the page shows them in the reader's language; the JSON view builds the
document under `translation.override("en")` so tools always get the same English document.
"""
from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _, gettext_lazy

from logs.api.read import DEFAULT_LIMIT, MAX_LIMIT
from logs.choices import Category, Family
from logs.filters import ApiCallFilterForm, CategoriesField, FlagField, StatusField, WhenField

VERSION = "1"
BASE = "/api/v1"

# Texts with %(name)s placeholders are filled in by filter_parameters (at call time, in the
# active language).
_PARAM_DOCS = {
    "range": gettext_lazy("A preset range of days in the billing zone (Asia/Shanghai): today, 7d, 30d, "
                          "this_month, last_month; custom uses date_from/date_to."),
    "date_from": gettext_lazy("First day (YYYY-MM-DD), in the billing zone."),
    "date_to": gettext_lazy("Last day, included (YYYY-MM-DD), in the billing zone."),
    "from": gettext_lazy("From this day (YYYY-MM-DD, whole in the billing zone) or ISO 8601 instant "
                         "(no offset: billing zone)."),
    "to": gettext_lazy("Up to this day (included) or instant."),
    "model": gettext_lazy("A model family (%(families)s) or a model ID as sent."),
    "token_name": gettext_lazy("The gateway API key's name."),
    "category": gettext_lazy("One or more category codes, repeated or comma-separated."),
    "failed": gettext_lazy("1: failed calls only (any category but success)."),
    "http_status": gettext_lazy("The upstream HTTP status, 100-599."),
    "request_id": gettext_lazy("Calls with this request ID."),
}


def _schema_of(field: forms.Field) -> dict:
    if isinstance(field, CategoriesField):
        return {"type": "array", "items": {"type": "string", "enum": list(Category.values)}}
    if isinstance(field, FlagField):
        return {"type": "string", "enum": ["1", "0", "true", "false", "on", "off", "yes", "no"]}
    if isinstance(field, (StatusField, forms.IntegerField)):
        out = {"type": "integer"}
        if isinstance(field, StatusField):
            out.update(minimum=100, maximum=599)
        return out
    if isinstance(field, forms.DateField):
        return {"type": "string", "format": "date"}
    if isinstance(field, WhenField):
        return {"type": "string", "description": _("YYYY-MM-DD or an ISO 8601 date-time")}
    if isinstance(field, forms.ChoiceField):
        return {"type": "string", "enum": [c for c, _ in field.choices if c]}
    return {"type": "string"}


def filter_parameters() -> list[dict]:
    """The query parameters of GET /calls: the filter schema's fields, then paging and scope."""
    params = []
    for name, field in ApiCallFilterForm.base_fields.items():
        if name == "model":
            description = str(_PARAM_DOCS[name]) % {"families": ", ".join(Family.values)}
        else:
            description = str(_PARAM_DOCS.get(name, field.label or name))
        param = {"name": name, "in": "query", "required": False, "schema": _schema_of(field),
                 "description": description}
        if isinstance(field, CategoriesField):
            param.update(style="form", explode=True)
        params.append(param)
    return params + [_customer_param(), _cursor_param(), _limit_param()]


def _customer_param() -> dict:
    return {"name": "customer", "in": "query", "required": False, "schema": {"type": "string"},
            "description": _("A customer's slug. A gateway token may narrow to one customer (and must, to "
                             "push calls that name none); a customer token may only name its own.")}


def _cursor_param() -> dict:
    return {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"},
            "description": _("The next page: copy the `next` URL of the previous answer (keyset paging).")}


def _limit_param() -> dict:
    return {"name": "limit", "in": "query", "required": False,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            "description": _("Calls per page (at most %(max)s).") % {"max": MAX_LIMIT}}


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _call_schema(detail: bool) -> dict:
    props = {
        "request_id": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time", "description": _("With the billing zone's offset.")},
        "customer": {"type": "string", "description": _("The customer's slug.")},
        "model": {"type": "string", "description": _("As the caller sent it.")},
        "family": {"type": "string", "nullable": True, "enum": [*Family.values, None],
                   "description": _("The model family; null when the model is unknown.")},
        "token_name": {"type": "string"},
        "route": {"type": "string"},
        "source": {"type": "string"},
        "http_status": {"type": "integer", "nullable": True},
        "category": {"type": "string", "enum": list(Category.values)},
        "failed": {"type": "boolean"},
        "reason": {"type": "string", "description": _("The signal that decided the category.")},
        "charged_usd": {"type": "string", "nullable": True, "description": _("A decimal string, 6 places.")},
        "expected_usd": {"type": "string", "nullable": True, "description": _("From the dated catalog.")},
        "billing_mode": {"type": "string", "nullable": True, "enum": ["per_request", "per_token", None]},
        "group_ratio": {"type": "string", "nullable": True},
        "images": {"type": "integer"},
        "drafts": {"type": "integer"},
        "image_size": {"type": "string"},
        "latency_ms": {"type": "integer", "nullable": True},
        "finish_reason": {"type": "string"},
        "prompt_tokens": {"type": "integer", "nullable": True},
        "output_tokens": {"type": "integer", "nullable": True},
        "thoughts_tokens": {"type": "integer", "nullable": True},
        "total_tokens": {"type": "integer", "nullable": True},
    }
    if detail:
        props.update({
            "block_reason": {"type": "string"},
            "finish_message": {"type": "string"},
            "error_text": {"type": "string"},
            "image_tokens": {"type": "integer", "nullable": True},
            "request_id_synthetic": {"type": "boolean"},
            "covered": {"type": "boolean", "description": _("Covered by the failed-generation reimbursement plan.")},
            "coverage_reason": {"type": "string"},
            "response": {"description": _("The raw response, image data elided."), "nullable": True},
        })
    return {"type": "object", "properties": props}


def _envelope_schema() -> dict:
    return {
        "type": "object", "required": ["request_id", "created_at", "model"],
        "properties": {
            "request_id": {"type": "string", "description": _("Unique per customer.")},
            "created_at": {"description": _("ISO 8601 with offset, or Unix seconds."),
                           "oneOf": [{"type": "string"}, {"type": "number"}]},
            "customer": {"type": "string", "description": _("The customer's slug; required with a gateway token "
                                                            "unless ?customer= names one.")},
            "model": {"type": "string"},
            "token_name": {"type": "string"},
            "route": {"type": "string"},
            "http_status": {"type": "integer"},
            "latency_ms": {"type": "integer"},
            "image_size": {"type": "string", "enum": ["512", "1K", "2K", "4K"]},
            "charged_usd": {"type": "string", "description": _("What the platform charged, a decimal string.")},
            "quota": {"type": "integer", "description": _("The charge in quota units (500,000 = US$1).")},
            "group_ratio": {"type": "number"},
            "prompt": {"type": "string", "description": _("Kept as a fingerprint (the text only if configured).")},
            "response": {"description": _("The raw upstream response body (Gemini, OpenAI-compatible, an error...).")},
            "error": {"type": "string", "description": _("A client-side error when there is no response.")},
        },
    }


def openapi_document(*, server_url: str = "") -> dict:
    """The OpenAPI 3.0 document of /api/v1/."""
    max_mb = settings.NBAUDIT_API_MAX_BYTES // (1024 * 1024)
    max_n = settings.NBAUDIT_API_MAX_ENVELOPES
    bearer = [{"bearer": []}]
    unauthorized = _error(_("No valid token: `Authorization: Bearer <token>` missing, unknown or revoked."))
    return {
        "openapi": "3.0.3",
        "info": {
            "title": _("nbaudit API"), "version": VERSION,
            "description": _("Push calls of image-generation models (the gateway) and read them back "
                             "(customers' programs). Times are ISO 8601; amounts are decimal strings in US$."),
        },
        "servers": [{"url": (server_url.rstrip("/") + BASE) if server_url else BASE}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": _("A token made on the API tokens page (Account).")}},
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]},
                "Call": _call_schema(detail=False),
                "CallDetail": _call_schema(detail=True),
                "Envelope": _envelope_schema(),
                "IngestSummary": {"type": "object", "properties": {
                    "batch": {"type": "integer"}, "format": {"type": "string"}, "rows": {"type": "integer"},
                    "inserted": {"type": "integer"}, "duplicates": {"type": "integer"},
                    "conflicts": {"type": "integer"}, "skipped": {"type": "integer"},
                    "rejected": {"type": "array", "items": {"type": "object"},
                                 "description": _("Bad envelopes, each with its line and reason.")},
                    "categories": {"type": "object", "additionalProperties": {"type": "integer"}},
                    "customers_created": {"type": "array", "items": {"type": "string"}},
                    "notes": {"type": "array", "items": {"type": "string"}}}},
            },
        },
        "paths": {
            "/": {"get": {
                "summary": _("This API's links"), "operationId": "api_index", "security": [],
                "responses": {"200": {"description": _("Links to the endpoints and this description."),
                                      "content": {"application/json": {"schema": {"type": "object"}}}}}}},
            "/openapi.json": {"get": {
                "summary": _("This description (OpenAPI 3)"), "operationId": "api_openapi", "security": [],
                "responses": {"200": {"description": _("The OpenAPI document."),
                                      "content": {"application/json": {"schema": {"type": "object"}}}}}}},
            "/calls": {
                "get": {
                    "summary": _("List calls, newest first"),
                    "description": _("A customer token reads its own customer's calls; a gateway token every "
                                     "customer's (narrow with `customer`). Filters are the Logs page's."),
                    "operationId": "calls_list", "security": bearer, "parameters": filter_parameters(),
                    "responses": {
                        "200": {"description": _("A page of calls and the URL of the next page (null at the end)."),
                                "content": {"application/json": {"schema": {"type": "object", "properties": {
                                    "results": {"type": "array", "items": {"$ref": "#/components/schemas/Call"}},
                                    "next": {"type": "string", "nullable": True}}}}}},
                        "400": _error(_("A filter, the cursor or the limit is not valid (named in the message).")),
                        "401": unauthorized,
                        "404": _error(_("No such customer (or another customer's, for a customer token).")),
                    },
                },
                "post": {
                    "summary": _("Push calls"),
                    "description": _("A JSON array or NDJSON of call envelopes: at most %(max_mb)s MB and "
                                     "%(max_n)s envelopes a request. Calls already stored count as duplicates, "
                                     "so sending the same body again is safe. Read-only tokens are refused "
                                     "(403).") % {"max_mb": max_mb, "max_n": f"{max_n:,}"},
                    "operationId": "calls_push", "security": bearer, "parameters": [_customer_param()],
                    "requestBody": {"required": True, "content": {
                        "application/json": {"schema": {"type": "array",
                                                        "items": {"$ref": "#/components/schemas/Envelope"}}},
                        "application/x-ndjson": {"schema": {"type": "string",
                                                            "description": _("One envelope a line.")}}}},
                    "responses": {
                        "200": {"description": _("The ingest summary."), "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/IngestSummary"}}}},
                        "400": _error(_("An empty body, too many envelopes, no such customer, or unreadable input.")),
                        "401": unauthorized,
                        "403": _error(_("A read-only token.")),
                        "413": _error(_("The body is over %(max_mb)s MB.") % {"max_mb": max_mb}),
                        "500": _error(_("The ingest stopped; calls stored before it are complete.")),
                    },
                },
            },
            "/calls/{request_id}": {"get": {
                "summary": _("One call, with its raw response and whether the plan covers it"),
                "operationId": "call_detail", "security": bearer,
                "parameters": [{"name": "request_id", "in": "path", "required": True, "schema": {"type": "string"},
                                "description": _("The request ID (may contain slashes).")}, _customer_param()],
                "responses": {
                    "200": {"description": _("The call."), "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/CallDetail"}}}},
                    "400": _error(_("The request ID is shared by several customers: pass `customer`.")),
                    "401": unauthorized,
                    "404": _error(_("No such call (or another customer's).")),
                },
            }},
        },
    }
