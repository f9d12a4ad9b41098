"""amount_mismatch against the local log's own amount (billing.md): the charge is compared with
the expected charge and with `charged_usd` where the local row has one; the report shows all three
amounts; the money over and under stays measured against the expected charge."""
from decimal import Decimal

import pytest

from tests.billing.reconciliation.test_rules import local_line, pro_call, run

pytestmark = pytest.mark.django_db


def with_amount(rid, amount, **kw):
    return local_line(rid, **kw) + amount


def test_rows_logged_at_five_cents_against_a_ten_cent_charge_are_amount_mismatch(acme):
    # the platform charged 0.10 and the catalog agrees (group ratio 2); the customer logged 0.05
    for rid in ("a", "b", "c"):
        pro_call(acme, rid, charged_usd=Decimal("0.10"), expected_usd=Decimal("0.10"), group_ratio=Decimal(2))
    recon = run(acme, [with_amount(rid, "0.05") for rid in ("a", "b", "c")])
    assert recon.categories["amount_mismatch"] == 3
    assert recon.categories["match"] == 0
    item = recon.items.get(request_id="a")
    assert (item.charged_usd, item.expected_usd, item.local_charged_usd) == (
        Decimal("0.100000"), Decimal("0.100000"), Decimal("0.050000"))
    # shown, not summed: the charge is what the catalog expects
    assert recon.overcharged_usd == Decimal("0") and recon.undercharged_usd == Decimal("0")


@pytest.mark.parametrize("local,category", [
    ("0.05", "match"),
    ("0.0505", "match"),          # the charge 0.05 is within 1% of 0.0505
    ("0.049505", "match"),        # 0.000495 off, 1% of it is 0.00049505
    ("0.0495", "amount_mismatch"),  # 0.0005 off, above 1% of 0.0495
    ("0.049", "amount_mismatch"),  # 0.001 off: above 1% of 0.049
    ("0.051", "amount_mismatch"),
    ("$0.050000", "match"),
])
def test_local_amount_tolerance_is_one_percent_of_that_amount(acme, local, category):
    pro_call(acme, "r1")
    recon = run(acme, [with_amount("r1", local)])
    assert recon.items.get(request_id="r1").category == category


def test_local_tolerance_is_at_least_a_hundredth_of_a_cent(acme):
    pro_call(acme, "near", charged_usd=Decimal("0.0001"), expected_usd=Decimal("0.0001"))
    pro_call(acme, "far", charged_usd=Decimal("0.000201"), expected_usd=Decimal("0.000201"))
    recon = run(acme, [with_amount("near", "0"), with_amount("far", "0")])
    assert recon.items.get(request_id="near").category == "match"
    assert recon.items.get(request_id="far").category == "amount_mismatch"


def test_a_local_row_without_an_amount_is_compared_with_the_expected_charge_only(acme):
    pro_call(acme, "r1", charged_usd=Decimal("0.05"))
    recon = run(acme, [local_line("r1")])
    item = recon.items.get(request_id="r1")
    assert item.category == "match" and item.local_charged_usd is None


def test_both_differences_sum_over_against_the_expected_charge(acme):
    pro_call(acme, "r1", charged_usd=Decimal("0.08"))  # expected 0.05
    recon = run(acme, [with_amount("r1", "0.06")])
    item = recon.items.get(request_id="r1")
    assert item.category == "amount_mismatch"
    assert item.over_usd == Decimal("0.030000") and recon.overcharged_usd == Decimal("0.030000")
    assert recon.money["amount_mismatch"]["local"] == "0.060000"
