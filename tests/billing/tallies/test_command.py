"""`manage.py tally YYYY-MM [--customer SLUG] [--json]`."""
import datetime as dt
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from billing.models import Tally
from logs.choices import FAILED_GENERATION
from logs.models import Call, Customer
from tests import factories as f
from tests.billing.tallies.helpers import at, enrolled, failure, spend

pytestmark = pytest.mark.django_db

KEYS = {"customer", "month", "eligible", "reason", "spend_usd", "failed_calls", "excluded_calls",
        "counted_calls", "gross_usd", "discount_factor", "credit_usd", "status", "due_date"}


def run(*args) -> list:
    out = StringIO()
    call_command("tally", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_json_lists_the_enrolled_customers_with_billing_md_keys(settings):
    settings.NBAUDIT_HOLIDAYS = []
    c = enrolled("acme", factor="1.15")
    spend(c, "1234.565")
    for d in (1, 2, 3, 4):
        failure(c, prompt="same", charged="0.0575", when=at(2026, 6, d))
    f.customer("walkin")  # not enrolled: not listed without --customer
    rows = run("2026-06")
    assert rows == [{
        "customer": "acme", "month": "2026-06", "eligible": True, "reason": None,
        "spend_usd": "1234.80",  # 1234.565 + 4 x 0.0575 = 1234.795, shown to cents half up
        "failed_calls": 4, "excluded_calls": 1, "counted_calls": 3,
        "gross_usd": "0.172500", "discount_factor": "1.15", "credit_usd": "0.15",
        "status": "draft", "due_date": "2026-07-07",
    }]
    assert set(rows[0]) == KEYS


def test_a_named_customer_that_is_not_enrolled_still_gets_its_object():
    c = f.customer("walkin")
    spend(c, "2000")
    failure(c)
    rows = run("2026-06", "--customer", "walkin")
    assert len(rows) == 1
    r = rows[0]
    assert (r["customer"], r["eligible"], r["reason"], r["credit_usd"], r["status"]) == \
        ("walkin", False, "not_enrolled", "0.00", "draft")
    assert r["discount_factor"] == "1" and r["failed_calls"] == 1


def test_unknown_customer_is_a_clear_error_with_a_nonzero_exit():
    with pytest.raises(CommandError, match="No customer with the slug 'ghost'"):
        call_command("tally", "2026-06", "--customer", "ghost")
    assert not Tally.objects.exists()


def test_bad_month_is_a_clear_error():
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("tally", "June")


def test_without_json_prints_a_table():
    enrolled("acme")
    out = StringIO()
    call_command("tally", "2026-06", stdout=out)
    text = out.getvalue()
    assert "acme" in text and "spend_below_threshold" in text


def test_a_frozen_tally_prints_as_approved_and_unchanged():
    from billing.services.tally import tally_approve, tally_compute

    c = enrolled("acme")
    spend(c, "1000")
    failure(c)
    tally_approve(tally=tally_compute(customer=c, month=dt.date(2026, 6, 1)), by=f.user("boss", staff=True))
    failure(c, when=at(2026, 6, 20))
    rows = run("2026-06")
    assert rows[0]["status"] == "approved" and rows[0]["failed_calls"] == 1


def test_through_real_ingest_of_the_fixture(fixtures_dir):
    """The shared fixture ingested for real: the tally covers exactly the per-request Pro failures."""
    from logs.services.ingest import calls_ingest

    calls_ingest(source=fixtures_dir / "calls.ndjson")
    c = Customer.objects.get(slug="acme")
    c.enrolled_from = dt.date(2026, 5, 1)
    c.save()
    rows = run("2026-10", "--customer", "acme")
    month = Call.objects.filter(customer=c, created_at__gte=at(2026, 10, 1, 0), created_at__lt=at(2026, 11, 1, 0))
    covered = [x for x in month if x.family == "pro" and x.billing_mode == "per_request"
               and x.category in FAILED_GENERATION and (x.http_status is None or 200 <= x.http_status < 300)]
    assert covered, "the fixture has covered failures"
    assert rows[0]["failed_calls"] == len(covered)
    assert Decimal(rows[0]["spend_usd"]) == sum((x.charged_usd or 0 for x in month), Decimal(0)).quantize(Decimal("0.01"))
    assert rows[0]["reason"] == "spend_below_threshold" and rows[0]["credit_usd"] == "0.00"
