"""The month-to-date credit estimate says what the tally would say, from rollups and covered calls."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.services.estimate import credit_estimate, customers_ranked
from billing.services.tally import tally_call_exclude, tally_compute
from logs.models import Call
from logs.services.rollups import rollups_rebuild
from tests import factories as f
from tests.billing.tallies.helpers import JUNE, at, enrolled, failure, spend

pytestmark = pytest.mark.django_db
END_OF_JUNE = at(2026, 6, 30, 23, 0)


def _month(customer, *, repeats=5, no_charge=1):
    spend(customer, "1000")
    for i in range(repeats):  # the same prompt: 3 count, the rest are repeated
        failure(customer, when=at(2026, 6, 11, 10, i), prompt="a cat on the moon")
    failure(customer, when=at(2026, 6, 12), category="image_blocked", charged="0.09")
    for i in range(no_charge):  # no charge logged: the catalog's per-request price
        failure(customer, when=at(2026, 6, 13, 9, i), charged=None)
    failure(customer, when=at(2026, 6, 14), http_status=429, category="rate_limited")  # not covered
    rollups_rebuild()


def test_estimate_equals_the_tally_of_the_same_month():
    acme = enrolled("acme", factor="1.15")
    _month(acme)
    est = credit_estimate(customer=acme, month=JUNE, now=END_OF_JUNE)
    tally = tally_compute(customer=acme, month=JUNE)
    assert est.eligible and tally.eligible
    assert est.covered_calls == tally.failed_calls == 7
    assert est.counted_calls == tally.counted_calls == 5
    assert est.gross_usd == tally.gross_usd
    assert est.credit_usd == tally.credit_usd
    assert est.spend_usd == tally.spend_usd
    assert est.in_progress


def test_estimate_follows_staff_exclusions_and_new_calls():
    acme = enrolled("acme")
    _month(acme, repeats=1)
    tally = tally_compute(customer=acme, month=JUNE)
    one = Call.objects.filter(customer=acme, category="image_blocked").get()
    tally = tally_call_exclude(tally=tally, call=one, by=f.user("boss", staff=True), reason="test")
    est = credit_estimate(customer=acme, month=JUNE, now=END_OF_JUNE)
    assert (est.counted_calls, est.credit_usd) == (tally.counted_calls, tally.credit_usd)
    # A new covered failure (ingest bumps the rollup version) shows at once despite the cache.
    failure(acme, when=at(2026, 6, 20), charged="0.05")
    rollups_rebuild(customer_id=acme.pk)
    later = credit_estimate(customer=acme, month=JUNE, now=END_OF_JUNE)
    assert later.counted_calls == est.counted_calls + 1
    assert later.credit_usd == est.credit_usd + Decimal("0.05")


def test_ineligible_estimate_says_why_and_credits_nothing():
    small = enrolled("small")
    failure(small, when=at(2026, 6, 3))
    rollups_rebuild()
    est = credit_estimate(customer=small, month=JUNE, now=END_OF_JUNE)
    assert est.reason == "spend_below_threshold" and not est.eligible
    assert est.covered_calls == 1 and est.credit_usd == Decimal("0.00")
    stranger = f.customer("stranger")
    spend(stranger, "2000")
    rollups_rebuild()
    assert credit_estimate(customer=stranger, month=JUNE, now=END_OF_JUNE).reason == "not_enrolled"


def test_estimate_reads_no_call_when_rollups_show_no_candidate_and_caches():
    acme = enrolled("acme")
    spend(acme, "1500")
    rollups_rebuild()
    cache.clear()
    with CaptureQueriesContext(connection) as first:
        est = credit_estimate(customer=acme, month=JUNE, now=END_OF_JUNE)
    assert est.spend_usd == Decimal("1500.000000") and est.covered_calls == 0
    assert not any('"logs_call"' in q["sql"] for q in first.captured_queries)
    failure(acme, when=at(2026, 6, 9))
    rollups_rebuild()
    credit_estimate(customer=acme, month=JUNE, now=END_OF_JUNE)
    with CaptureQueriesContext(connection) as again:
        est = credit_estimate(customer=acme, month=JUNE, now=END_OF_JUNE)
    assert est.covered_calls == 1
    assert not any('"logs_call"' in q["sql"] for q in again.captured_queries)


def test_customers_ranked_by_failures_then_spend():
    a, b = enrolled("acme"), enrolled("globex")
    _month(a, repeats=1, no_charge=0)
    spend(b, "3000")
    for i in range(4):
        failure(b, when=at(2026, 6, 15, 8, i))
    rollups_rebuild()
    rows = customers_ranked(month=JUNE, now=END_OF_JUNE)
    assert [r.customer.slug for r in rows] == ["globex", "acme"]
    assert rows[0].failed == 4 and rows[0].estimate.counted_calls == 4
    assert rows[1].failed == 3  # 2 covered + one 429
    assert rows[0].spend_usd == Decimal("3000.200000")
    assert dt.date(2026, 6, 1) == rows[0].estimate.month


def test_estimate_counts_a_repeat_staff_re_included():
    from billing.models import TallyCall
    from billing.services.tally import tally_call_include

    acme = enrolled("acme")
    _month(acme)
    tally = tally_compute(customer=acme, month=JUNE)
    repeat = TallyCall.objects.filter(tally=tally, status="repeated").first()
    tally = tally_call_include(tally=tally, call=repeat.call_id, by=f.user("boss", staff=True), reason="not a repeat")
    est = credit_estimate(customer=acme, month=JUNE, now=END_OF_JUNE)
    assert (est.counted_calls, est.gross_usd, est.credit_usd) == (tally.counted_calls, tally.gross_usd, tally.credit_usd)
    assert est.counted_calls == 6


def test_ranking_is_cached_until_a_customers_calls_change():
    a, b = enrolled("acme"), enrolled("globex")
    for c in (a, b):
        spend(c, "1200")
        failure(c, when=at(2026, 6, 15))
    rollups_rebuild()
    first = customers_ranked(month=JUNE, now=END_OF_JUNE)
    with CaptureQueriesContext(connection) as hit:
        again = customers_ranked(month=JUNE, now=END_OF_JUNE)
    assert [(r.customer.slug, r.failed) for r in again] == [(r.customer.slug, r.failed) for r in first]
    assert len(hit.captured_queries) <= 3
    failure(b, when=at(2026, 6, 16))
    rollups_rebuild(customer_id=b.pk)
    later = customers_ranked(month=JUNE, now=END_OF_JUNE)
    assert [(r.customer.slug, r.failed, r.estimate.counted_calls) for r in later] == [("globex", 2, 2), ("acme", 1, 1)]
