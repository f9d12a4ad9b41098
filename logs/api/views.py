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
