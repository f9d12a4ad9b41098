"""Money moves: a tally approved (or adjusted), rejected or credited notifies the customer's users."""
import datetime as dt
from decimal import Decimal

import pytest

from alerts.models import Delivery, Notification
from billing.services.tally import tally_approve, tally_compute, tally_mark_credited
from tests import factories as f
from tests.billing.tallies.helpers import JUNE, at, enrolled, failure, spend

pytestmark = pytest.mark.django_db


def test_approval_adjustment_and_credit_reach_the_customer(django_capture_on_commit_callbacks):
    acme = enrolled(name="Acme Studio")
    alice = f.user("alice", customer_obj=acme)
    alice.email = "alice@acme.example"
    alice.save()
    boss = f.user("boss", staff=True)
    spend(acme, "1000")
    for day in range(1, 5):
        failure(acme, when=at(2026, 6, day), request_id=f"f{day}")
    tally = tally_compute(customer=acme, month=JUNE)
    with django_capture_on_commit_callbacks(execute=True):
        tally_approve(tally=tally, by=boss, amount="0.15", reason="one call was a test")
    note = Notification.objects.get(user=alice)
    assert "adjusted to US$0.15" in note.title
    assert "one call was a test" in note.body
    with django_capture_on_commit_callbacks(execute=True):
        tally_mark_credited(tally=tally, by=boss, reference="TX-42")
    latest = Notification.objects.filter(user=alice).first()
    assert "credited" in latest.title and "TX-42" in latest.body
    assert Delivery.objects.filter(target="alice@acme.example").count() == 2
    assert not Notification.objects.filter(user=boss).exists()
