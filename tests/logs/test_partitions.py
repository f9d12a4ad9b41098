"""Calls across months: one call per (customer, request ID) whatever its time, monthly partitions
on PostgreSQL (made on demand, a default one reported), and retention by whole month."""
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from logs.models import Call, CallKey
from logs.selectors.partitions import partitions_status, storage_warnings
from logs.services.ingest import calls_ingest
from logs.services.partitions import current_month, partition_name, partitions_ensure
from logs.services.retention import retention_plan, retention_run
from logs.timeutil import month_range
from tests import factories

pytestmark = pytest.mark.django_db

UTC8 = dt.timezone(dt.timedelta(hours=8))


def _envelope(request_id: str, at: dt.datetime, **kw) -> bytes:
    env = {"request_id": request_id, "created_at": at.isoformat(), "customer": "acme", "token_name": "batch",
           "model": "gemini-3-pro-image-preview", "route": "gateway", "http_status": 429, "latency_ms": 800,
           "error": {"code": 429, "message": "Resource exhausted", "status": "RESOURCE_EXHAUSTED"},
           "charged_usd": "0", **kw}
    return (json.dumps(env) + "\n").encode()


def _partition_of(call_id: int) -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT tableoid::regclass::text FROM logs_call WHERE id = %s", [call_id])
        return cur.fetchone()[0]


def test_same_request_id_in_two_months_is_one_call(acme):
    may = dt.datetime(2026, 5, 20, 10, 0, tzinfo=UTC8)
    june = dt.datetime(2026, 6, 20, 10, 0, tzinfo=UTC8)
    first = calls_ingest(source=io.BytesIO(_envelope("dup-1", may))).summary()
    second = calls_ingest(source=io.BytesIO(_envelope("dup-1", june))).summary()
    assert first["inserted"] == 1
    assert second["inserted"] == 0
    assert second["duplicates"] + second["conflicts"] == 1
    assert Call.objects.filter(request_id="dup-1").count() == 1
    assert Call.objects.get(request_id="dup-1").created_at == may
    assert CallKey.objects.filter(request_id="dup-1").count() == 1


def test_same_request_id_in_two_months_within_one_file_is_one_call(acme):
    body = (_envelope("dup-2", dt.datetime(2026, 7, 31, 23, 59, tzinfo=UTC8))
            + _envelope("dup-2", dt.datetime(2026, 8, 1, 0, 1, tzinfo=UTC8)))
    s = calls_ingest(source=io.BytesIO(body)).summary()
    assert s["inserted"] == 1
    assert Call.objects.filter(request_id="dup-2").count() == 1


def test_a_stored_call_holds_its_key_against_any_writer(acme):
    factories.call(acme, request_id="k-1", created_at=dt.datetime(2026, 5, 2, tzinfo=UTC8))
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.call(acme, request_id="k-1", created_at=dt.datetime(2026, 9, 2, tzinfo=UTC8))
    assert Call.objects.filter(request_id="k-1").count() == 1


def test_a_call_deleted_takes_its_key(acme):
    call = factories.call(acme, request_id="k-2")
    call.delete()
    assert not CallKey.objects.filter(request_id="k-2").exists()
    factories.call(acme, request_id="k-2")  # the request ID can be stored again


def test_the_logs_filter_by_request_id_finds_the_call(acme, alice, client):
    factories.call(acme, request_id="find-me", created_at=dt.datetime(2026, 6, 1, 3, 0, tzinfo=UTC8))
    factories.call(acme, request_id="not-me")
    client.force_login(alice)
    page = client.get("/logs/", {"request_id": "find-me"}).content.decode()
    assert "find-me" in page and "not-me" not in page


# --- PostgreSQL: the partitions ----------------------------------------------------------------

@pytest.mark.postgres
def test_a_call_lands_in_its_billing_month_partition_made_on_demand(acme):
    # 00:30 on 1 June in UTC+8 is still 31 May in UTC: the billing month decides.
    at = dt.datetime(2026, 6, 1, 0, 30, tzinfo=UTC8)
    calls_ingest(source=io.BytesIO(_envelope("p-1", at)))
    call = Call.objects.get(request_id="p-1")
    assert _partition_of(call.pk) == partition_name(dt.date(2026, 6, 1))


@pytest.mark.postgres
def test_a_call_far_outside_lands_in_the_default_partition_and_is_reported(acme, staff_client, alice, client):
    calls_ingest(source=io.BytesIO(_envelope("clock-error", dt.datetime(2024, 3, 5, tzinfo=UTC8))))
    call = Call.objects.get(request_id="clock-error")
    assert _partition_of(call.pk) == "logs_call_default"
    assert partitions_status()["default_rows"] == 1
    assert any("1 calls are in the default partition" in w for w in storage_warnings(fresh=True))
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("partitions", stdout=out, stderr=err)
    assert exc.value.code == 1
    assert "logs_call_default" in out.getvalue() and "1 calls are in the default partition" in err.getvalue()
    assert "1 calls are in the default partition" in staff_client.get("/logs/").content.decode()
    client.force_login(alice)
    assert "default partition" not in client.get("/logs/").content.decode()  # staff only


@pytest.mark.postgres
def test_a_new_partition_takes_its_month_out_of_the_default_one(acme, settings):
    settings.NBAUDIT_PARTITIONS_AHEAD = 0
    far = current_month().replace(year=current_month().year + 2)
    at = month_range(far)[0] + dt.timedelta(days=3)
    call = factories.call(acme, request_id="early", created_at=at)
    assert _partition_of(call.pk) == "logs_call_default"
    settings.NBAUDIT_PARTITIONS_AHEAD = 30
    assert partition_name(far) in partitions_ensure()
    assert _partition_of(call.pk) == partition_name(far)
    assert partitions_status()["default_rows"] == 0


@pytest.mark.postgres
def test_migrate_made_partitions_for_the_coming_months():
    names = {p["name"] for p in partitions_status()["partitions"]}
    assert partition_name(current_month()) in names
    assert "logs_call_default" in names


# --- retention -------------------------------------------------------------------------------

def _old_month(months_back: int) -> dt.date:
    from logs.services.partitions import add_months

    return add_months(current_month(), -months_back)


def test_retention_keeps_everything_by_default(acme):
    factories.call(acme, request_id="old", created_at=month_range(_old_month(30))[0] + dt.timedelta(hours=1))
    plan = retention_run()
    assert plan["due"] == [] and plan["dropped"] == {}
    assert Call.objects.filter(request_id="old").exists()


def test_retention_drops_a_whole_month_and_keeps_tallies_and_reconciliations(acme, settings):
    from billing.models import Tally, TallyCall

    settings.NBAUDIT_PARTITIONS_FROM = _old_month(10)
    gone, kept = _old_month(3), _old_month(2)
    for month, rid in ((gone, "gone-1"), (gone, "gone-2"), (kept, "kept-1")):
        at = month_range(month)[0] + dt.timedelta(days=1)
        calls_ingest(source=io.BytesIO(_envelope(rid, at)))
    settings.NBAUDIT_RETENTION_MONTHS = 2  # set after the calls came in, as after a year of them
    call = Call.objects.get(request_id="gone-1")
    tally = Tally.objects.create(customer=acme, month=gone, status="credited", eligible=True,
                                 due_date=gone, credit_usd=Decimal("1.00"))
    TallyCall.objects.create(tally=tally, call=call, request_id="gone-1", created_at=call.created_at,
                             model=call.model, category="no_image", price_usd=Decimal("0.05"), status="counted")
    out = io.StringIO()
    call_command("retention", "--dry-run", stdout=out)
    assert f"due to drop: {gone:%Y-%m}" in out.getvalue()
    assert Call.objects.filter(request_id="gone-1").exists()

    call_command("retention", stdout=io.StringIO())
    assert not Call.objects.filter(request_id__startswith="gone").exists()
    assert not CallKey.objects.filter(request_id__startswith="gone").exists()
    assert Call.objects.filter(request_id="kept-1").exists()
    assert TallyCall.objects.filter(tally=tally, request_id="gone-1").exists()
    assert Tally.objects.get(pk=tally.pk).credit_usd == Decimal("1.00")
    if connection.vendor == "postgresql":
        names = {p["name"] for p in partitions_status()["partitions"]}
        assert partition_name(gone) not in names and partition_name(kept) in names


def test_retention_holds_back_a_month_whose_tally_is_not_credited(acme, settings):
    from billing.models import Tally

    settings.NBAUDIT_PARTITIONS_FROM = _old_month(10)
    settings.NBAUDIT_PLAN_START = _old_month(10)
    month = _old_month(3)
    calls_ingest(source=io.BytesIO(_envelope("held-1", month_range(month)[0] + dt.timedelta(days=2))))
    settings.NBAUDIT_RETENTION_MONTHS = 1
    Tally.objects.create(customer=acme, month=month, status="approved", eligible=True, due_date=month)
    plan = retention_run()
    assert plan["due"] == [] and plan["dropped"] == {}
    [(held, reasons)] = plan["held"]
    assert held == month and "the tally of acme is approved, not credited yet" in reasons[0]
    assert Call.objects.filter(request_id="held-1").exists()
    assert any(f"holds back the calls of {month:%Y-%m}" in w for w in storage_warnings(fresh=True))


def test_retention_holds_back_an_enrolled_customers_month_without_a_tally(acme, settings):
    settings.NBAUDIT_PARTITIONS_FROM = _old_month(10)
    settings.NBAUDIT_PLAN_START = _old_month(10)
    month = _old_month(4)
    acme.enrolled_from = _old_month(6)
    acme.save()
    calls_ingest(source=io.BytesIO(_envelope("held-2", month_range(month)[0] + dt.timedelta(days=2))))
    settings.NBAUDIT_RETENTION_MONTHS = 1
    plan = retention_plan()
    assert [m for m, _ in plan["held"]] == [month]
    assert "acme is enrolled and has no tally of the month yet" in plan["held"][0][1][0]


def test_partitions_command_says_what_retention_would_do(acme, settings):
    settings.NBAUDIT_PARTITIONS_FROM = _old_month(10)
    settings.NBAUDIT_PLAN_START = _old_month(10)
    month = _old_month(5)
    calls_ingest(source=io.BytesIO(_envelope("cmd-1", month_range(month)[0] + dt.timedelta(days=2))))
    from billing.models import Tally

    Tally.objects.create(customer=acme, month=month, status="draft", eligible=True, due_date=month)
    settings.NBAUDIT_RETENTION_MONTHS = 2
    out = io.StringIO()
    call_command("partitions", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["partitioned"] == (connection.vendor == "postgresql")
    assert report["retention"]["due"] == []
    assert report["retention"]["held"] == [
        {"month": f"{month:%Y-%m}", "reasons": ["the tally of acme is draft, not credited yet"]}]
    out = io.StringIO()
    call_command("retention", "--dry-run", stdout=out)
    assert f"held back:   {month:%Y-%m} (the tally of acme is draft, not credited yet)" in out.getvalue()
    assert Call.objects.filter(request_id="cmd-1").exists()


def test_without_database_constraints_a_calls_customer_and_batch_still_keep_their_rules(acme):
    """The call table's references have no database constraint (migration 0010); Django applies
    their on_delete: a customer with calls stays, a deleted batch leaves its calls unbatched."""
    from django.db.models import ProtectedError

    from logs.models import IngestBatch

    batch = calls_ingest(source=io.BytesIO(_envelope("r-1", dt.datetime(2026, 10, 5, 10, 0, tzinfo=UTC8))))
    call = Call.objects.get(customer=acme, request_id="r-1")
    assert call.batch_id == batch.pk
    with pytest.raises(ProtectedError):
        acme.delete()
    IngestBatch.objects.filter(pk=batch.pk).delete()
    call.refresh_from_db()
    assert call.batch_id is None and Call.objects.filter(customer=acme).count() == 1
