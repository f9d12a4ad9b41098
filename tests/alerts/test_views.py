"""Alert pages: a customer sees and edits only its own rules, incidents and notifications (404
otherwise) and cannot point a rule at another customer or use a staff kind; staff see all."""
import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from alerts.models import AlertRule, Incident, Notification
from alerts.services.rules import alert_rule_save
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    acme, globex = f.customer("acme", name="Acme Studio"), f.customer("globex", name="Globex")
    alice, gina, sam = f.user("alice", customer_obj=acme), f.user("gina", customer_obj=globex), f.user("sam", staff=True)
    theirs = alert_rule_save(by=gina, name="globex fails", kind="failed_generation_rate", customer=globex,
                             threshold="0.2")
    incident = Incident.objects.create(rule=theirs, customer=globex, subject=f"customer:{globex.pk}",
                                       opened_at=dt.datetime(2026, 11, 30, tzinfo=dt.timezone.utc))
    note = Notification.objects.create(user=gina, title="secret")
    return dict(acme=acme, globex=globex, alice=alice, gina=gina, sam=sam, theirs=theirs, incident=incident,
                note=note)


def form(**kw):
    data = {"name": "my fails", "kind": "failed_generation_rate", "window_minutes": 60, "threshold": "0.25",
            "min_calls": 10, "remind_hours": 24, "webhook_format": "generic", "in_app": "on", "enabled": "on"}
    data.update(kw)
    return data


def test_customer_creates_a_rule_for_its_own_customer(client, world):
    client.force_login(world["alice"])
    resp = client.post(reverse("alerts:rules"), form(customer=world["globex"].pk))  # ignored: not staff
    assert resp.status_code == 302
    rule = AlertRule.objects.get(name="my fails")
    assert rule.customer == world["acme"] and rule.threshold == Decimal("0.25")


def test_customer_cannot_use_a_staff_kind(client, world):
    client.force_login(world["alice"])
    resp = client.post(reverse("alerts:rules"), form(kind="tally_overdue"))
    assert resp.status_code == 200
    assert "tally_overdue is not one of the available choices" in resp.content.decode()
    assert not AlertRule.objects.filter(name="my fails").exists()


def test_bad_values_are_shown_beside_their_field_and_kept(client, world):
    client.force_login(world["alice"])
    resp = client.post(reverse("alerts:rules"), form(threshold="1.5", emails="not-an-address"))
    page = resp.content.decode()
    assert "a rate is a fraction from 0 to 1" in page or "not an email address" in page
    assert 'value="my fails"' in page


def test_another_customers_rule_incident_are_404(client, world):
    client.force_login(world["alice"])
    assert client.get(reverse("alerts:rule", args=[world["theirs"].pk])).status_code == 404
    assert client.post(reverse("alerts:rule", args=[world["theirs"].pk]), {"delete": "1"}).status_code == 404
    assert client.get(reverse("alerts:incident", args=[world["incident"].pk])).status_code == 404
    assert client.post(reverse("alerts:incident_act", args=[world["incident"].pk]),
                       {"action": "acknowledge"}).status_code == 404
    page = client.get(reverse("alerts:rules")).content.decode()
    assert "globex fails" not in page
    assert "secret" not in client.get(reverse("alerts:notifications")).content.decode()
    assert AlertRule.objects.filter(pk=world["theirs"].pk).exists()


def test_owner_acknowledges_and_mutes(client, world):
    client.force_login(world["gina"])
    url = reverse("alerts:incident_act", args=[world["incident"].pk])
    assert client.post(url, {"action": "acknowledge"}).status_code == 302
    assert client.post(url, {"action": "mute", "hours": "6"}).status_code == 302
    world["incident"].refresh_from_db()
    assert world["incident"].acknowledged_by == world["gina"] and world["incident"].muted_until
    page = client.get(reverse("alerts:incident", args=[world["incident"].pk])).content.decode()
    assert "acknowledged" in page and "muted" in page


def test_staff_sees_all_and_writes_a_rule_over_every_customer(client, world):
    client.force_login(world["sam"])
    assert "globex fails" in client.get(reverse("alerts:rules")).content.decode()
    resp = client.post(reverse("alerts:rules"), form(name="all overdue", kind="tally_overdue", threshold="0"))
    assert resp.status_code == 302
    assert AlertRule.objects.get(name="all overdue").customer is None


def test_bell_counts_unread_and_mark_read(client, world):
    client.force_login(world["gina"])
    page = client.get(reverse("logs:overview")).content.decode()
    assert '<span class="bell-count">1</span>' in page
    client.post(reverse("alerts:notifications"))
    assert Notification.objects.get(pk=world["note"].pk).read_at is not None


def test_service_refuses_a_customer_rule_on_another_customer(world):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        alert_rule_save(by=world["alice"], name="x", kind="failed_generation_rate", customer=world["globex"],
                        threshold="0.2")


def test_a_staff_rule_on_a_customer_is_not_the_customers_to_see_or_change(client, world):
    staff_rule = alert_rule_save(by=world["sam"], name="staff watch", kind="failed_generation_rate",
                                 customer=world["acme"], threshold="0.2")
    incident = Incident.objects.create(rule=staff_rule, customer=world["acme"], subject="customer:x",
                                       opened_at=dt.datetime(2026, 11, 30, tzinfo=dt.timezone.utc))
    client.force_login(world["alice"])
    assert "staff watch" not in client.get(reverse("alerts:rules")).content.decode()
    assert client.get(reverse("alerts:rule", args=[staff_rule.pk])).status_code == 404
    assert client.post(reverse("alerts:rule", args=[staff_rule.pk]), {"delete": "1"}).status_code == 404
    assert client.get(reverse("alerts:incident", args=[incident.pk])).status_code == 404
    assert AlertRule.objects.filter(pk=staff_rule.pk).exists()
    mine = alert_rule_save(by=world["alice"], name="mine", kind="failed_generation_rate", customer=world["acme"],
                           threshold="0.2")
    assert client.get(reverse("alerts:rule", args=[mine.pk])).status_code == 200
