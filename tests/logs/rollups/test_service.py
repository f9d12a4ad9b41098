"""Rollups stay exact: an ingest that dies after some chunks, then the same file again;
merges that move a call from one rollup key to another; drifted rollups repaired."""
import datetime as dt
import json
from decimal import Decimal

import pytest

import logs.services.ingest as ingest
from logs.models import Call, Customer, HourlyRollup, IngestBatch, RollupVersion
from logs.selectors.rollups import rollups_differences
from logs.services.ingest import calls_ingest
from logs.services.rollups import RollupDelta, rollups_apply, rollups_repair
from tests import factories
from tests.logs.rollups.helpers import PRO, assert_exact, export, export_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(ingest, "CHUNK", 50)
    monkeypatch.setattr(ingest, "CHUNK_COPY", 50)
    # The Python way's chunks (the SQL path's: tests/logs/test_ingest_gateway_sql.py).
    monkeypatch.setattr(ingest, "GATEWAY_SQL", False)


def _die_at_chunk(monkeypatch, target, name, n):
    """Make target.name raise on its n-th call, as a killed worker stops mid-file."""
    real, seen = getattr(target, name), {"calls": 0}

    def dying(*args, **kw):
        seen["calls"] += 1
        if seen["calls"] == n:
            raise RuntimeError("worker killed")
        return real(*args, **kw)

    monkeypatch.setattr(target, name, dying)


def test_ingest_stopped_between_chunks_then_again(small_chunks, monkeypatch):
    body = export(export_rows(400))
    _die_at_chunk(monkeypatch, ingest._Run, "apply", 4)
    with pytest.raises(RuntimeError):
        calls_ingest(source=body)
    assert Call.objects.count() == 150  # three chunks committed
    assert assert_exact() == 150
    monkeypatch.undo()
    monkeypatch.setattr(ingest, "CHUNK", 50)
    monkeypatch.setattr(ingest, "CHUNK_COPY", 50)
    monkeypatch.setattr(ingest, "GATEWAY_SQL", False)
    again = calls_ingest(source=body)
    assert (again.inserted, again.duplicates) == (250, 150)
    assert assert_exact() == 400


def test_ingest_stopped_inside_a_chunk_keeps_calls_and_rollups_together(small_chunks, monkeypatch):
    """The chunk's calls and its rollups are one transaction: neither outlives the other."""
    _die_at_chunk(monkeypatch, ingest, "rollups_apply", 3)
    with pytest.raises(RuntimeError):
        calls_ingest(source=export(export_rows(300)))
    assert Call.objects.count() == 100
    assert assert_exact() == 100
    assert IngestBatch.objects.get().status == "failed"


def test_overlapping_files_and_merges_stay_exact(small_chunks):
    calls_ingest(source=export(export_rows(200)))
    calls_ingest(source=export(export_rows(200, offset=120)))  # 80 duplicates, 120 new
    # Envelopes fill in a response: delivered calls become blocked ones (another rollup key),
    # and latency and image size arrive (other buckets).
    lines = []
    for j in range(0, 60, 3):
        call = Call.objects.get(request_id=f"r-{j:05d}")
        lines.append(json.dumps({
            "request_id": call.request_id, "created_at": call.created_at.isoformat(), "customer": "acme",
            "model": call.model, "http_status": 200, "latency_ms": 1234 + 1000 * j, "image_size": "2K",
            "response": {"candidates": [{"finishReason": "IMAGE_SAFETY"}]},
        }))
    merged = calls_ingest(source=("\n".join(lines) + "\n").encode())
    assert merged.duplicates == 20 and merged.inserted == 0
    assert Call.objects.filter(request_id="r-00003").values_list("category", flat=True).get() != "success"
    assert assert_exact() == 320


def test_every_rollup_write_bumps_the_version(small_chunks):
    calls_ingest(source=export(export_rows(120)))
    acme = Customer.objects.get(slug="acme")
    v1 = RollupVersion.objects.get(customer=acme).version
    assert v1 >= 3  # one per chunk at least
    calls_ingest(source=export(export_rows(120)))  # duplicates only: no rollup changes
    assert RollupVersion.objects.get(customer=acme).version == v1
    calls_ingest(source=export(export_rows(1, offset=500)))
    assert RollupVersion.objects.get(customer=acme).version == v1 + 1


def test_a_delta_below_zero_recomputes_its_hour():
    """Rollups that had drifted (a row lost) are recomputed where a change would go negative."""
    acme = factories.customer("acme")
    when = dt.datetime(2026, 10, 3, 1, 20, tzinfo=dt.timezone.utc)
    calls = [factories.call(acme, created_at=when + dt.timedelta(minutes=i)) for i in range(3)]
    HourlyRollup.objects.all().delete()
    from django.db import transaction

    with transaction.atomic():
        delta = RollupDelta()
        delta.remove(calls[0])
        calls[0].category, calls[0].images, calls[0].http_status = "rate_limited", 0, 429
        calls[0].charged_usd = Decimal(0)
        calls[0].save()
        delta.add(calls[0])
        rollups_apply(delta=delta)
    assert assert_exact() == 3


def test_repair_recomputes_only_what_differs():
    acme = factories.customer("acme")
    base = dt.datetime(2026, 10, 3, 1, 0, tzinfo=dt.timezone.utc)
    for h in range(5):
        factories.call(acme, created_at=base + dt.timedelta(hours=h, minutes=5))
        factories.call(acme, created_at=base + dt.timedelta(hours=h, minutes=6), model=PRO, token_name="b")
    from logs.services.rollups import rollups_rebuild

    rollups_rebuild(customer_id=acme.pk)
    row = HourlyRollup.objects.filter(customer=acme).order_by("hour", "token_name").first()
    copy = HourlyRollup.objects.get(pk=row.pk)
    copy.pk = None
    copy.save()  # a doubled row, as two refreshes at once used to leave
    HourlyRollup.objects.filter(customer=acme, hour=base + dt.timedelta(hours=4)).delete()
    diffs, totals = rollups_differences(customer_id=acme.pk)
    assert {d.hour for d in diffs} == {base, base + dt.timedelta(hours=4)}
    assert totals == {"rollups": 9, "calls": 10}
    untouched = set(HourlyRollup.objects.filter(hour=base + dt.timedelta(hours=2)).values_list("pk", flat=True))
    rollups_repair(customer_id=acme.pk)
    assert rollups_differences(customer_id=acme.pk)[0] == []
    assert set(HourlyRollup.objects.filter(hour=base + dt.timedelta(hours=2)).values_list("pk", flat=True)) == untouched


def test_rollups_keep_the_channel_and_a_changed_channel_moves_the_call():
    """Each channel has rollup rows of its own; a call whose channel arrives later moves between them."""
    from django.db import transaction
    from django.db.models import Sum

    from logs.services.rollups import rollups_rebuild

    acme = factories.customer("acme")
    when = dt.datetime(2026, 10, 3, 1, 20, tzinfo=dt.timezone.utc)
    for channel in (3, 3, 4, None):
        factories.call(acme, created_at=when, category="overloaded", http_status=503, charged_usd=0,
                       channel_id=channel)
    late = factories.call(acme, created_at=when, category="overloaded", http_status=503, charged_usd=0)
    rollups_rebuild(customer_id=acme.pk)

    def by_channel():
        return dict(HourlyRollup.objects.filter(customer=acme).values_list("channel_id")
                    .annotate(n=Sum("calls")).order_by())

    assert by_channel() == {3: 2, 4: 1, None: 2}
    assert assert_exact() == 5
    with transaction.atomic():  # as an ingest fills in a channel the first record lacked
        delta = RollupDelta()
        delta.remove(late)
        late.channel_id = 4
        late.save()
        delta.add(late)
        rollups_apply(delta=delta)
    assert by_channel() == {3: 2, 4: 2, None: 1}
    assert assert_exact() == 5
    # a rollup row filed under the wrong channel is a difference the check names
    HourlyRollup.objects.filter(customer=acme, channel_id=3).update(channel_id=5)
    diffs, totals = rollups_differences(customer_id=acme.pk)
    assert totals == {"rollups": 5, "calls": 5}
    assert sorted(d.describe().split(" overloaded ")[1].split(", latency")[0] for d in diffs) == [
        "status=503 channel=3: calls 0 in rollups, 2 in calls",
        "status=503 channel=5: calls 2 in rollups, 0 in calls",
    ]
