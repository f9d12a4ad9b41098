"""The fast ingest paths give the same stored calls as the plain ones.

On PostgreSQL new calls are written with COPY (logs.services.calls_copy.calls_copy) and
existing ones are looked up with raw SQL; elsewhere bulk_create and the ORM. These tests
ingest the same mixed inputs both ways and compare everything a user would see: the
summary, every stored call, every conflict kept, the rollups.
"""
import json
from decimal import Decimal

import pytest

import logs.services.ingest as ingest
from logs.models import Call, Customer, HourlyRollup, IngestBatch, IngestConflict
from logs.parsers import Record, iter_gateway_csv
from logs.services.ingest import calls_ingest
from logs.timeutil import billing_tz

pytestmark = pytest.mark.django_db

HEADER = "时间,请求ID,用户,令牌,分组,类型,模型,用时,提示,补全,花费,详情\n"
PRO, NB2 = "gemini-3-pro-image-preview", "gemini-3.1-flash-image-preview"


def _mixed_export() -> bytes:
    rows = [
        f"2026-10-03 09:15:02,m-01,acme,prod-web,default,消费,{PRO},42,1310,1120,$0.050000,模型价格 0.05，分组倍率 1",
        f"2026-10-03 09:16:40,m-02,acme,prod-web,default,消费,{PRO},42,25,173,$0.050000,模型价格 0.05，分组倍率 1",
        f"2026-10-03 09:17:11,m-03,acme,batch,default,消费,{NB2},12,12,1392,$0.067482,模型倍率 0.25，补全倍率 240，分组倍率 1",
        f"2026-10-03 09:18:00,m-04,globex,prod-web,vip,消费,{PRO},31,31,,$0.060000,模型价格 0.05，分组倍率 1.2",
        f'2026-10-03 09:19:00,m-05,acme,prod-web,default,错误,{PRO},42,0,0,$0.000000,"status_code=429, RESOURCE_EXHAUSTED: quota ""x"""',
        f'2026-10-03 09:20:00,m-06,acme,prod-web,default,错误,{PRO},42,0,0,$0.000000,"line one\ttab \\ back\nstatus_code=503, overloaded"',
        "2026-10-03 09:21:00,,acme,prod-web,default,充值,,0,,,$20.000000,通过兑换码充值 $20",
        f"2026-10-03 09:15:02,m-01,acme,prod-web,default,消费,{PRO},42,1310,1120,＄0.05,模型价格 0.05，分组倍率 1",  # duplicate
        f"2026-10-03 09:16:40,m-02,acme,prod-web,default,消费,{PRO},42,25,173,$0.060000,模型价格 0.05，分组倍率 1",  # conflict
        f"2026-13-45 25:00:00,m-07,acme,prod-web,default,消费,{PRO},42,10,1120,$0.050000,x",  # rejected: time
        f"2026-10-03 09:22:00,m-08,acme,prod-web,default,消费,{PRO},42,10,abc,$0.050000,x",  # rejected: tokens
        f'2026-10-03 09:23:00,m-09,acme,prod-web,default,消费,{PRO},42,10,1120,0.05,"broken',  # rejected: quote
        f"2026-10-03 09:24:00,,acme,web,default,消费,{PRO},42,10,1120,$0.050000,模型价格 0.05，分组倍率 1",  # no ID
        "2026-10-03 09:25:00,m-10,acme,prod-web,default,消费,gpt-4o-mini,3,10,20,$0.000100,",  # non-image
        f"2026-10-04 23:59:59,m-11,globex,prod-web,vip,消费,{NB2},20,30,2600,$0.190000,分组倍率 1.2",
        f"2026-10-03 09:17:11,m-03,acme,batch,default,消费,{NB2},12,12,1392,$0.067482,模型倍率 0.25，补全倍率 240，分组倍率 1",
    ]
    return (HEADER + "\n".join(rows) + "\n").encode()


def _envelope() -> bytes:
    # m-01 first known from an export row, then its envelope fills in the response (stored path).
    env = {"request_id": "m-01", "created_at": "2026-10-03T09:15:02+08:00", "customer": "acme",
           "model": PRO, "http_status": 200, "latency_ms": 41000, "image_size": "2K",
           "response": {"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "image/png",
                                                                                 "data": "A" * 64}}]},
                                         "finishReason": "STOP"}]}}
    other = {"request_id": "e-01", "created_at": 1790000000, "customer": "acme", "model": PRO,
             "http_status": 429, "prompt": "a cat\twith a hat", "error": "quota\\n"}
    return (json.dumps(env) + "\n" + json.dumps(other) + "\n").encode()


def _snapshot():
    skip = {"id", "batch", "ingested_at"}
    names = [f.name for f in Call._meta.concrete_fields if f.name not in skip]
    calls = sorted(
        tuple((n, getattr(c, n if n != "customer" else "customer_id") if n != "customer" else c.customer.slug)
              for n in names)
        for c in Call.objects.select_related("customer")
    )
    conflicts = sorted(
        (c.customer.slug, c.request_id, c.line, c.created_at, c.charged_usd, c.category,
         tuple(c.differences), json.dumps(c.record, sort_keys=True))
        for c in IngestConflict.objects.select_related("customer")
    )
    rollup_fields = [f.name for f in HourlyRollup._meta.concrete_fields if f.name not in ("id", "customer")]
    rollups = sorted(
        (r.customer.slug, *(getattr(r, f) for f in rollup_fields))
        for r in HourlyRollup.objects.select_related("customer")
    )
    return calls, conflicts, rollups


def _summary(batch):
    s = batch.summary()
    s.pop("batch")
    return s


def _ingest_all(chunk):
    first = _summary(calls_ingest(source=_mixed_export()))
    again = _summary(calls_ingest(source=_mixed_export()))
    merged = _summary(calls_ingest(source=_envelope()))
    return [first, again, merged], _snapshot()


def _clear():
    IngestConflict.objects.all().delete()
    HourlyRollup.objects.all().delete()
    Call.objects.all().delete()
    IngestBatch.objects.all().delete()
    Customer.objects.all().delete()


@pytest.mark.postgres
@pytest.mark.parametrize("chunk", [3, 20000])
def test_copy_path_stores_what_the_orm_path_stores(monkeypatch, chunk):
    monkeypatch.setattr(ingest, "CHUNK_COPY", chunk)
    monkeypatch.setattr(ingest, "COPY_ENABLED", True)
    copy_summaries, copy_rows = _ingest_all(chunk)
    _clear()
    monkeypatch.setattr(ingest, "COPY_ENABLED", False)
    monkeypatch.setattr(ingest, "CHUNK", chunk)
    orm_summaries, orm_rows = _ingest_all(chunk)

    assert copy_summaries == orm_summaries
    assert copy_rows == orm_rows
    first, again, merged = copy_summaries
    assert (first["inserted"], first["duplicates"], first["conflicts"], first["skipped"]) == (9, 2, 1, 1)
    assert [r["line"] for r in first["rejected"]] == [12, 13, 14]  # m-06 spans lines 7 and 8
    assert first["customers_created"] == ["acme", "globex"]
    assert again["inserted"] == 0 and again["duplicates"] == first["inserted"] + first["duplicates"]
    assert (merged["inserted"], merged["duplicates"]) == (1, 1)


@pytest.mark.postgres
def test_copy_keeps_tabs_backslashes_and_newlines(monkeypatch):
    monkeypatch.setattr(ingest, "COPY_ENABLED", True)
    calls_ingest(source=_mixed_export())
    calls_ingest(source=_envelope())
    m06 = Call.objects.get(request_id="m-06")
    assert m06.error_text == "line one\ttab \\ back\nstatus_code=503, overloaded"
    assert m06.category == "overloaded"
    e01 = Call.objects.get(request_id="e-01")
    assert e01.error_text.endswith("quota\\n") and e01.category == "rate_limited"
    m01 = Call.objects.get(request_id="m-01")
    assert m01.response["candidates"][0]["content"]["parts"][0]["inlineData"]["data"] == 64
    assert (m01.latency_ms, m01.image_size, m01.source) == (42000, "2K", "calls")  # latency was known
    m04 = Call.objects.get(request_id="m-04")
    assert (m04.group_ratio, m04.charged_usd, m04.expected_usd) == (Decimal("1.2"), Decimal("0.06"), Decimal("0.06"))


@pytest.mark.postgres
def test_lookups_keep_to_the_index_while_the_table_grows(monkeypatch):
    """A never-analyzed call table is analyzed at the start, and again as the ingest doubles it."""
    from django.db import connection

    monkeypatch.setattr(ingest, "CHUNK_COPY", 50)
    lines = [f"2026-10-03 09:{i // 60:02d}:{i % 60:02d},g-{i:04d},acme,web,default,消费,{PRO},4,10,1120,$0.05,"
             for i in range(400)]
    s = calls_ingest(source=(HEADER + "\n".join(lines) + "\n").encode()).summary()
    assert s["inserted"] == 400
    with connection.cursor() as cur:
        cur.execute("SELECT reltuples FROM pg_class WHERE relname = 'logs_call'")
        assert cur.fetchone()[0] >= 100  # statistics were refreshed during the load


def test_conflict_record_is_built_whole_when_read(fixtures_dir):
    """Records build their incoming row lazily; what a conflict keeps is still the whole row."""
    with (fixtures_dir / "gateway_export_zh.csv").open("rb") as fh:
        records = [r for r in iter_gateway_csv(fh, tz=billing_tz(), customer_slug=None) if isinstance(r, Record)]
    first = records[0]
    assert first.raw == {"time": "2026-10-03 09:15:02", "request_id": "gw-0001", "user": "acme", "token": "prod-web",
                         "group": "default", "type": "消费", "model": PRO, "use_time": "42", "prompt": "1310",
                         "completion": "1120", "cost": "$0.050000", "details": "模型价格 0.05，分组倍率 1"}


def _big_export(n: int, bad: dict[int, dict]) -> bytes:
    """An export of `n` calls; row i (0-based) gets the cells of bad[i] instead."""
    out = [HEADER]
    for i in range(n):
        cells = {"model": PRO, "use": "4", "completion": "1120", "cost": "$0.05"} | bad.get(i, {})
        out.append(f"2026-10-03 {i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d},big-{i:05d},acme,web,default,"
                   f"消费,{cells['model']},{cells['use']},10,{cells['completion']},{cells['cost']},\n")
    return "".join(out).encode()


_OUT_OF_RANGE = {25_000: {"completion": "3000000000"}, 30_001: {"use": "1000000000000"},
                 45_000: {"model": "m" * 201}, 49_999: {"cost": "$1e30"}}


@pytest.mark.postgres
def test_out_of_range_values_in_a_50k_row_file_cost_only_their_rows(monkeypatch):
    monkeypatch.setattr(ingest, "COPY_ENABLED", True)
    body = _big_export(50_000, _OUT_OF_RANGE)
    s = calls_ingest(source=body).summary()
    assert s["inserted"] == 50_000 - 4
    assert [r["line"] for r in s["rejected"]] == [i + 2 for i in sorted(_OUT_OF_RANGE)]
    assert Call.objects.count() == 50_000 - 4
    again = calls_ingest(source=body).summary()
    assert again["inserted"] == 0 and again["duplicates"] == 50_000 - 4 and len(again["rejected"]) == 4


@pytest.mark.postgres
def test_a_copy_the_database_refuses_falls_back_to_find_the_row(monkeypatch):
    """With the check at the door switched off, the COPY fails; the rows that failed it are found."""
    import logs.parsers.gateway as gateway

    monkeypatch.setattr(ingest, "COPY_ENABLED", True)
    monkeypatch.setattr(gateway, "_int_cell", lambda value, label: int(value) if value else None)
    s = calls_ingest(source=_big_export(50_000, {25_000: {"completion": "3000000000"}})).summary()
    assert s["inserted"] == 49_999
    assert [r["line"] for r in s["rejected"]] == [25_002]
    assert "the database cannot store this row" in s["rejected"][0]["reason"]
    assert "out of range" in s["rejected"][0]["reason"]
    assert Call.objects.count() == 49_999 and not Call.objects.filter(request_id="big-25000").exists()
