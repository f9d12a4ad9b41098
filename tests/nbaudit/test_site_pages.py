"""What every page shares: the favicon, the branded error pages (with the navigation), the
logged-out message, and the one time-zone rule in the footer."""
from __future__ import annotations

import pytest
from django.template import loader
from django.test import RequestFactory
from django.urls import reverse

from nbaudit.views import server_error
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_the_favicon_is_linked_and_served(client, alice):
    client.force_login(alice)
    html = client.get(reverse("logs:overview")).content.decode()
    assert '<link rel="icon" href="/static/favicon.svg"' in html
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and b"<svg" in b"".join(icon.streaming_content)
    old = client.get("/favicon.ico")  # what pages without the link (the admin's) ask for
    assert old.status_code == 301 and old["Location"] == "/static/favicon.svg"


def test_logging_out_says_so(client, alice):
    client.force_login(alice)
    resp = client.post(reverse("logout"), follow=True)
    assert resp.redirect_chain[-1][0] == reverse("login")
    assert "You have logged out." in resp.content.decode()
    again = client.get(reverse("login")).content.decode()
    assert "You have logged out." not in again  # said once


def test_404_is_branded_with_the_navigation(client, alice, globex):
    client.force_login(alice)
    secret = f.call(globex, request_id="globex-secret")
    resp = client.get(reverse("logs:call", args=[secret.pk]))
    assert resp.status_code == 404
    html = resp.content.decode()
    assert 'id="error-page"' in html and "Page not found" in html
    assert 'class="mainnav"' in html and ">Logs</a>" in html and "Log out" in html
    anonymous = client.__class__().get("/no-such-page/")
    assert anonymous.status_code == 404 and "Page not found" in anonymous.content.decode()


def test_403_is_branded_and_says_why(client, alice):
    client.force_login(alice)
    resp = client.post(reverse("billing:tally_approve", args=[1]))
    assert resp.status_code == 403
    html = resp.content.decode()
    assert 'id="error-page"' in html and "Not allowed" in html and "Only staff may act on tallies." in html
    assert 'class="mainnav"' in html


@pytest.mark.parametrize("name,args", [("logs:ingest", []), ("logs:ingest_batch", [1]),
                                       ("logs:ingest_batch_status", [1])])
def test_a_customer_opening_the_upload_pages_gets_the_branded_403_not_the_admin_login(client, alice, name, args):
    client.force_login(alice)
    resp = client.get(reverse(name, args=args))
    assert resp.status_code == 403
    html = resp.content.decode()
    assert 'id="error-page"' in html and "Uploading log files is for the gateway&#x27;s staff." in html
    assert "/admin/login/" not in resp.get("Location", "")


def test_500_renders_with_the_navigation_and_without_any_context(alice, rf: RequestFactory):
    from django.contrib.sessions.backends.db import SessionStore

    request = rf.get("/")
    request.user, request.session = alice, SessionStore()
    resp = server_error(request)
    assert resp.status_code == 500
    html = resp.content.decode()
    assert "Something went wrong on our side" in html and 'class="mainnav"' in html

    class Broken:  # the database is what failed: the user cannot even be loaded
        @property
        def is_authenticated(self):
            raise RuntimeError("database is down")

    request = rf.get("/")
    request.user = Broken()
    resp = server_error(request)
    assert resp.status_code == 500 and "Something went wrong on our side" in resp.content.decode()
    bare = loader.get_template("500.html").render()  # Django's own handler renders it so
    assert "Something went wrong on our side" in bare and "favicon.svg" in bare


def test_footer_states_the_time_zone_rule(client, alice):
    client.force_login(alice)
    html = client.get(reverse("logs:calls")).content.decode()
    assert "Days and times in Asia/Shanghai, UTC+8" in html and "billing months in Asia/Shanghai, UTC+8" in html
