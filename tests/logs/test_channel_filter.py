"""The gateway channel of a call: staff filter the Logs page by it and see it on the call page; customers never do."""
import pytest

from tests import factories as F

pytestmark = pytest.mark.django_db


def _calls():
    acme = F.customer("acme")
    F.call(acme, request_id="via-3", channel_id=3)
    F.call(acme, request_id="via-4", channel_id=4)
    return acme


def test_staff_filter_the_logs_page_by_channel(client):
    _calls()
    client.force_login(F.user("root", staff=True))
    page = client.get("/logs/", {"channel": 3}).content.decode()
    assert "via-3" in page and "via-4" not in page
    assert 'name="channel"' in page


def test_customers_have_no_channel_filter(client):
    acme = _calls()
    client.force_login(F.user("carol", customer_obj=acme))
    page = client.get("/logs/", {"channel": 3}).content.decode()
    assert 'name="channel"' not in page
    assert "via-3" in page and "via-4" in page  # the parameter is ignored, not applied


def test_the_call_page_shows_the_channel_to_staff_only(client):
    acme = _calls()
    call = acme.calls.get(request_id="via-3")
    client.force_login(F.user("carol", customer_obj=acme))
    page = client.get(f"/logs/{call.pk}/").content.decode()
    assert "via-3" in page and "Channel" not in page
    client.force_login(F.user("root", staff=True))
    page = client.get(f"/logs/{call.pk}/").content.decode()
    assert "<dt>Channel</dt><dd>3</dd>" in page
