"""The PostgreSQL path for gateway CSV (logs.services.ingest_sql) stores what the Python way stores.

Each input is ingested with the SQL path and again with it off (ingest.GATEWAY_SQL), into an
empty database each time, and everything a user sees is compared: the summaries (counts,
rejected lines and reasons, customers created, categories), every stored call, every conflict
kept, the rollups. Then a worker killed between and inside the SQL path's chunks.
"""
import threading
import time
from contextlib import contextmanager

import pytest
from django.db import connection, transaction

import logs.services.ingest as ingest
import logs.services.ingest_sql as ingest_sql
from logs.models import Call
from logs.services.ingest import calls_ingest
from tests.logs.rollups.helpers import assert_exact, export, export_rows
from tests.logs.rollups.test_service import _die_at_chunk
from tests.logs.test_ingest_postgres import _clear, _mixed_export, _snapshot, _summary
from tests.plans import plan_nodes

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

HEADER = "时间,请求ID,用户,令牌,分组,类型,模型,用时,提示,补全,花费,详情\n"
PRO, NB2 = "gemini-3-pro-image-preview", "gemini-3.1-flash-image-preview"


def _single_line_export(extra: list[str] = ()) -> bytes:
    """Every kind of row on one line each (no record across lines: the SQL path reads the whole file)."""
    rows = [
        f"2026-10-03 09:15:02,s-01,acme,prod-web,default,消费,{PRO},42,1310,1120,$0.050000,模型价格 0.05，分组倍率 1",
        f"2026-10-03 09:16:40,s-02,acme,prod-web,default,消费,{PRO},42,25,173,$0.050000,模型价格 0.05，分组倍率 1",
        f"2026-10-03 09:17:11,s-03,acme,batch,default,消费,{NB2},12,12,1392,$0.067482,模型倍率 0.25，补全倍率 240，分组倍率 1",
        f"2026-10-03 09:18:00,s-04,globex,prod-web,vip,消费,{PRO},31,31,,$0.060000,模型价格 0.05，分组倍率 1.2",
        f'2026-10-03 09:19:00,s-05,acme,prod-web,default,错误,{PRO},42,0,0,$0.000000,"status_code=429, RESOURCE_EXHAUSTED: quota ""x"""',
        f'2026-10-03 09:19:30,s-05b,acme,prod-web,default,错误,{NB2},7,0,0,$0.000000,"status_code=503, The model is overloaded."',
        "2026-10-03 09:21:00,,acme,prod-web,default,充值,,0,,,$20.000000,通过兑换码充值 $20",
        f"2026-10-03 09:15:02,s-01,acme,prod-web,default,消费,{PRO},42,1310,1120,＄0.05,模型价格 0.05，分组倍率 1",  # duplicate
        f"2026-10-03 09:16:40,s-02,acme,prod-web,default,消费,{PRO},42,25,173,$0.060000,模型价格 0.05，分组倍率 1",  # conflict
        f"2026-13-45 25:00:00,s-07,acme,prod-web,default,消费,{PRO},42,10,1120,$0.050000,x",  # rejected: time
        f"2026-10-03 09:22:00,s-08,acme,prod-web,default,消费,{PRO},42,10,abc,$0.050000,x",  # rejected: tokens
        f"2026-10-03 09:22:30,s-08b,acme,prod-web,default,消费,{PRO},42,10,1120,$1000000.0000001,x",  # over $1M
        f"2026-10-03 09:22:40,s-08c,acme,prod-web,default,消费,{PRO},4x,10,1120,$0.05,x",  # use time
        f"2026-10-03 09:22:50,s-08d,ac me,prod-web,default,消费,{PRO},4,10,1120,$0.05,x",  # not a slug
        f"2019-12-31 23:00:00,s-08e,acme,prod-web,default,消费,{PRO},4,10,1120,$0.05,x",  # before 2020
        f"2036-10-03 09:22:50,s-08f,acme,prod-web,default,消费,{PRO},4,10,1120,$0.05,x",  # the future
        f"2026-02-30 09:22:50,s-08g,acme,prod-web,default,消费,{PRO},4,10,1120,$0.05,x",  # no such day
        f"2026-10-03 09:22:50,s-08h,acme,prod-web,default,神秘,{PRO},4,10,1120,$0.05,x",  # unknown type
        "2026-10-03 09:22:51,s-08i,acme,prod-web,default,消费,,4,10,1120,$0.05,x",  # no model
        f"2026-10-03 09:22:52,s-08j,acme,prod-web,default,消费,{PRO},4,10,1120,$0.05",  # short row
        f"2026-10-03 09:22:53,s-08k,acme,prod-web,default,消费,{PRO},4,10,1120,$0.05,x,extra",  # long row
        "",  # a blank line
        f"2026-10-03 09:24:00,,acme,web,default,消费,{PRO},42,10,1120,$0.050000,模型价格 0.05，分组倍率 1",  # no ID
        "2026-10-03 09:25:00,s-10,acme,prod-web,default,消费,gpt-4o-mini,3,10,20,$0.000100,",  # non-image
        f"2026-10-04 23:59:59,s-11,globex,prod-web,vip,消费,{NB2},20,30,2600,$0.190000,分组倍率 1.2",
        f"2026-10-03 09:17:11,s-03,acme,batch,default,消费,{NB2},12,12,1392,$0.067482,模型倍率 0.25，补全倍率 240，分组倍率 1",
        f"2026-10-03 09:26:00, s-12 ,acme, web ,default,消费,{PRO},5, 10,1120,$0.05,模型价格 0.05",  # trimmed
        f"2026-10-03 09:26:01,s-13,acme,web,default,消费,{PRO},5,10,1120,$0.05, 模型价格 0.05\u3000",  # trimmed
        f"2026-10-03 09:26:02,s-14,acme,web,default,Consume,{PRO},5,10,1120,$0.05,x",  # type in English
        f"2026-10-03 09:26:03,s-15,acme,web,default,消费,{PRO},5,10,1120,0.05,x",  # cost without $
        f"2026-10-03 09:26:04,s-16,acme,web,default,消费,{PRO},5.5,10,1120,$0.05,x",  # 5.5 s
        f"2026-10-03 09:26:05,s-17,acme,web,default,消费,{PRO},5,10,3000000000,$0.05,x",  # too many tokens
        f"2026-10-03 09:26:06,s-18,acme,web\\x,default,消费,{PRO},5,10,1120,$0.05,x",  # a backslash
        f"2026-10-03 09:26:07,s-19,acme,web,default,消费,{PRO},5,10,1120,$0.05,a\tb",  # a tab
        f"2026-10-03 09:26:08,s-20,acme,{'t' * 201},default,消费,{PRO},5,10,1120,$0.05,x",  # token too long
        f"2026-10-03 09:26:09,s-21,acme,令牌,default,消费,{PRO},5,10,1120,$0.05,x",  # token not ASCII
        f'2026-10-03 09:26:10,"s-22",acme,"web",default,消费,{PRO},5,10,1120,"$0.05",x',  # quoted cells
        f'2026-10-03 09:26:11,s-23,acme,web,default,错误,{PRO},5,0,0,$0,"a "" quote, and ""more"""',
        f"2026-10-03 09:26:12,s-24,newco,web,default,消费,{NB2},5,,,$0.000001,",  # no tokens
        f"2026-10-03 09:26:13,s-25,acme,web,default,错误,{PRO},5,0,0,,status_code=400 API_KEY_INVALID",
        f"2026-10-03 09:26:14,s-26,acme,web,default,消费,{PRO},5,0,0,,",  # empty output
        f"2026-10-03 09:26:15,s-27,acme,web,default,消费,{NB2},5,2400,300,$0.02,分组倍率 1",  # text refusal
        f"2026-10-03 09:27:60,s-28,acme,web,default,消费,{PRO},5,10,1120,$0.05,x",  # second 60
        f"2026-10-03T09:27:01,s-29,acme,web,default,消费,{PRO},5,10,1120,$0.05,x",  # ISO 8601
        f"2026-10-03 09:27:2,s-30,acme,web,default,消费,{PRO},5,10,1120,$0.05,x",  # short time
        f"2026-10-03 09:27:03 ,s-31,acme,web,default,消费,{PRO},5,10,1120,$0.05,x",  # trimmed time
        f"1790000000,s-32,acme,web,default,消费,{PRO},5,10,1120,$0.05,x",  # Unix seconds
        *extra,
    ]
    return (HEADER + "\n".join(rows) + "\n").encode()


def _both_ways(monkeypatch, inputs, **kw):
    """The summaries and the stored state of ingesting `inputs` in turn, SQL path on and off."""
    out = []
    for on in (True, False):
        _clear()
        monkeypatch.setattr(ingest, "GATEWAY_SQL", on)
        summaries = [_summary(calls_ingest(source=body, **kw)) for body in inputs]
        out.append((summaries, _snapshot()))
    return out


@pytest.fixture
def sql_rows(monkeypatch):
    """How many calls the SQL path stored (that it ran, not the Python way for everything)."""
    counts = {"inserted": 0}
    real = ingest_sql.GatewaySQL._insert

    def spy(self, cur, fast):
        n = real(self, cur, fast)
        counts["inserted"] += n
        return n

    monkeypatch.setattr(ingest_sql.GatewaySQL, "_insert", spy)
    return counts


def test_every_kind_of_row_is_stored_as_the_python_way_stores_it(monkeypatch, sql_rows):
    body = _single_line_export()
    bad = body.replace(b"s-27,acme,web", b"s-27,acme,w\xff\xfeb")  # bytes that are not UTF-8
    (sql, sql_state), (py, py_state) = _both_ways(monkeypatch, [body, body, bad])
    assert sql_rows["inserted"] > 10
    assert sql == py
    assert sql_state == py_state
    first, again, third = sql
    assert first["inserted"] > 20 and first["duplicates"] == 2 and first["conflicts"] == 1
    assert len(first["rejected"]) >= 12 and all(r["reason"] for r in first["rejected"])
    assert first["customers_created"] == ["acme", "globex", "newco"]
    assert again["inserted"] == 0 and again["duplicates"] == first["inserted"] + first["duplicates"]
    assert any("UTF-8" in r["reason"] for r in third["rejected"])


def test_a_named_customer_and_time_zone_are_read_as_the_python_way_reads_them(monkeypatch, sql_rows):
    from logs.models import Customer

    def run(on):
        _clear()
        monkeypatch.setattr(ingest, "GATEWAY_SQL", on)
        cust = Customer.objects.create(slug="named", name="Named")
        s = [_summary(calls_ingest(source=_single_line_export(), customer=cust, tz="America/New_York"))]
        return s, _snapshot()

    assert run(True) == run(False)
    assert sql_rows["inserted"] > 10


def test_a_record_across_lines_hands_the_rest_of_the_file_to_the_python_way(monkeypatch, sql_rows):
    (sql, sql_state), (py, py_state) = _both_ways(monkeypatch, [_mixed_export(), _mixed_export()])
    assert sql == py and sql_state == py_state
    assert [r["line"] for r in sql[0]["rejected"]] == [12, 13, 14]
    assert sql_rows["inserted"] == 5  # the rows before the record across lines 7 and 8


def test_the_fixture_export_and_overlapping_files(monkeypatch, fixtures_dir, sql_rows):
    fixture = (fixtures_dir / "gateway_export_zh.csv").read_bytes()
    first = export(export_rows(300))
    overlap = export(export_rows(300, offset=200))  # 100 stored already
    # Calls stored without a latency, then again with one: filled in (the Python way).
    unfilled = export([",".join(c if i != 7 else "" for i, c in enumerate(r.split(",")))
                       for r in export_rows(40, offset=600)])
    refill = export(export_rows(40, offset=600))
    changed = export([r.replace(",web,", ",other,") for r in export_rows(30)])  # conflicts
    inputs = [fixture, first, overlap, unfilled, refill, changed, fixture]
    (sql, sql_state), (py, py_state) = _both_ways(monkeypatch, inputs)
    assert sql == py
    assert sql_state == py_state
    assert sql[2]["inserted"] == 200 and sql[2]["duplicates"] == 100
    assert sql[4]["duplicates"] == 40 and sql[5]["conflicts"] > 0
    assert sql_rows["inserted"] > 500


def test_chunks_of_the_sql_path_follow_each_other_as_the_python_ways_do(monkeypatch, sql_rows):
    monkeypatch.setattr(ingest, "CHUNK_COPY", 7)  # 35 lines a chunk (17 when reading ahead)
    monkeypatch.setattr(ingest_sql, "_MEMO_LIMIT", 3)  # shapes and prices decided again chunk by chunk
    rows = export_rows(120) + export_rows(30, offset=10)  # repeats across chunks
    (sql, sql_state), (py, py_state) = _both_ways(monkeypatch, [export(rows), export(rows)])
    assert sql == py and sql_state == py_state
    assert sql[0]["inserted"] == 120 and sql[0]["duplicates"] == 30


def test_a_worker_killed_between_chunks_leaves_exact_rollups(monkeypatch):
    monkeypatch.setattr(ingest, "CHUNK_COPY", 10)  # 50 lines a chunk, 25 when reading ahead
    size = ingest_sql.lines_per_chunk(10, read_ahead=ingest.READ_AHEAD)
    body = export(export_rows(400))
    _die_at_chunk(monkeypatch, ingest_sql.GatewaySQL, "_store_sql", 4)
    with pytest.raises(RuntimeError):
        calls_ingest(source=body)
    assert Call.objects.count() == 3 * size  # three chunks committed
    assert assert_exact() == 3 * size
    monkeypatch.undo()
    again = calls_ingest(source=body)
    assert (again.inserted, again.duplicates) == (400 - 3 * size, 3 * size)
    assert assert_exact() == 400


def test_a_worker_killed_inside_a_chunk_keeps_its_calls_and_rollups_together(monkeypatch):
    monkeypatch.setattr(ingest, "CHUNK_COPY", 10)
    size = ingest_sql.lines_per_chunk(10, read_ahead=ingest.READ_AHEAD)
    _die_at_chunk(monkeypatch, ingest, "rollups_add_calls", 3)  # after the chunk's calls are inserted
    with pytest.raises(RuntimeError):
        calls_ingest(source=export(export_rows(300)))
    assert Call.objects.count() == 2 * size
    assert assert_exact() == 2 * size
    from logs.models import IngestBatch

    assert IngestBatch.objects.get().status == "failed"


def _fuzzed_export(n: int, seed: int) -> bytes:
    """Rows whose cells are each now and then an odd variant (spaces, quotes, other numbers and
    times, repeats of earlier request IDs): the SQL path must hand the Python way every row it
    cannot read exactly as the Python way does."""
    import random

    rnd = random.Random(seed)
    odd = {
        0: ["2026-10-03 9:15:02", " 2026-10-03 09:15:02", "2026-10-03 09:15:02.5", "2026/10/03 09:15:02",
            "2026-10-03 09:15", "1790000000", "2026-10-03 24:00:00", "2026-10-03 09:15:02+08:00", ""],
        1: ["", " r-x", "r\u00a0y", "r-1", "\u3000r-z", "r" * 201, "r,q"],
        2: ["", "ACME", "a c", "acme ", "acme\u2003", "x" * 65, "b.c-d_e"],
        3: ["", " web", "web\u00a0", "令牌", "t" * 201],
        4: ["", "vip ", "g" * 65, "组"],
        5: ["error", "2", "5", " 消费", "1", "退款", "consume.0", "Error"],
        6: ["", "gpt-4o", " " + PRO, NB2 + " ", "m" * 201, "GEMINI-3-PRO-IMAGE-PREVIEW"],
        7: ["", "5.5", "5s", "-1", "9999999", "１２", " 7"],
        8: ["", "0", "-3", "1e3", "12.0", "９", "2147483648", " 12"],
        9: ["", "0", "12.5", "3000000000", "1e3", " 1120", "999"],
        10: ["", "$0", "0.05", "$-0.05", "$1000000", "$1000000.000001", "＄0.05", "$0.0500005", "$1,000",
             "$0.05 ", "US$0.05"],
        11: ["", "status_code=429", "status_code=700, x", "分组倍率 2000", "分组倍率 1.5", " x", "x\u3000",
             "API_KEY_INVALID", "prompt was blocked"],
    }
    base = ["2026-10-03 09:15:02", "r-0", "acme", "web", "default", "消费", PRO, "42", "1310", "1120",
            "$0.050000", "模型价格 0.05，分组倍率 1"]
    rows = []
    for i in range(n):
        cells = list(base)
        cells[0] = f"2026-10-{3 + i % 5:02d} {i % 24:02d}:{i % 60:02d}:{(7 * i) % 60:02d}"
        cells[1] = f"f-{i:05d}" if rnd.random() > 0.1 else f"f-{rnd.randrange(max(i, 1)):05d}"
        cells[6] = rnd.choice([PRO, NB2])
        cells[9] = str(rnd.choice([0, 150, 1120, 1600]))
        for col in range(12):
            if rnd.random() < 0.06:
                cells[col] = rnd.choice(odd[col])
        line = ",".join(f'"{c}"' if ("," in c or rnd.random() < 0.02) else c for c in cells)
        rows.append(line)
    return (HEADER + "\n".join(rows) + "\n").encode()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fuzzed_rows_are_stored_as_the_python_way_stores_them(monkeypatch, seed, sql_rows):
    body = _fuzzed_export(400, seed)
    again = _fuzzed_export(300, seed + 10)  # overlapping request IDs, other values: conflicts and fills
    (sql, sql_state), (py, py_state) = _both_ways(monkeypatch, [body, again, body])
    assert sql == py
    assert sql_state == py_state
    assert sql_rows["inserted"] > 100 and sql[0]["rejected"] and sql[1]["conflicts"]


@pytest.mark.parametrize("read_ahead", [True, False])
def test_chunks_read_ahead_in_a_thread_or_not_are_stored_the_same(monkeypatch, sql_rows, read_ahead):
    """The next chunk's lines are sorted in a thread while one is stored; lines for the Python way
    are still read in order, when their chunk is stored: the same calls, counts and rejections."""
    monkeypatch.setattr(ingest, "CHUNK_COPY", 2)  # 10 lines a chunk (5 reading ahead): Python-way lines in most
    monkeypatch.setattr(ingest, "READ_AHEAD", read_ahead)
    body = _single_line_export()
    (sql, sql_state), (py, py_state) = _both_ways(monkeypatch, [body, body])
    assert sql == py and sql_state == py_state
    assert sql[0]["inserted"] > 0 and sql[0]["rejected"] and sql[1]["duplicates"] > 0
    assert sql_rows["inserted"] > 0


@pytest.mark.django_db(transaction=True)
def test_a_call_another_ingest_is_storing_at_the_same_moment_is_stored_once(monkeypatch, caplog, sql_rows):
    """The SQL path takes new keys with a plain INSERT: a key another ingest holds uncommitted fails
    it once that one commits, and the chunk is read the Python way, which finds the call stored."""
    import datetime as dt

    from logs.services.partitions import partition_ensure
    from tests import factories
    from tests.logs.rollups.helpers import assert_exact

    monkeypatch.setattr(ingest, "CHUNK_COPY", 2)  # 10 lines a chunk (5 reading ahead, 3 on two lanes)
    size = ingest_sql.lines_per_chunk(2, read_ahead=ingest.READ_AHEAD, lanes=ingest_sql.lanes_usable())
    # A customer and a month's partition both would make: the second would wait for the first.
    factories.customer("acme")
    partition_ensure(dt.date(2026, 10, 1))
    rows = export_rows(60)
    with _ingest_held_open(export(rows[:1]), seconds=2):  # its key uncommitted while this one reaches it
        s = calls_ingest(source=export(rows)).summary()
    assert "the SQL path failed on a chunk; it is read the Python way" in caplog.text
    assert s["inserted"] == 59 and s["duplicates"] == 1 and not s["conflicts"]
    assert Call.objects.filter(request_id="r-00000").count() == 1 and Call.objects.count() == 60
    assert sql_rows["inserted"] == 60 - size + 1  # the other chunks stored in SQL, and the other ingest's call
    assert_exact("acme")


@pytest.mark.django_db(transaction=True)
def test_two_ingests_making_the_same_months_partition_at_once_both_store_their_calls(monkeypatch, caplog):
    """The second waits for the first's partition (an advisory lock), then finds it made."""
    from tests import factories

    factories.customer("acme")
    rows = export_rows(30)
    with _ingest_held_open(export(rows[:1]), seconds=1):  # it makes the month's partition, uncommitted
        s = calls_ingest(source=export(rows[1:])).summary()
    assert "failed" not in caplog.text and "already exists" not in caplog.text
    assert s["inserted"] == 29 and not s["rejected"] and Call.objects.count() == 30


def test_the_key_probe_is_an_index_probe_even_when_the_key_table_was_analyzed_empty():
    """Statistics that say "no keys" (a new deployment) must not plan a scan of the key table per
    row: it grows as the statement inserts, and that was quadratic (85 s for 100,000 rows)."""
    import json

    with connection.cursor() as cur:
        cur.execute("ANALYZE logs_callkey")
    plans = []

    def explain(execute, sql, params, many, context):
        if sql.startswith("WITH k AS (INSERT INTO logs_callkey"):
            with connection.cursor() as cur:
                cur.execute("EXPLAIN (FORMAT JSON) " + sql, params)
                raw = cur.fetchone()[0]
                plans.append(json.loads(raw) if isinstance(raw, str) else raw)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(explain):
        s = calls_ingest(source=export(export_rows(40))).summary()
    assert s["inserted"] == 40 and plans
    text = json.dumps(plans)
    assert '"Relation Name": "logs_callkey"' in text
    assert not any(n.get("Node Type") == "Seq Scan" and n.get("Relation Name") == "logs_callkey"
                   for n in plan_nodes(plans[0][0]["Plan"])), text
    assert '"Index Name": "logs_callkey_pkey"' in text


@contextmanager
def _ingest_held_open(body: bytes, *, seconds: float):
    """Another ingest of `body`, in a thread, its transaction held open `seconds` after it has
    stored the file; the block runs meanwhile. On leaving, the thread has ended without an error."""
    held, failed = threading.Event(), []

    def other_ingest():
        try:
            with transaction.atomic():
                calls_ingest(source=body)
                held.set()
                time.sleep(seconds)
        except Exception as exc:  # noqa: BLE001  (reported below)
            failed.append(exc)
            held.set()
        finally:
            connection.close()

    thread = threading.Thread(target=other_ingest)
    thread.start()
    assert held.wait(30)
    try:
        yield
    finally:
        thread.join()
    assert not failed
