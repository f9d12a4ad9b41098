"""The plan's rules (billing.md, "The failed-generation reimbursement plan"), one by one."""
import datetime as dt
from decimal import Decimal

import pytest

from billing.choices import TallyCallStatus
from billing.models import Tally, TallyCall
from billing.services.tally import tally_compute, tally_due_date, tally_month_end
from logs.fingerprint import prompt_fingerprint
from logs.models import PriceRow
from tests import factories as f
from tests.billing.tallies.helpers import JUNE, at, enrolled, failure, spend

pytestmark = pytest.mark.django_db


def statuses(tally):
    return dict(TallyCall.objects.filter(tally=tally).values_list("request_id", "status"))


# --- months in UTC+8 ----------------------------------------------------------------------------

def test_month_is_cut_at_midnight_utc8_on_the_last_and_first_days():
    c = enrolled()
    spend(c, "1000")
    failure(c, when=at(2026, 5, 31, 23, 59, 59), request_id="may-last")
    failure(c, when=at(2026, 6, 1, 0, 0, 0), request_id="june-first")
    failure(c, when=at(2026, 6, 30, 23, 59, 59), request_id="june-last")
    failure(c, when=at(2026, 7, 1, 0, 0, 0), request_id="july-first")

    june = tally_compute(customer=c, month=JUNE)
    assert set(statuses(june)) == {"june-first", "june-last"}
    assert june.failed_calls == 2
    may = tally_compute(customer=c, month=dt.date(2026, 5, 1))
    assert set(statuses(may)) == {"may-last"}
    july = tally_compute(customer=c, month=dt.date(2026, 7, 1))
    assert set(statuses(july)) == {"july-first"}


def test_spend_is_cut_at_the_same_boundaries():
    c = enrolled()
    spend(c, "999.99", when=at(2026, 6, 30, 23, 59, 59))
    spend(c, "500", when=at(2026, 7, 1, 0, 0, 0))
    spend(c, "500", when=at(2026, 5, 31, 23, 59, 59))
    t = tally_compute(customer=c, month=JUNE)
    assert t.spend_usd == Decimal("999.99")
    assert t.reason == "spend_below_threshold"


# --- eligibility -------------------------------------------------------------------------------

def test_spend_of_exactly_the_threshold_is_eligible():
    c = enrolled()
    spend(c, "999.95")
    failure(c, charged="0.05")
    t = tally_compute(customer=c, month=JUNE)
    assert t.spend_usd == Decimal("1000.00")
    assert t.eligible and t.reason == ""
    assert t.credit_usd == Decimal("0.05")


def test_one_cent_below_the_threshold_is_not_eligible_and_credits_nothing():
    c = enrolled()
    spend(c, "999.94")
    failure(c, charged="0.05")
    failure(c, charged=None)  # no charge logged: adds nothing to spend
    t = tally_compute(customer=c, month=JUNE)
    assert t.spend_usd == Decimal("999.99")
    assert not t.eligible and t.reason == "spend_below_threshold"
    assert t.credit_usd == Decimal("0.00")
    assert t.counted_calls == 2  # the figures are still shown
    assert t.gross_usd == Decimal("0.10")


def test_a_month_before_may_2026_is_before_the_plan_start():
    c = enrolled(since=dt.date(2026, 1, 1))
    spend(c, "5000", when=at(2026, 4, 15))
    failure(c, when=at(2026, 4, 20))
    t = tally_compute(customer=c, month=dt.date(2026, 4, 1))
    assert not t.eligible and t.reason == "before_plan_start"
    assert t.credit_usd == Decimal("0.00")
    may = tally_compute(customer=c, month=dt.date(2026, 5, 1))
    assert may.reason == "spend_below_threshold"  # May is the first month of the plan


def test_before_plan_start_wins_over_not_enrolled():
    c = f.customer("nobody")
    t = tally_compute(customer=c, month=dt.date(2026, 3, 1))
    assert t.reason == "before_plan_start"


def test_a_customer_enrolled_mid_year_counts_from_the_whole_month_of_its_date():
    c = enrolled(since=dt.date(2026, 7, 15))
    for month_no in (6, 7, 8):
        spend(c, "1000", when=at(2026, month_no, 2))
        failure(c, when=at(2026, month_no, 1, 0, 0, 0))
    june = tally_compute(customer=c, month=JUNE)
    assert june.reason == "not_enrolled" and june.credit_usd == Decimal("0.00")
    july = tally_compute(customer=c, month=dt.date(2026, 7, 1))
    assert july.eligible and july.counted_calls == 1 and july.credit_usd == Decimal("0.05")
    august = tally_compute(customer=c, month=dt.date(2026, 8, 1))
    assert august.eligible

    assert [t.customer.slug for t in tally_month_end(month=JUNE)] == []
    assert [t.customer.slug for t in tally_month_end(month=dt.date(2026, 7, 1))] == ["acme"]


def test_not_enrolled_customer():
    c = f.customer("walkin")
    spend(c, "2000")
    failure(c)
    t = tally_compute(customer=c, month=JUNE)
    assert t.reason == "not_enrolled" and not t.eligible and t.credit_usd == Decimal("0.00")


# --- covered calls ---------------------------------------------------------------------------

def test_only_per_request_pro_failed_generations_that_returned_200_are_covered():
    c = enrolled()
    spend(c, "1000")
    for i, cat in enumerate(["prompt_blocked", "no_charge", "image_blocked", "no_image", "text_refusal",
                             "empty_output"]):
        failure(c, category=cat, request_id=f"covered-{cat}", when=at(2026, 6, 10, 1, i))
    failure(c, category="text_refusal", http_status=None, request_id="covered-export-row")
    # not covered:
    f.call(c, category="no_image", billing_mode="per_token", http_status=200, request_id="per-token",
           created_at=at(2026, 6, 10), route="google-standard")
    f.call(c, model="gemini-3.1-flash-image", category="no_image", billing_mode="per_request",
           request_id="nb2-per-request", created_at=at(2026, 6, 10))
    f.call(c, category="rate_limited", http_status=429, charged_usd="0", request_id="error-429",
           created_at=at(2026, 6, 10))
    f.call(c, category="no_image", http_status=500, request_id="status-500", created_at=at(2026, 6, 10))
    f.call(c, category="success", request_id="delivered", created_at=at(2026, 6, 10))

    t = tally_compute(customer=c, month=JUNE)
    got = set(statuses(t))
    assert got == {f"covered-{c}" for c in ["prompt_blocked", "no_charge", "image_blocked", "no_image",
                                             "text_refusal", "empty_output"]} | {"covered-export-row"}
    assert t.failed_calls == 7 == t.counted_calls
    assert t.gross_usd == Decimal("0.35")
    cats = {b["category"]: b["counted"] for b in t.breakdown}
    assert cats["text_refusal"] == 2 and cats["no_image"] == 1
    assert {b["family"] for b in t.breakdown} == {"pro"}


# --- repeated requests ---------------------------------------------------------------------------

def test_prompts_normalizing_to_one_fingerprint_count_three_times_by_time():
    c = enrolled()
    spend(c, "1000")
    prompts = ["A red  Cat!", "a red cat", "Ａ ＲＥＤ cat.", "a, red\tcat?", "A RED CAT"]
    assert len({prompt_fingerprint(p) for p in prompts}) == 1
    # inserted out of time order: the rule goes by time, not by insertion
    hours = [14, 9, 11, 8, 10]
    for i, (p, h) in enumerate(zip(prompts, hours)):
        failure(c, prompt=p, when=at(2026, 6, 12, h), request_id=f"r{h:02d}")
    failure(c, prompt="a different prompt", when=at(2026, 6, 12, 23), request_id="other")

    t = tally_compute(customer=c, month=JUNE)
    st = statuses(t)
    assert [st[f"r{h:02d}"] for h in (8, 9, 10)] == ["counted"] * 3
    assert [st[f"r{h:02d}"] for h in (11, 14)] == ["repeated"] * 2
    assert st["other"] == "counted"
    assert (t.failed_calls, t.excluded_calls, t.counted_calls) == (6, 2, 4)
    assert t.gross_usd == Decimal("0.20")
    repeated = TallyCall.objects.get(tally=t, request_id="r14")
    from billing.tables.tallies import TallyCallTable

    shown = TallyCallTable([repeated]).rows[0].get_cell("reason")
    assert "repeated request" in shown and "3 covered failures" in shown


def test_same_time_repeats_are_ordered_by_id():
    c = enrolled()
    spend(c, "1000")
    same = at(2026, 6, 12, 9)
    ids = [failure(c, prompt="same thing", when=same).request_id for _ in range(4)]
    st = statuses(tally_compute(customer=c, month=JUNE))
    assert [st[r] for r in ids] == ["counted", "counted", "counted", "repeated"]


def test_calls_without_a_prompt_are_never_excluded_as_repeated():
    c = enrolled()
    spend(c, "1000")
    for i in range(6):
        failure(c, prompt=None, when=at(2026, 6, 3, i))
    failure(c, prompt="  ...  ", when=at(2026, 6, 3, 8))  # normalizes to nothing: no fingerprint
    t = tally_compute(customer=c, month=JUNE)
    assert t.failed_calls == 7 == t.counted_calls
    assert t.excluded_calls == 0


def test_the_repeat_rule_is_per_customer_and_per_month():
    a, b = enrolled("a"), enrolled("b")
    for cust in (a, b):
        spend(cust, "1000")
        spend(cust, "1000", when=at(2026, 7, 2))
        for d in (1, 2, 3):
            failure(cust, prompt="same", when=at(2026, 6, d))
        failure(cust, prompt="same", when=at(2026, 7, 1))
    for cust in (a, b):
        assert tally_compute(customer=cust, month=JUNE).counted_calls == 3
        assert tally_compute(customer=cust, month=dt.date(2026, 7, 1)).counted_calls == 1


# --- prices and the credit ----------------------------------------------------------------------

def test_a_call_with_no_charge_logged_is_priced_from_the_catalog_times_group_ratio():
    c = enrolled()
    spend(c, "1000")
    failure(c, charged=None, group_ratio=Decimal("2"), request_id="nocharge")
    failure(c, charged="0.07", request_id="charged")
    t = tally_compute(customer=c, month=JUNE)
    row = TallyCall.objects.get(tally=t, request_id="nocharge")
    assert row.priced_from_catalog and row.price_usd == Decimal("0.10")  # seed Pro $0.05 x 2
    assert not TallyCall.objects.get(tally=t, request_id="charged").priced_from_catalog
    assert t.spend_usd == Decimal("1000.07")  # the uncharged call adds nothing to spend
    assert t.gross_usd == Decimal("0.17")


def test_a_price_change_mid_month_prices_each_call_at_its_time():
    c = enrolled()
    spend(c, "1000")
    PriceRow.objects.create(family="pro", route="", billing_mode="per_request",
                            per_request_usd=Decimal("0.09"), valid_from=dt.date(2026, 6, 16))
    failure(c, charged=None, when=at(2026, 6, 15, 23, 59, 59), request_id="old-price")
    failure(c, charged=None, when=at(2026, 6, 16, 0, 0, 0), request_id="new-price")
    failure(c, charged=None, when=at(2026, 6, 20), group_ratio=Decimal("1.5"), request_id="new-price-ratio")
    t = tally_compute(customer=c, month=JUNE)
    prices = dict(TallyCall.objects.filter(tally=t).values_list("request_id", "price_usd"))
    assert prices == {"old-price": Decimal("0.05"), "new-price": Decimal("0.09"),
                      "new-price-ratio": Decimal("0.135")}
    assert t.gross_usd == Decimal("0.275000")
    assert t.credit_usd == Decimal("0.28")  # 0.275 rounded half up


def test_the_credit_is_gross_over_the_discount_factor_rounded_half_up():
    c = enrolled(factor="1.15")
    spend(c, "1000")
    failure(c, charged="0.14375")  # / 1.15 = 0.125 exactly: half up -> 0.13 (half-even would say 0.12)
    t = tally_compute(customer=c, month=JUNE)
    assert t.gross_usd == Decimal("0.143750")
    assert t.discount_factor == Decimal("1.15")
    assert t.credit_usd == Decimal("0.13")


def test_with_one_price_the_credit_is_count_times_price_over_factor():
    c = enrolled(factor="1.15")
    spend(c, "1000")
    for i in range(46):
        failure(c, charged="0.05", when=at(2026, 6, 3, 0, i))
    t = tally_compute(customer=c, month=JUNE)
    assert t.counted_calls == 46
    assert t.credit_usd == Decimal("2.00")  # 46 x 0.05 / 1.15


def test_gross_is_exact_at_six_places():
    c = enrolled()
    spend(c, "1000")
    failure(c, charged="0.000001")
    failure(c, charged="0.123456")
    t = tally_compute(customer=c, month=JUNE)
    assert t.gross_usd == Decimal("0.123457")
    assert t.credit_usd == Decimal("0.12")


# --- due date ----------------------------------------------------------------------------------

def test_due_on_the_5th_business_day_of_the_next_month(settings):
    settings.NBAUDIT_HOLIDAYS = []
    assert tally_due_date(month=JUNE) == dt.date(2026, 7, 7)  # Jul 1 is a Wednesday


def test_due_date_when_the_first_falls_on_a_weekend(settings):
    settings.NBAUDIT_HOLIDAYS = []
    # 1 August 2026 is a Saturday: Mon 3 .. Fri 7
    assert tally_due_date(month=dt.date(2026, 7, 1)) == dt.date(2026, 8, 7)
    # 1 November 2026 is a Sunday: Mon 2 .. Fri 6
    assert tally_due_date(month=dt.date(2026, 10, 1)) == dt.date(2026, 11, 6)


def test_due_date_skips_listed_holidays(settings):
    settings.NBAUDIT_HOLIDAYS = []
    assert tally_due_date(month=dt.date(2026, 9, 1)) == dt.date(2026, 10, 7)
    settings.NBAUDIT_HOLIDAYS = [dt.date(2026, 10, 1), dt.date(2026, 10, 2), dt.date(2026, 10, 5),
                                 dt.date(2026, 10, 6), dt.date(2026, 10, 7)]
    assert tally_due_date(month=dt.date(2026, 9, 1)) == dt.date(2026, 10, 14)
    c = enrolled()
    assert tally_compute(customer=c, month=dt.date(2026, 9, 1)).due_date == dt.date(2026, 10, 14)


# --- recomputing --------------------------------------------------------------------------------

def test_recomputing_a_draft_replaces_it():
    c = enrolled()
    spend(c, "1000")
    failure(c)
    first = tally_compute(customer=c, month=JUNE)
    again = tally_compute(customer=c, month=JUNE)
    assert again.pk == first.pk and Tally.objects.count() == 1
    assert TallyCall.objects.filter(tally=again).count() == 1
    failure(c, when=at(2026, 6, 20))
    third = tally_compute(customer=c, month=JUNE)
    assert third.failed_calls == 2 and TallyCall.objects.filter(tally=third).count() == 2
    assert third.credit_usd == Decimal("0.10")


def test_the_factor_is_taken_at_compute_time():
    c = enrolled(factor="1")
    spend(c, "1000")
    failure(c, charged="1.15")
    assert tally_compute(customer=c, month=JUNE).credit_usd == Decimal("1.15")
    c.topup_factor = Decimal("1.15")
    c.save()
    assert tally_compute(customer=c, month=JUNE).credit_usd == Decimal("1.00")


def test_tally_calls_statuses_are_interface_codes():
    c = enrolled()
    spend(c, "1000")
    failure(c)
    t = tally_compute(customer=c, month=JUNE)
    assert set(TallyCall.objects.filter(tally=t).values_list("status", flat=True)) <= set(TallyCallStatus.values)
