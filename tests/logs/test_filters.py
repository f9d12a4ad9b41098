"""The one filter schema (logs.filters): the Logs page, the Overview, the read API and exports
parse a filter the same way, and a value that cannot be one is a 400 in words, never a 500."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from logs.choices import Category
from logs.services.exports import export_filters_clean
from logs.services.rollups import rollups_rebuild
from tests import factories as f

pytestmark = pytest.mark.django_db
UTC = dt.timezone.utc


@pytest.fixture(autouse=True)
def _logged_in(client, alice):
    client.force_login(alice)


@pytest.fixture
def token(acme_token):
    return {"HTTP_AUTHORIZATION": f"Bearer {acme_token}"}


def _ids(html: str) -> set[str]:
    import re

    return set(re.findall(r'<a class="mono" href="/logs/\d+/">([^<]+)</a>', html))


@pytest.fixture
def two_calls(acme):
    f.call(acme, request_id="ok", created_at=dt.datetime(2026, 10, 5, 4, tzinfo=UTC))
    f.call(acme, request_id="bad", created_at=dt.datetime(2026, 10, 5, 5, tzinfo=UTC),
           category=Category.OVERLOADED, http_status=503)


@pytest.mark.parametrize("flag", ["on", "1", "true", "yes", "ON"])
def test_failed_flag_means_the_same_on_the_page_in_the_api_and_in_exports(client, alice, two_calls, token, flag):
    page = client.get("/logs/", {"failed": flag})
    assert page.status_code == 200 and _ids(page.content.decode()) == {"bad"}
    api = client.get("/api/v1/calls", {"failed": flag}, **token)
    assert api.status_code == 200 and [c["request_id"] for c in api.json()["results"]] == ["bad"]
    assert export_filters_clean({"failed": flag}) == {"failed": True}


@pytest.mark.parametrize("flag", ["0", "off", "no", "false", ""])
def test_failed_off_lists_everything(client, alice, two_calls, token, flag):
    assert _ids(client.get("/logs/", {"failed": flag}).content.decode()) == {"ok", "bad"}
    api = client.get("/api/v1/calls", {"failed": flag}, **token).json()
    assert {c["request_id"] for c in api["results"]} == {"ok", "bad"}
    assert export_filters_clean({"failed": flag}) == {}


def test_a_flag_that_is_neither_is_refused_everywhere(client, alice, two_calls, token):
    page = client.get("/logs/", {"failed": "maybe"})
    assert page.status_code == 400 and "Failed" in page.content.decode()
    assert "use 1 or 0" in page.content.decode() and _ids(page.content.decode()) == set()
    api = client.get("/api/v1/calls", {"failed": "maybe"}, **token)
    assert api.status_code == 400 and "failed" in api.json()["error"]
    with pytest.raises(ValidationError, match="failed"):
        export_filters_clean({"failed": "maybe"})


def test_categories_repeated_or_comma_separated_everywhere(client, alice, two_calls, token):
    f.call(f.customer("acme"), request_id="slow", category=Category.TIMEOUT, http_status=504,
           created_at=dt.datetime(2026, 10, 5, 6, tzinfo=UTC))
    for params in ({"category": ["overloaded", "timeout"]}, {"category": "overloaded,timeout"}):
        assert _ids(client.get("/logs/", params).content.decode()) == {"bad", "slow"}
        api = client.get("/api/v1/calls", params, **token).json()
        assert {c["request_id"] for c in api["results"]} == {"bad", "slow"}
        assert export_filters_clean(params) == {"category": ["overloaded", "timeout"]}
    page = client.get("/logs/", {"category": "overloaded,nonsense"})
    assert page.status_code == 400 and "unknown category &#x27;nonsense&#x27;" in page.content.decode()


def test_http_status_bounds_are_the_same_everywhere(client, alice, two_calls, token):
    page = client.get("/logs/", {"http_status": "1000"})
    assert page.status_code == 400 and "from 100 to 599" in page.content.decode()
    api = client.get("/api/v1/calls", {"http_status": "1000"}, **token)
    assert api.status_code == 400 and "http_status" in api.json()["error"]
    with pytest.raises(ValidationError, match="from 100 to 599"):
        export_filters_clean({"http_status": 1000})


# --- days and times out of range ---------------------------------------------------------------

@pytest.mark.parametrize("params", [
    {"range": "custom", "date_from": "0001-01-01"},
    {"range": "custom", "date_to": "9999-12-31"},
    {"date_from": "1969-12-31"},
])
def test_far_days_on_the_logs_page_are_a_form_error(client, alice, two_calls, params):
    resp = client.get("/logs/", params)
    html = resp.content.decode()
    assert resp.status_code == 400 and "is out of range: use a day from 1970-01-01 to 9999-12-30" in html
    assert _ids(html) == set()


@pytest.mark.parametrize("params", [{"range": "custom", "date_from": "0001-01-01"},
                                    {"range": "custom", "date_to": "9999-12-31"}])
def test_far_days_on_the_overview_are_a_form_error(client, alice, acme, two_calls, params):
    rollups_rebuild(customer_id=acme.pk)
    resp = client.get("/", params)
    assert resp.status_code == 400
    assert "is out of range: use a day from 1970-01-01 to 9999-12-30" in resp.content.decode()


@pytest.mark.parametrize("params", [
    {"from": "0001-01-01"}, {"to": "9999-12-31"},
    {"from": "0001-01-01T00:00:00+14:00"}, {"to": "9999-12-31T23:59:59-12:00"},
    {"date_from": "0001-01-01"},
])
def test_far_days_and_times_in_the_api_are_a_400_in_json(client, two_calls, token, params):
    resp = client.get("/api/v1/calls", params, **token)
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert next(iter(params)) in error and "out of range" in error


def test_far_days_in_an_export_are_refused_in_words(client, alice):
    from logs.models import ExportJob

    resp = client.post("/exports/new", {"range": "custom", "date_from": "0001-01-01", "date_to": "2026-10-01"})
    assert resp.status_code == 400 and "is out of range" in resp.content.decode()
    assert not ExportJob.objects.exists()


def test_a_call_at_the_end_of_the_calendar_shows_for_a_user_east_of_beijing(client, alice, acme):
    far = f.call(acme, request_id="far", created_at=dt.datetime(9999, 12, 31, 15, 59, tzinfo=UTC))
    f.call(acme, request_id="near", created_at=dt.datetime(2026, 10, 5, 4, tzinfo=UTC))
    alice.time_zone = "Asia/Tokyo"
    alice.save()
    resp = client.get("/logs/")
    html = resp.content.decode()
    assert resp.status_code == 200 and _ids(html) == {"far", "near"}
    assert "9999-12-31 15:59:00 UTC" in html
    assert client.get(f"/logs/{far.pk}/").status_code == 200
