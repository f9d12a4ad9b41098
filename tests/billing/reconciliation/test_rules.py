"""Reconciliation rules (billing.md): every category, the tolerance, duplicates, the period, money."""
import datetime as dt
from decimal import Decimal

import pytest

from billing.models import Reconciliation
from billing.services.reconciliation import ReconciliationRefused, reconciliation_run
from logs.choices import Category
from logs.models import IngestConflict
from tests import factories

pytestmark = pytest.mark.django_db

UTC8 = dt.timezone(dt.timedelta(hours=8))
NOON = dt.datetime(2026, 10, 10, 12, 0, tzinfo=UTC8)
HEADER = ("request_id,created_at,model,http_status,finish_reason,block_reason,finish_message,"
          "prompt_tokens,output_tokens,total_tokens,images,charged_usd")
PRO = "gemini-3-pro-image-preview"
NB2 = "gemini-3.1-flash-image"
FREE_MSG = "Unable to show the generated image. You will not be charged for this request."


def local_line(rid, *, at="2026-10-10 12:00:00", model=PRO, status=200, finish="STOP", block="", message="",
               out=1120, images=1):
    return f"{rid},{at},{model},{status},{finish},{block},{message},20,{out},{out + 20},{images},"


LOCAL_SUCCESS = {}
LOCAL_REFUSAL = {"out": 173, "images": 0}
LOCAL_429 = {"status": 429, "finish": "", "out": 0, "images": 0}
LOCAL_FREE = {"model": NB2, "finish": "IMAGE_OTHER", "message": FREE_MSG, "out": 0, "images": 0}
LOCAL_BLOCKED = {"model": NB2, "finish": "", "block": "PROHIBITED_CONTENT", "out": 0, "images": 0}
LOCAL_IMAGE_SAFETY = {"model": NB2, "finish": "IMAGE_SAFETY", "out": 0, "images": 0}


def csv_bytes(lines) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode()


def run(customer, lines, **kw):
    return reconciliation_run(customer=customer, source=csv_bytes(lines), **kw)


def pro_call(customer, rid, **kw):
    kw.setdefault("created_at", NOON)
    return factories.call(customer, request_id=rid, **kw)


def nb2_call(customer, rid, *, category=Category.SUCCESS, charged="0.0003", expected="0.0003", **kw):
    kw.setdefault("created_at", NOON)
    return factories.call(customer, request_id=rid, model=NB2, category=category, charged_usd=Decimal(charged),
                          billing_mode="per_token", expected_usd=Decimal(expected), route="", **kw)


def category_of(recon, rid):
    return recon.items.get(request_id=rid).category


# --- every category -----------------------------------------------------------------------------

CASES = [
    # (name, platform call kwargs or None, local row kwargs or None, expected category)
    ("match", dict(), LOCAL_SUCCESS, "match"),
    ("missing_locally", dict(), None, "missing_locally"),
    ("missing_on_platform", None, LOCAL_SUCCESS, "missing_on_platform"),
    ("charged_for_error", dict(category=Category.RATE_LIMITED, http_status=429, expected_usd=Decimal("0")),
     LOCAL_429, "charged_for_error"),
    ("error_not_charged", dict(category=Category.RATE_LIMITED, http_status=429, charged_usd=Decimal("0"),
                               expected_usd=Decimal("0")), LOCAL_429, "match"),
    ("status_mismatch", dict(category=Category.TEXT_REFUSAL), LOCAL_SUCCESS, "status_mismatch"),
    ("status_mismatch_other_way", dict(), LOCAL_REFUSAL, "status_mismatch"),
    ("amount_mismatch", dict(charged_usd=Decimal("0.06")), LOCAL_SUCCESS, "amount_mismatch"),
    ("amount_mismatch_undercharged", dict(charged_usd=Decimal("0.04")), LOCAL_SUCCESS, "amount_mismatch"),
    ("reimbursable_failure", dict(category=Category.TEXT_REFUSAL), LOCAL_REFUSAL, "reimbursable_failure"),
    ("reimbursable_even_if_local_errored", dict(category=Category.EMPTY_OUTPUT), LOCAL_429, "reimbursable_failure"),
]


@pytest.mark.parametrize("name,platform,local,expected", CASES, ids=[c[0] for c in CASES])
def test_every_category(acme, name, platform, local, expected):
    # an anchor request on both sides keeps the log in the period whatever the case
    pro_call(acme, "anchor", created_at=NOON - dt.timedelta(hours=4))
    lines = [local_line("anchor", at="2026-10-10 08:00:00")]
    if platform is not None:
        pro_call(acme, "r1", **platform)
    if local is not None:
        lines.append(local_line("r1", **local))
    recon = run(acme, lines)
    assert category_of(recon, "r1") == expected
    assert recon.categories[expected] == (2 if expected == "match" else 1)
    assert sum(recon.categories.values()) == 2


def test_duplicate_charge(acme):
    call = pro_call(acme, "r1")
    IngestConflict.objects.create(customer=acme, request_id="r1", created_at=NOON + dt.timedelta(seconds=30),
                                  charged_usd=Decimal("0.05"), category="success", record={})
    recon = run(acme, [local_line("r1")])
    item = recon.items.get(request_id="r1")
    assert item.category == "duplicate_charge" and item.charges == 2 and item.call_id == call.pk
    assert item.charged_usd == Decimal("0.100000") and item.over_usd == Decimal("0.050000")
    assert recon.overcharged_usd == Decimal("0.050000")
    assert recon.platform_rows == 2 and recon.local_rows == 1


def test_charged_three_times_counts_every_charge_after_the_first(acme):
    pro_call(acme, "r1", charged_usd=Decimal("0.06"))  # the first is itself 0.01 above expected
    for seconds in (10, 20):
        IngestConflict.objects.create(customer=acme, request_id="r1", created_at=NOON + dt.timedelta(seconds=seconds),
                                      charged_usd=Decimal("0.05"), category="success", record={})
    recon = run(acme, [local_line("r1")])
    item = recon.items.get(request_id="r1")
    assert item.category == "duplicate_charge" and item.charges == 3
    assert recon.overcharged_usd == Decimal("0.110000")


def test_charged_but_free_when_google_marked_it_free_on_either_side(acme):
    nb2_call(acme, "free-both", category=Category.NO_CHARGE, expected="0")
    nb2_call(acme, "free-local-only", category=Category.EMPTY_OUTPUT, expected="0.00001")
    nb2_call(acme, "blocked-local", category=Category.EMPTY_OUTPUT, expected="0.00001")
    nb2_call(acme, "free-not-charged", category=Category.NO_CHARGE, charged="0", expected="0")
    recon = run(acme, [local_line("free-both", **LOCAL_FREE), local_line("free-local-only", **LOCAL_FREE),
                       local_line("blocked-local", **LOCAL_BLOCKED), local_line("free-not-charged", **LOCAL_FREE)])
    assert category_of(recon, "free-both") == "charged_but_free"
    assert category_of(recon, "free-local-only") == "charged_but_free"
    assert category_of(recon, "blocked-local") == "charged_but_free"
    assert category_of(recon, "free-not-charged") == "match"
    # the whole charge is above the expected 0
    assert recon.overcharged_usd == Decimal("0.000900")
    assert recon.items.get(request_id="free-local-only").expected_usd == Decimal("0")


def test_per_token_failure_is_not_reimbursable(acme):
    nb2_call(acme, "r1", category=Category.IMAGE_BLOCKED, charged="0.00001", expected="0.00001")
    recon = run(acme, [local_line("r1", **LOCAL_IMAGE_SAFETY)])
    assert category_of(recon, "r1") == "match"


def test_error_charged_per_token_is_charged_for_error_not_free(acme):
    nb2_call(acme, "r1", category=Category.OVERLOADED, http_status=503, charged="0.0003", expected="0")
    recon = run(acme, [local_line("r1", model=NB2, status=503, finish="", out=0, images=0)])
    assert category_of(recon, "r1") == "charged_for_error"
    assert recon.overcharged_usd == Decimal("0.000300")


# --- the tolerance: max($0.0001, 1% of the expected charge) ---------------------------------------

@pytest.mark.parametrize("charged,expected_category", [
    ("0.0505", "match"),            # exactly 1% above
    ("0.050501", "amount_mismatch"),  # just above
    ("0.0495", "match"),            # exactly 1% below
    ("0.049499", "amount_mismatch"),
])
def test_tolerance_is_one_percent(acme, charged, expected_category):
    pro_call(acme, "r1", charged_usd=Decimal(charged))
    recon = run(acme, [local_line("r1")])
    assert category_of(recon, "r1") == expected_category


@pytest.mark.parametrize("charged,expected_category", [
    ("0.0011", "match"),             # $0.0001 above an expected $0.001 (1% would be $0.00001)
    ("0.001101", "amount_mismatch"),
])
def test_tolerance_is_at_least_a_hundredth_of_a_cent(acme, charged, expected_category):
    nb2_call(acme, "r1", charged=charged, expected="0.001")
    recon = run(acme, [local_line("r1", model=NB2)])
    assert category_of(recon, "r1") == expected_category


def test_under_charged_within_tolerance_still_counts(acme):
    pro_call(acme, "r1", charged_usd=Decimal("0.0495"))
    pro_call(acme, "r2", charged_usd=Decimal("0.04"))
    pro_call(acme, "r3", charged_usd=Decimal("0.06"))
    recon = run(acme, [local_line("r1"), local_line("r2"), local_line("r3")])
    assert recon.undercharged_usd == Decimal("0.010500")
    assert recon.overcharged_usd == Decimal("0.010000")


def test_money_sums_are_exact_at_six_places(acme):
    for i in range(30):
        pro_call(acme, f"r{i}", charged_usd=Decimal("0.050001") + Decimal("0.01"))
    recon = run(acme, [local_line(f"r{i}") for i in range(30)])
    assert recon.overcharged_usd == Decimal("0.300030")
    assert recon.money["amount_mismatch"]["over"] == "0.300030"


def test_unmatched_charged_sums_the_charges_missing_locally(acme):
    pro_call(acme, "here")
    pro_call(acme, "gone-1", charged_usd=Decimal("0.05"))
    pro_call(acme, "gone-2", category=Category.RATE_LIMITED, http_status=429, charged_usd=Decimal("0.000001"))
    recon = run(acme, [local_line("here")])
    assert recon.unmatched_charged_usd == Decimal("0.050001")
    assert recon.categories["missing_locally"] == 2
    assert recon.overcharged_usd == Decimal("0")


def test_expected_charge_comes_from_the_catalog_when_ingest_left_none(acme):
    pro_call(acme, "r1", charged_usd=Decimal("0.07"), expected_usd=None, billing_mode="")
    pro_call(acme, "r2", charged_usd=Decimal("0.05"), expected_usd=None, billing_mode="")
    recon = run(acme, [local_line("r1"), local_line("r2")])
    assert category_of(recon, "r1") == "amount_mismatch"
    assert recon.items.get(request_id="r1").expected_usd == Decimal("0.05")
    assert category_of(recon, "r2") == "match"


def test_other_customers_calls_are_not_the_platform_side(acme):
    globex = factories.customer("globex")
    pro_call(globex, "r1")
    pro_call(globex, "r2")
    recon = run(acme, [local_line("r1")])
    assert category_of(recon, "r1") == "missing_on_platform"
    assert recon.platform_rows == 0 and not recon.items.filter(request_id="r2").exists()


def test_a_request_id_logged_twice_locally_is_one_request(acme):
    pro_call(acme, "r1")
    recon = run(acme, [local_line("r1"), local_line("r1", at="2026-10-10 12:00:05")])
    assert recon.items.filter(request_id="r1").count() == 1
    assert category_of(recon, "r1") == "match"
    assert recon.items.get(request_id="r1").local_line == 2


# --- the period: whole days in UTC+8 ----------------------------------------------------------------

def test_period_boundary_in_utc8(acme):
    last_second = dt.datetime(2026, 10, 10, 23, 59, 59, tzinfo=UTC8)
    next_day = dt.datetime(2026, 10, 11, 0, 0, 0, tzinfo=UTC8)
    pro_call(acme, "in", created_at=last_second)
    pro_call(acme, "out", created_at=next_day)
    recon = run(acme, [local_line("in", at="2026-10-10 23:59:59"), local_line("out", at="2026-10-11 00:00:00"),
                       local_line("utc-in", at="2026-10-10T15:59:59Z"),
                       local_line("utc-out", at="2026-10-10T16:00:00+00:00")],
                date_from=dt.date(2026, 10, 10), date_to=dt.date(2026, 10, 10))
    assert category_of(recon, "in") == "match"
    assert not recon.items.filter(request_id__in=["out", "utc-out"]).exists()
    assert category_of(recon, "utc-in") == "missing_on_platform"
    assert recon.outside_period == 2 and recon.local_rows == 2 and recon.platform_rows == 1


def test_period_defaults_to_the_days_of_the_first_and_last_local_rows(acme):
    pro_call(acme, "a", created_at=dt.datetime(2026, 10, 9, 0, 0, tzinfo=UTC8))
    pro_call(acme, "before", created_at=dt.datetime(2026, 10, 8, 23, 59, 59, tzinfo=UTC8))
    pro_call(acme, "after", created_at=dt.datetime(2026, 10, 12, 0, 0, tzinfo=UTC8))
    pro_call(acme, "late", created_at=dt.datetime(2026, 10, 11, 23, 0, tzinfo=UTC8))
    recon = run(acme, [local_line("b", at="2026-10-11 08:00:00"), local_line("a", at="2026-10-09 00:00:00")])
    assert (recon.date_from, recon.date_to) == (dt.date(2026, 10, 9), dt.date(2026, 10, 11))
    assert category_of(recon, "late") == "missing_locally"
    assert not recon.items.filter(request_id__in=["before", "after"]).exists()


def test_conflict_counts_in_its_own_time(acme):
    pro_call(acme, "r1", created_at=dt.datetime(2026, 10, 10, 23, 59, 50, tzinfo=UTC8))
    IngestConflict.objects.create(customer=acme, request_id="r1",
                                  created_at=dt.datetime(2026, 10, 11, 0, 0, 5, tzinfo=UTC8),
                                  charged_usd=Decimal("0.05"), category="success", record={})
    day10 = run(acme, [local_line("r1", at="2026-10-10 23:59:50")])
    assert category_of(day10, "r1") == "match" and day10.platform_rows == 1
    day11 = run(acme, [local_line("x", at="2026-10-11 00:00:00")])
    # the second charge alone, on a day the call itself is not in: still a charge the log lacks
    assert category_of(day11, "r1") == "missing_locally"
    assert day11.unmatched_charged_usd == Decimal("0.05") and day11.platform_rows == 1


def test_a_log_with_no_row_in_the_period_is_refused(acme):
    pro_call(acme, "r1")
    with pytest.raises(ReconciliationRefused, match="no row in the period 2026-11-01 to 2026-11-02"):
        run(acme, [local_line("r1")], date_from=dt.date(2026, 11, 1), date_to=dt.date(2026, 11, 2))
    recon = Reconciliation.objects.get()
    assert recon.status == "failed" and "no row in the period" in recon.error
    assert not recon.items.exists()


def test_a_log_of_bad_rows_only_is_refused(acme):
    with pytest.raises(ReconciliationRefused, match="no valid row"):
        run(acme, ["r1,yesterday,,,,,,,,,,"])
    assert Reconciliation.objects.get().rejected == [{"line": 2, "reason": "created_at 'yesterday' is neither ISO 8601, YYYY-MM-DD HH:MM:SS nor Unix seconds"}]


def test_a_file_that_is_not_a_local_log_is_refused(acme):
    with pytest.raises(ReconciliationRefused, match="request_id"):
        reconciliation_run(customer=acme, source=b"Time,Model,Cost\n2026-10-10 12:00:00,x,0.05\n")


def test_matches_above_the_listing_limit_are_counted_not_listed(acme, settings):
    settings.NBAUDIT_RECON_MATCHES_LISTED_MAX = 1
    for rid in ("m1", "m2"):
        pro_call(acme, rid)
    pro_call(acme, "over", charged_usd=Decimal("0.06"))
    recon = run(acme, [local_line("m1"), local_line("m2"), local_line("over")])
    assert recon.categories["match"] == 2 and recon.categories["amount_mismatch"] == 1
    assert not recon.matches_listed
    assert list(recon.items.values_list("request_id", flat=True)) == ["over"]


def test_odd_request_ids_survive_the_staging_table(acme):
    odd = ['tab\tinside', 'back\\slash', '引号"quote', "comma,id", "x" * 200]
    for rid in odd:
        pro_call(acme, rid)
    lines = []
    for rid in odd:
        quoted = '"' + rid.replace('"', '""') + '"'
        lines.append(local_line(quoted))
    recon = run(acme, lines)
    assert recon.categories["match"] == len(odd)
    assert set(recon.items.values_list("request_id", flat=True)) == set(odd)
