"""Content-Security-Policy on every page, and pages that work under it: no inline script, no
inline event handler (JSON data blocks are not run, so they may stay)."""
from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
from django.conf import settings

from logs.choices import Category
from logs.services.rollups import rollups_rebuild
from tests import factories as f
from tests.test_access import _plain_urls

pytestmark = pytest.mark.django_db


class _Inline(HTMLParser):
    """Collects what a script-src 'self' policy would refuse to run."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self._script = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name in ("href", "src", "action") and (attrs[name] or "").lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:...>")
        if tag == "script" and "src" not in attrs and attrs.get("type") != "application/json":
            self._script = ""

    def handle_data(self, data):
        if self._script is not None:
            self._script += data

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.found.append(f"<script>{self._script.strip()[:60]}</script>")
            self._script = None


def _inline(html: str) -> list[str]:
    parser = _Inline()
    parser.feed(html)
    return parser.found


@pytest.fixture
def staff_client(client):
    acme = f.customer("acme")
    now = dt.datetime.now(dt.UTC)
    call = f.call(acme, request_id="acme-blocked", created_at=now - dt.timedelta(hours=3),
                  category=Category.IMAGE_BLOCKED)
    f.call(acme, request_id="acme-ok", created_at=now - dt.timedelta(hours=2))
    rollups_rebuild()
    client.force_login(f.user("csp-staff", staff=True))
    client.call = call
    return client


def test_the_policy_allows_scripts_from_our_own_files_only():
    policy = dict(d.strip().split(" ", 1) for d in settings.NBAUDIT_CSP.split(";"))
    assert policy["script-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy["style-src"] and "unsafe" not in policy["default-src"]


def test_every_page_carries_the_policy_and_runs_no_inline_script(staff_client):
    urls = sorted(set(_plain_urls()) | {f"/logs/{staff_client.call.pk}/", "/?range=last_month",
                                         "/admin/logs/customer/", "/no-such-page/"})
    seen = 0
    for url in urls:
        if url.startswith("/accounts/logout"):
            continue
        resp = staff_client.get(url)
        assert resp["Content-Security-Policy"] == settings.NBAUDIT_CSP, url
        if resp.status_code == 200 and resp["Content-Type"].startswith("text/html"):
            assert _inline(resp.content.decode()) == [], url
            seen += 1
    assert seen >= 10  # the dashboard's pages and the admin's


def test_the_overview_keeps_its_figures_as_data_and_loads_its_scripts(staff_client):
    html = staff_client.get("/?range=last_month").content.decode()
    assert '<script type="application/json" id="fig-calls">' in html
    assert '<script src="/static/plotly/plotly.min.js"></script>' in html
    assert '<script src="/static/js/charts.js"></script>' in html


def test_staff_pages_open_the_export_dialog_and_switch_customer_from_static_js(staff_client):
    html = staff_client.get("/logs/").content.decode()
    assert 'data-opens="export-dialog"' in html and 'id="export-dialog"' in html
    assert "data-autosubmit" in html
    assert '<script src="/static/js/page.js" defer></script>' in html


def test_the_login_page_and_the_api_carry_the_policy(client):
    assert client.get("/accounts/login/")["Content-Security-Policy"] == settings.NBAUDIT_CSP
    assert client.get("/api/v1/calls")["Content-Security-Policy"] == settings.NBAUDIT_CSP
