"""The tally pages: staff act, customers read their own (another's is a 404)."""
import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import Tally, TallyCall, TallyEvent
from billing.services.tally import tally_compute
from tests import factories as f
from tests.billing.tallies.helpers import JUNE, at, enrolled, failure, spend

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme_tally():
    c = enrolled("acme")
    spend(c, "1000")
    for d in (1, 2, 3, 4):
        failure(c, prompt="same", when=at(2026, 6, d), request_id=f"same-{d}")
    return tally_compute(customer=c, month=JUNE)


def listed(response):
    return [row.record.customer.slug for row in response.context["table"].paginated_rows]


@pytest.fixture
def acme_client(client, acme_tally):
    client.force_login(f.user("ann", customer_obj=acme_tally.customer))
    return client


def test_staff_list_shows_every_tally_with_status_amount_and_due_date(staff_client, acme_tally, other_tally):
    r = staff_client.get(reverse("billing:tallies"))
    assert r.status_code == 200
    html = r.content.decode()
    assert listed(r) == ["acme", "globex"]
    assert "$0.15" in html and "2026-07-07" in html and "draft" in html


def test_overdue_tallies_are_flagged_and_filterable(staff_client, acme_tally, other_tally, monkeypatch):
    import billing.selectors as sel

    monkeypatch.setattr(sel, "billing_today", lambda: dt.date(2026, 7, 8))
    Tally.objects.filter(pk=other_tally.pk).update(status="credited")
    r = staff_client.get(reverse("billing:tallies"), {"overdue": "on"})
    assert listed(r) == ["acme"]
    assert "overdue" in r.content.decode()


def test_list_filters_by_month(staff_client, acme_tally):
    assert listed(staff_client.get(reverse("billing:tallies"), {"month": "2026-05"})) == []
    assert listed(staff_client.get(reverse("billing:tallies"), {"month": "2026-06"})) == ["acme"]


def test_tally_page_shows_figures_breakdown_calls_and_trail(staff_client, acme_tally):
    r = staff_client.get(reverse("billing:tally", args=[acme_tally.pk]))
    html = r.content.decode()
    assert r.status_code == 200
    for text in ("same-1", "same-4", "Excluded as repeated", "no_image", "Approve", "Reject",
                 "Audit trail", "computed", "$0.150000"):
        assert text in html, text
    call = TallyCall.objects.get(tally=acme_tally, request_id="same-1")
    assert f"/logs/{call.call_id}/" in html


def test_staff_approve_with_adjusted_amount_through_the_page(staff_client, acme_tally):
    url = reverse("billing:tally_approve", args=[acme_tally.pk])
    r = staff_client.post(url, {"amount": "1.00", "reason": ""}, follow=True)
    assert "reason is required" in r.content.decode()
    acme_tally.refresh_from_db()
    assert acme_tally.status == "draft"
    r = staff_client.post(url, {"amount": "1.00", "reason": "goodwill"}, follow=True)
    acme_tally.refresh_from_db()
    assert acme_tally.status == "approved" and acme_tally.approved_usd == Decimal("1.00")
    html = r.content.decode()
    assert "Mark credited" in html and "goodwill" in html and "boss" in html


def test_staff_reject_and_credit_through_the_page(staff_client, acme_tally, other_tally):
    staff_client.post(reverse("billing:tally_reject", args=[other_tally.pk]), {"reason": "dup account"})
    other_tally.refresh_from_db()
    assert other_tally.status == "rejected"
    staff_client.post(reverse("billing:tally_approve", args=[acme_tally.pk]), {})
    staff_client.post(reverse("billing:tally_credited", args=[acme_tally.pk]), {"reference": "TOPUP-42"})
    acme_tally.refresh_from_db()
    assert acme_tally.status == "credited" and acme_tally.credited_ref == "TOPUP-42"


def test_staff_exclude_a_call_through_the_page(staff_client, acme_tally):
    r = staff_client.post(reverse("billing:tally_call_action", args=[acme_tally.pk]),
                          {"request_id": "same-1", "action": "exclude", "reason": "test traffic"}, follow=True)
    assert r.status_code == 200
    row = TallyCall.objects.get(tally=acme_tally, request_id="same-1")
    assert row.status == "excluded"
    acme_tally.refresh_from_db()
    assert acme_tally.counted_calls == 2
    r = staff_client.post(reverse("billing:tally_call_action", args=[acme_tally.pk]),
                          {"request_id": "nope", "action": "exclude", "reason": "x"}, follow=True)
    assert "No covered call" in r.content.decode()


def test_compute_now_for_one_customer(staff_client):
    c = enrolled("initech")
    spend(c, "1000", when=at(2026, 8, 3))
    failure(c, when=at(2026, 8, 4))
    r = staff_client.post(reverse("billing:tally_compute"), {"month": "2026-08", "customer": "initech"})
    t = Tally.objects.get(customer=c, month=dt.date(2026, 8, 1))
    assert r.status_code == 302 and r.url == reverse("billing:tally", args=[t.pk])
    assert t.counted_calls == 1 and t.credit_usd == Decimal("0.05")
    r = staff_client.post(reverse("billing:tally_compute"), {"month": "August"}, follow=True)
    assert "not a month" in r.content.decode()


def test_compute_now_for_every_enrolled_customer_queues_the_task(staff_client, monkeypatch,
                                                                 django_capture_on_commit_callbacks):
    from billing import tasks

    queued = []
    monkeypatch.setattr(tasks.tally_compute_now, "delay", lambda *a: queued.append(a))
    with django_capture_on_commit_callbacks(execute=True):
        r = staff_client.post(reverse("billing:tally_compute"), {"month": "2026-08", "customer": ""})
    assert r.status_code == 302
    assert len(queued) == 1 and queued[0][:2] == ("2026-08", None)


def test_the_compute_now_task_computes(staff_client):
    from billing.tasks import tally_compute_now, tally_month_end

    c = enrolled("initech")
    ids = tally_compute_now.apply(args=("2026-08",)).get()
    assert Tally.objects.filter(pk__in=ids, customer=c, month=dt.date(2026, 8, 1)).exists()
    assert tally_month_end.apply(args=("2026-09",)).get()


@pytest.mark.parametrize("name,data", [
    ("billing:tally_approve", {}), ("billing:tally_reject", {"reason": "x"}),
    ("billing:tally_credited", {"reference": "x"}),
    ("billing:tally_call_action", {"request_id": "same-1", "action": "exclude", "reason": "x"}),
])
def test_a_customer_user_cannot_act(acme_client, acme_tally, name, data):
    r = acme_client.post(reverse(name, args=[acme_tally.pk]), data)
    assert r.status_code == 403
    acme_tally.refresh_from_db()
    assert acme_tally.status == "draft" and acme_tally.counted_calls == 3


def test_a_customer_user_cannot_compute(acme_client):
    r = acme_client.post(reverse("billing:tally_compute"), {"month": "2026-06", "customer": "acme"})
    assert r.status_code == 403


def test_a_customer_sees_its_own_tallies_read_only(acme_client, acme_tally, other_tally):
    r = acme_client.get(reverse("billing:tallies"))
    assert listed(r) == ["acme"]
    html = r.content.decode()
    assert "globex" not in html and "Compute now" not in html
    r = acme_client.get(reverse("billing:tally", args=[acme_tally.pk]))
    html = r.content.decode()
    assert r.status_code == 200 and "$0.15" in html and "Draft" in html
    assert "Approve" not in html and "Reject" not in html and "call-action" not in html


def test_a_customer_gets_404_for_another_customers_tally(acme_client, other_tally):
    assert acme_client.get(reverse("billing:tally", args=[other_tally.pk])).status_code == 404


def test_anonymous_users_are_sent_to_login(client, acme_tally):
    r = client.get(reverse("billing:tally", args=[acme_tally.pk]))
    assert r.status_code == 302 and "login" in r.url


def test_calls_are_paged_by_key(staff_client):
    c = enrolled("big")
    spend(c, "1000")
    for i in range(60):
        failure(c, when=at(2026, 6, 2, 0, i), request_id=f"k{i:02d}")
    t = tally_compute(customer=c, month=JUNE)
    r = staff_client.get(reverse("billing:tally", args=[t.pk]))
    html = r.content.decode()
    assert "k59" in html and "k09" not in html and "Older" in html
    nxt = r.context["next_url"]
    html2 = staff_client.get(reverse("billing:tally", args=[t.pk]) + nxt).content.decode()
    assert "k09" in html2 and "k59" not in html2
    assert TallyEvent.objects.filter(tally=t).exists()


@pytest.mark.parametrize("month", ["June", "2026-13", "2026-6-1", "20266"])
def test_a_month_that_is_not_yyyy_mm_is_a_clean_error(staff_client, acme_tally, month):
    r = staff_client.get(reverse("billing:tallies"), {"month": month})
    html = r.content.decode()
    assert r.status_code == 400 and "not a month (YYYY-MM)" in html
    assert listed(r) == []


def test_tallies_page_by_key_in_month_then_customer_order(staff_client):
    from tests import keyset_walk

    for k in range(12):
        c = f.customer(f"cust-{k:02d}")
        for m in (4, 5, 6):
            Tally.objects.create(customer=c, month=dt.date(2026, m, 1), due_date=dt.date(2026, m + 1, 7))
    expected = [f"{m:%Y-%m} {slug}" for m, slug in
                Tally.objects.order_by("-month", "customer__slug").values_list("month", "customer__slug")]

    def rows(html):
        cells = r'<a href="/billing/tallies/\d+/">(\d{4}-\d\d)</a></td>\s*<td >([^<]+)</td>'
        return [f"{m} {s}" for m, s in re.findall(cells, html)]

    pages, sql = keyset_walk(staff_client, reverse("billing:tallies") + "?per_page=25", rows,
                             table="billing_tally")
    assert sum(pages, []) == expected and [len(p) for p in pages] == [25, 11]
    assert " OFFSET " not in sql and "COUNT(" not in sql
