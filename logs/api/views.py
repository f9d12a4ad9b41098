"""The HTTP API: one URL, GET reads (logs.api.read), POST ingests (logs.api.ingest)."""
from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from logs.api.auth import apitoken_authenticate


def _unauthorized():
    resp = JsonResponse({"error": _("authentication required: Authorization: Bearer <token>")}, status=401)
    resp["WWW-Authenticate"] = "Bearer"
    return resp


@csrf_exempt
@login_not_required
def calls_endpoint(request):
    token = apitoken_authenticate(request)
    if token is None:
        return _unauthorized()
    if request.method == "POST":
        if token.read_only:
            return JsonResponse({"error": "this token is for reading only (GET); pushing calls needs a "
                                          "gateway or customer push token made by staff"}, status=403)
        from logs.api.ingest import calls_post

        return calls_post(request, token)
    if request.method == "GET":
        from logs.api.read import calls_list

        return calls_list(request, token)
    return JsonResponse({"error": _("method not allowed")}, status=405)


@login_not_required
def call_detail(request, request_id):
    token = apitoken_authenticate(request)
    if token is None:
        return _unauthorized()
    if request.method != "GET":
        return JsonResponse({"error": _("method not allowed")}, status=405)
    from logs.api.read import call_one

    return call_one(request, token, request_id)


@login_not_required
def api_index(request):
    """GET /api/v1/: what is here, as links (no token needed)."""
    if request.method != "GET":
        return JsonResponse({"error": "method not allowed"}, status=405)
    from django.urls import reverse

    absolute = request.build_absolute_uri
    calls = absolute(reverse("api:calls"))
    return JsonResponse({
        "name": "nbaudit API", "version": "1",
        "links": {
            "calls": calls,
            "call": calls + "/{request_id}",
            "openapi": absolute(reverse("api:openapi")),
            "docs": absolute(reverse("logs:api_docs")),
        },
        "auth": "Authorization: Bearer <token> (tokens: the API tokens page, under Account)",
    })


@login_not_required
def api_openapi(request):
    """GET /api/v1/openapi.json: the OpenAPI 3 description of this API (no token needed).

    Always in English, whatever the request's language: tools get one stable document (the API
    documentation page shows it translated)."""
    if request.method != "GET":
        return JsonResponse({"error": "method not allowed"}, status=405)
    from django.utils import translation

    from logs.api.openapi import openapi_document

    with translation.override("en"):
        return JsonResponse(openapi_document(server_url=request.build_absolute_uri("/")),
                            json_dumps_params={"indent": 1})
