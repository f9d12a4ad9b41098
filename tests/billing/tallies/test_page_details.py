"""Small things on the Credits pages: approve asks first, a refused step keeps what was typed
with the error beside its field, the audit trail in the order things happened, the list
follows the customer switch, and its Eligible filter says "Any"."""
import pytest
from django.urls import reverse

from billing.models import TallyEvent
from billing.services.tally import tally_call_exclude, tally_compute
from logs.scoping import SESSION_KEY
from tests.billing.tallies.helpers import JUNE, at, enrolled, failure, spend

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme_tally():
    c = enrolled("acme", name="Acme Studio")
    spend(c, "1000")
    for d in (1, 2, 3):
        failure(c, when=at(2026, 6, d), request_id=f"fail-{d}", prompt=f"prompt {d}")
    return tally_compute(customer=c, month=JUNE)


def test_approve_asks_for_confirmation(staff_client, acme_tally):
    html = staff_client.get(reverse("billing:tally", args=[acme_tally.pk])).content.decode()
    assert 'id="approve-form" data-confirm="Approve the tally of Acme Studio for 2026-06?' in html


def test_a_refused_step_keeps_what_was_typed_beside_its_field(staff_client, acme_tally):
    url = reverse("billing:tally_approve", args=[acme_tally.pk])
    resp = staff_client.post(url, {"amount": "1.00", "reason": ""})
    assert resp.status_code == 400
    html = resp.content.decode()
    assert 'name="amount" value="1.00"' in html  # what was typed is still there
    field = html[html.index('name="reason"'):]
    assert 'class="field-error" id="id_reason_error"' in field[:400]  # right after the reason box
    assert "reason is required" in field[:600]
    resp = staff_client.post(url, {"amount": "abc", "reason": "goodwill"})
    html = resp.content.decode()
    assert resp.status_code == 400 and 'value="abc"' in html and 'value="goodwill"' in html
    assert 'id="id_amount_error"' in html
    acme_tally.refresh_from_db()
    assert acme_tally.status == "draft"
    resp = staff_client.post(reverse("billing:tally_call_action", args=[acme_tally.pk]),
                             {"request_id": "nope", "action": "exclude", "reason": "test traffic"})
    html = resp.content.decode()
    assert resp.status_code == 400 and 'value="nope"' in html and 'value="test traffic"' in html
    assert "No covered call" in html


def test_audit_rows_in_the_order_the_actions_happened(staff, acme_tally):
    row = acme_tally.calls.get(request_id="fail-2")
    tally_call_exclude(tally=acme_tally, call=row.call_id, by=staff, reason="test traffic")
    actions = list(TallyEvent.objects.filter(tally=acme_tally).order_by("at", "id").values_list("action", flat=True))
    assert actions == ["computed", "call excluded", "computed"]
    excluded = TallyEvent.objects.get(tally=acme_tally, action="call excluded")
    assert excluded.amount_before > excluded.amount_after


def test_the_credits_list_follows_the_customer_switch(staff_client, acme_tally, other_tally):
    def listed(resp):
        return [row.record.customer.slug for row in resp.context["table"].paginated_rows]

    assert listed(staff_client.get(reverse("billing:tallies"))) == ["acme", "globex"]
    session = staff_client.session
    session[SESSION_KEY] = other_tally.customer_id
    session.save()
    resp = staff_client.get(reverse("billing:tallies"))
    assert listed(resp) == ["globex"]
    assert '<option value="globex" selected>' in resp.content.decode()
    assert listed(staff_client.get(reverse("billing:tallies"), {"customer": ""})) == ["acme", "globex"]


def test_the_eligible_filter_says_any(staff_client, acme_tally):
    html = staff_client.get(reverse("billing:tallies")).content.decode()
    select = html[html.index('name="eligible"'):]
    select = select[:select.index("</select>")]
    assert ">Any</option>" in select and "Unknown" not in select
    resp = staff_client.get(reverse("billing:tallies"), {"eligible": "true"})
    assert [r.record.customer.slug for r in resp.context["table"].paginated_rows] == ["acme"]
