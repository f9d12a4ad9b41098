"""The OpenAPI description and the routes of /api/v1/ agree both ways; /api/v1/ answers with links."""
from __future__ import annotations

import re

import pytest
from django.urls import Resolver404, URLPattern, resolve, reverse

from logs.api import urls as api_urls
from logs.api.openapi import openapi_document
from logs.filters import ApiCallFilterForm

BASE = "/api/v1"


def _route_as_openapi(pattern: URLPattern) -> str:
    """`calls/<path:request_id>` -> `/calls/{request_id}`."""
    route = str(pattern.pattern)
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def _sample(path: str) -> str:
    return BASE + re.sub(r"\{\w+\}", "req/with-slash-1", path)


def test_every_documented_path_is_routed_to_the_api():
    for path, item in openapi_document()["paths"].items():
        try:
            match = resolve(_sample(path))
        except Resolver404:
            pytest.fail(f"{path} is documented but not routed")
        assert match.namespace == "api", path
        assert set(item) <= {"get", "post", "put", "patch", "delete"}


def test_every_api_route_is_documented():
    documented = set(openapi_document()["paths"])
    routes = {_route_as_openapi(p) for p in api_urls.urlpatterns}
    assert routes - documented == set()
    assert routes == documented


def test_the_list_documents_every_filter_of_the_schema():
    op = openapi_document()["paths"]["/calls"]["get"]
    names = {p["name"] for p in op["parameters"]}
    assert set(ApiCallFilterForm.base_fields) <= names
    assert {"customer", "cursor", "limit"} <= names
    assert "channel" not in names  # staff-only on the page, never in the API


@pytest.mark.django_db
def test_openapi_json_is_served_without_a_token(client):
    r = client.get(reverse("api:openapi"))
    assert r.status_code == 200 and r["Content-Type"].startswith("application/json")
    doc = r.json()
    assert doc["openapi"].startswith("3.") and doc["servers"][0]["url"].endswith("/api/v1")


@pytest.mark.django_db
def test_api_root_answers_with_links_not_404(client):
    r = client.get("/api/v1/")
    assert r.status_code == 200
    links = r.json()["links"]
    assert links["calls"].endswith("/api/v1/calls")
    assert links["openapi"].endswith("/api/v1/openapi.json")
    assert client.get(links["openapi"]).status_code == 200


@pytest.mark.django_db
def test_docs_page_lists_every_operation(client, alice):
    client.force_login(alice)
    html = client.get(reverse("logs:api_docs")).content.decode()
    for path, item in openapi_document()["paths"].items():
        for method in item:
            assert f"{method.upper()}</span> <code class=\"wrap\">{BASE}{path}</code>" in html
    # nothing from another site: every script and stylesheet is nbaudit's own (no CDN, no swagger-ui)
    assert re.findall(r'<(?:script|link)[^>]+(?:src|href)="(?!/static/)[^"]*"', html) == []
    assert "swagger" not in html.lower()
