"""Approval steps, staff decisions on calls, the audit trail and frozen tallies."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from billing.models import TallyCall, TallyEvent
from billing.services.tally import (
    TallyError,
    tally_approve,
    tally_call_exclude,
    tally_call_include,
    tally_compute,
    tally_mark_credited,
    tally_month_end,
    tally_reject,
)
from tests import factories as f
from tests.billing.tallies.helpers import JUNE, at, enrolled, failure, spend

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft():
    c = enrolled()
    spend(c, "1000")
    for d in (1, 2, 3, 4):
        failure(c, prompt="same", when=at(2026, 6, d), request_id=f"same-{d}")
    failure(c, request_id="solo", when=at(2026, 6, 5))
    return tally_compute(customer=c, month=JUNE)


def test_approve_at_the_computed_credit(draft, staff):
    assert draft.credit_usd == Decimal("0.20")
    t = tally_approve(tally=draft, by=staff)
    assert t.status == "approved" and t.approved_usd == Decimal("0.20")
    ev = TallyEvent.objects.filter(tally=t).last()
    assert (ev.action, ev.by, ev.status_before, ev.status_after) == ("approved", staff, "draft", "approved")
    assert ev.amount_before == Decimal("0.20") and ev.amount_after == Decimal("0.20")


def test_an_adjusted_amount_needs_a_reason(draft, staff):
    with pytest.raises(TallyError, match="reason"):
        tally_approve(tally=draft, by=staff, amount=Decimal("5.00"))
    draft.refresh_from_db()
    assert draft.status == "draft" and draft.approved_usd is None
    t = tally_approve(tally=draft, by=staff, amount="5.00", reason="goodwill for the outage")
    assert t.approved_usd == Decimal("5.00") and t.credit_usd == Decimal("0.20")
    ev = TallyEvent.objects.filter(tally=t, action="approved").get()
    assert ev.amount_before == Decimal("0.20") and ev.amount_after == Decimal("5.00")
    assert "goodwill" in ev.detail


def test_an_amount_is_read_as_the_money_module_reads_it(draft, staff):
    t = tally_approve(tally=draft, by=staff, amount="US$1,005.00", reason="goodwill for the outage")
    assert t.approved_usd == Decimal("1005.00")


def test_bad_amounts_are_refused(draft, staff):
    for bad in ("-1", "abc", "0.001"):
        with pytest.raises(TallyError):
            tally_approve(tally=draft, by=staff, amount=bad, reason="x")
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_reject_needs_a_reason(draft, staff):
    with pytest.raises(TallyError, match="reason"):
        tally_reject(tally=draft, by=staff, reason="  ")
    t = tally_reject(tally=draft, by=staff, reason="customer asked to close the account")
    assert t.status == "rejected"
    assert TallyEvent.objects.filter(tally=t, action="rejected", status_after="rejected").exists()


def test_mark_credited_needs_approval_and_a_reference(draft, staff):
    with pytest.raises(TallyError, match="approved"):
        tally_mark_credited(tally=draft, by=staff, reference="TOPUP-1")
    tally_approve(tally=draft, by=staff)
    with pytest.raises(TallyError, match="reference"):
        tally_mark_credited(tally=draft, by=staff, reference="")
    t = tally_mark_credited(tally=draft, by=staff, reference="REDEEM-7Q2X")
    assert t.status == "credited" and t.credited_ref == "REDEEM-7Q2X"
    ev = TallyEvent.objects.filter(tally=t).last()
    assert (ev.status_before, ev.status_after, ev.amount_after) == ("approved", "credited", Decimal("0.20"))


def test_a_decided_tally_cannot_be_approved_or_rejected_again(draft, staff):
    tally_reject(tally=draft, by=staff, reason="no")
    with pytest.raises(TallyError):
        tally_approve(tally=draft, by=staff)
    with pytest.raises(TallyError):
        tally_reject(tally=draft, by=staff, reason="again")


def test_non_staff_cannot_act(draft):
    u = f.user("cust", customer_obj=draft.customer)
    for step in (lambda: tally_approve(tally=draft, by=u),
                 lambda: tally_reject(tally=draft, by=u, reason="x"),
                 lambda: tally_call_exclude(tally=draft, call=TallyCall.objects.first().call_id, by=u, reason="x")):
        with pytest.raises(PermissionDenied):
            step()
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_staff_exclude_and_reinclude_survive_recomputes(draft, staff):
    solo = TallyCall.objects.get(tally=draft, request_id="solo")
    fourth = TallyCall.objects.get(tally=draft, request_id="same-4")
    assert fourth.status == "repeated"
    with pytest.raises(TallyError, match="reason"):
        tally_call_exclude(tally=draft, call=solo.call_id, by=staff, reason="")

    t = tally_call_exclude(tally=draft, call=solo.call_id, by=staff, reason="customer's own test traffic")
    assert t.counted_calls == 3 and t.credit_usd == Decimal("0.15")
    row = TallyCall.objects.get(tally=t, request_id="solo")
    assert row.status == "excluded" and "own test traffic" in row.reason

    t = tally_call_include(tally=t, call=fourth.call_id, by=staff, reason="different subject, same words")
    assert TallyCall.objects.get(tally=t, request_id="same-4").status == "counted"
    assert t.counted_calls == 4 and t.credit_usd == Decimal("0.20")

    t = tally_compute(customer=t.customer, month=JUNE)
    st = dict(TallyCall.objects.filter(tally=t).values_list("request_id", "status"))
    assert st["solo"] == "excluded" and st["same-4"] == "counted"

    ev = TallyEvent.objects.filter(tally=t, action="call excluded").get()
    assert ev.by == staff and ev.amount_before == Decimal("0.20") and ev.amount_after == Decimal("0.15")

    with pytest.raises(TallyError, match="already counted"):
        tally_call_include(tally=t, call=fourth.call_id, by=staff, reason="again")


def test_a_call_outside_the_tally_is_refused(draft, staff):
    other = failure(f.customer("other"), request_id="elsewhere")
    with pytest.raises(TallyError, match="not a covered"):
        tally_call_exclude(tally=draft, call=other, by=staff, reason="x")


def test_calls_of_an_approved_tally_cannot_be_changed(draft, staff):
    tally_approve(tally=draft, by=staff)
    solo = TallyCall.objects.get(tally=draft, request_id="solo")
    with pytest.raises(TallyError, match="approved"):
        tally_call_exclude(tally=draft, call=solo.call_id, by=staff, reason="late")


@pytest.mark.parametrize("decide", ["approve", "reject", "credit"])
def test_a_decided_tally_is_frozen_when_new_data_arrives(draft, staff, decide, settings):
    if decide == "reject":
        tally_reject(tally=draft, by=staff, reason="no")
    else:
        tally_approve(tally=draft, by=staff)
        if decide == "credit":
            tally_mark_credited(tally=draft, by=staff, reference="R1")
    draft.refresh_from_db()
    before = (draft.status, draft.failed_calls, draft.counted_calls, draft.gross_usd, draft.credit_usd,
              draft.approved_usd, draft.spend_usd, draft.discount_factor, draft.breakdown)
    calls_before = list(TallyCall.objects.filter(tally=draft).values_list("request_id", "status", "price_usd"))
    events_before = TallyEvent.objects.filter(tally=draft).count()

    failure(draft.customer, when=at(2026, 6, 28), request_id="late-arrival")       # new data
    spend(draft.customer, "5000", when=at(2026, 6, 28))
    draft.customer.topup_factor = Decimal("1.15")                                   # rule change
    draft.customer.save()
    settings.NBAUDIT_PLAN_REPEAT_LIMIT = 1

    for t in (tally_compute(customer=draft.customer, month=JUNE), *tally_month_end(month=JUNE)):
        t.refresh_from_db()
        assert (t.status, t.failed_calls, t.counted_calls, t.gross_usd, t.credit_usd, t.approved_usd,
                t.spend_usd, t.discount_factor, t.breakdown) == before
        assert list(TallyCall.objects.filter(tally=t).values_list("request_id", "status", "price_usd")) == calls_before
    assert TallyEvent.objects.filter(tally=draft).count() == events_before


def test_every_compute_is_in_the_trail(draft):
    tally_compute(customer=draft.customer, month=JUNE)
    evs = list(TallyEvent.objects.filter(tally=draft).values_list("action", "status_before", "status_after"))
    assert evs == [("computed", "", "draft"), ("computed", "draft", "draft")]


def test_month_end_defaults_to_the_previous_month_for_enrolled_customers(monkeypatch):
    import billing.services.tally as svc

    monkeypatch.setattr(svc, "billing_today", lambda: dt.date(2026, 7, 1))
    enrolled("in")
    f.customer("out")
    tallies = tally_month_end()
    assert [(t.customer.slug, t.month) for t in tallies] == [("in", JUNE)]


def test_a_tally_keeps_its_calls_when_a_call_is_deleted(draft, staff):
    tally_approve(tally=draft, by=staff)
    row = TallyCall.objects.get(tally=draft, request_id="solo")
    row_call = row.call
    row_call.delete()
    row.refresh_from_db()
    assert row.call_id is None and row.request_id == "solo" and row.price_usd == Decimal("0.05")
    draft.refresh_from_db()
    assert draft.counted_calls == 4 and draft.approved_usd == Decimal("0.20")
