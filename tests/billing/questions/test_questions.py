"""Questions on a tally: the customer asks, staff answer in the thread, both read it in the audit
trail; staff find open ones on the tallies list; another customer's tally is a 404."""
from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from billing.models import TallyEvent, TallyQuestion
from billing.services.questions import question_close, question_open, question_reply
from billing.services.tally import TallyError, tally_compute
from tests import factories as f
from tests.billing.tallies.helpers import JUNE, enrolled, failure, spend

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme_tally():
    c = enrolled("acme")
    spend(c, "1000")
    failure(c, request_id="acme-1")
    return tally_compute(customer=c, month=JUNE)


@pytest.fixture
def ann(acme_tally):
    return f.user("ann", customer_obj=acme_tally.customer)


def listed(response):
    return [row.record.customer.slug for row in response.context["table"].paginated_rows]


def test_thread_open_answer_follow_up_close(acme_tally, ann, staff):
    q = question_open(tally=acme_tally, by=ann, text="Why only one call?", kind="dispute")
    assert q.status == "open" and q.kind == "dispute"
    q = question_reply(question=q, by=staff, text="The other calls were HTTP 429.")
    assert q.status == "answered"
    q = question_reply(question=q, by=ann, text="But they were charged.")
    assert q.status == "open"
    q = question_reply(question=q, by=staff, text="Refunded separately.", close=True)
    assert q.status == "closed" and q.closed_at is not None
    assert [(m.text, m.from_staff) for m in q.messages.all()] == [
        ("Why only one call?", False), ("The other calls were HTTP 429.", True),
        ("But they were charged.", False), ("Refunded separately.", True)]
    trail = list(TallyEvent.objects.filter(tally=acme_tally).values_list("action", "detail"))
    assert ("dispute raised", "Why only one call?") in trail
    assert ("question answered", "The other calls were HTTP 429.") in trail
    assert ("question follow-up", "But they were charged.") in trail
    assert ("question answered and closed", "Refunded separately.") in trail
    with pytest.raises(TallyError):
        question_close(question=q, by=staff)


def test_another_customers_user_may_not_write(acme_tally):
    other = f.user("gus", customer_obj=f.customer("globex"))
    with pytest.raises(PermissionDenied):
        question_open(tally=acme_tally, by=other, text="hello")


def test_empty_message_is_refused_in_words(acme_tally, ann):
    with pytest.raises(TallyError, match="Write a message"):
        question_open(tally=acme_tally, by=ann, text="   ")


def test_customer_asks_on_the_page_and_staff_see_it_open(client, acme_tally, ann, staff, other_tally):
    client.force_login(ann)
    url = reverse("billing:tally", args=[acme_tally.pk])
    r = client.post(reverse("billing:tally_question_open", args=[acme_tally.pk]),
                    {"kind": "question", "text": "Is the 4K price right?"})
    assert r.status_code == 302
    page = client.get(url).content.decode()
    assert "Is the 4K price right?" in page and "question raised" in page
    client.force_login(staff)
    r = client.get(reverse("billing:tallies"))
    html = r.content.decode()
    assert "open question</span>" in html
    assert listed(client.get(reverse("billing:tallies"), {"open_question": "on"})) == ["acme"]
    q = TallyQuestion.objects.get()
    client.post(reverse("billing:tally_question_reply", args=[acme_tally.pk, q.pk]), {"text": "Yes: US$0.24."})
    q.refresh_from_db()
    assert q.status == "answered"
    assert listed(client.get(reverse("billing:tallies"), {"open_question": "on"})) == []
    client.force_login(ann)
    assert "Yes: US$0.24." in client.get(url).content.decode()


def test_another_customers_tally_and_question_are_404(client, acme_tally, ann, other_tally):
    globex_user = f.user("gus", customer_obj=other_tally.customer)
    q = question_open(tally=other_tally, by=globex_user, text="mine")
    client.force_login(ann)
    assert client.post(reverse("billing:tally_question_open", args=[other_tally.pk]),
                       {"kind": "question", "text": "x"}).status_code == 404
    assert client.post(reverse("billing:tally_question_reply", args=[other_tally.pk, q.pk]),
                       {"text": "x"}).status_code == 404
    # Another tally's question reached through one's own tally: 404 too.
    assert client.post(reverse("billing:tally_question_reply", args=[acme_tally.pk, q.pk]),
                       {"text": "x"}).status_code == 404
    assert client.post(reverse("billing:tally_question_close", args=[acme_tally.pk, q.pk])).status_code == 404
    assert q.messages.count() == 1


def test_tallies_list_shows_month_totals_and_the_estimate(client, acme_tally, other_tally, staff):
    client.force_login(staff)
    r = client.get(reverse("billing:tallies"))
    totals = r.context["month_totals"]
    assert [(t["month"], t["tallies"]) for t in totals] == [(JUNE, 2)]
    assert totals[0]["credit_usd"] == acme_tally.credit_usd + other_tally.credit_usd
    assert "Totals by month" in r.content.decode()
    r = client.get(reverse("billing:tallies"), {"customer": "acme"})
    assert [e.customer.slug for e in r.context["estimates"]][-1] == "acme"


def test_a_staff_answer_notifies_the_customer_a_question_does_not(acme_tally, ann, staff,
                                                                  django_capture_on_commit_callbacks):
    from alerts.models import Notification

    with django_capture_on_commit_callbacks(execute=True):
        q = question_open(tally=acme_tally, by=ann, text="Why?")
    assert not Notification.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        question_reply(question=q, by=staff, text="Because HTTP 503.")
    [note] = Notification.objects.filter(user=ann)
    assert "answered your question on the 2026-06 tally" in note.title and note.body == "Because HTTP 503."
    assert note.url == f"/billing/tallies/{acme_tally.pk}/"
