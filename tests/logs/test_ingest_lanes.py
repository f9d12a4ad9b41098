"""The SQL path for gateway CSV on two connections (logs.services.ingest_sql.GatewaySQL._run_lanes).

An ingest that runs in no caller's transaction (a worker, the command, the push API) stages
each chunk on one connection while the chunk before is stored on the other. These tests run
outside a test transaction (transaction=True), so the lanes are taken, and compare what a user
sees with the Python way's result and with the one-connection path's: the summaries, every
stored call, every conflict kept, the rollups.
"""
import threading
import time

import pytest
from django.db import connection

import logs.services.ingest as ingest
import logs.services.ingest_sql as ingest_sql
from logs.models import Call, IngestBatch
from logs.services.ingest import calls_ingest
from tests.logs.rollups.helpers import assert_exact, export, export_rows
from tests.logs.rollups.test_service import _die_at_chunk
from tests.logs.test_ingest_gateway_sql import _fuzzed_export, _single_line_export
from tests.logs.test_ingest_postgres import _clear, _snapshot, _summary

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture
def lanes(monkeypatch):
    """Which backend staged and which stored each chunk (by its file's batch and its first line),
    while `LANES` is on."""
    seen = {"staged": [], "stored": []}
    stage, store = ingest_sql.GatewaySQL._stage, ingest_sql.GatewaySQL._store_sql

    def pid():
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            return cur.fetchone()[0]

    def staging(self, chunk):
        if ingest_sql.LANES:
            seen["staged"].append((self.run.batch.pk, min(chunk.lines, default=0), pid(), threading.current_thread().name))
        return stage(self, chunk)

    def storing(self, chunk):
        if ingest_sql.LANES:
            seen["stored"].append((self.run.batch.pk, min(chunk.lines, default=0), pid(), threading.current_thread().name))
        return store(self, chunk)

    monkeypatch.setattr(ingest_sql.GatewaySQL, "_stage", staging)
    monkeypatch.setattr(ingest_sql.GatewaySQL, "_store_sql", storing)
    return seen


def _ways(monkeypatch, inputs, ways=("lanes", "one", "python")):
    """{way: (summaries, stored state)} of ingesting `inputs` in turn into an empty database."""
    out = {}
    for way in ways:
        _clear()
        monkeypatch.setattr(ingest, "GATEWAY_SQL", way != "python")
        monkeypatch.setattr(ingest_sql, "LANES", way == "lanes")
        out[way] = ([_summary(calls_ingest(source=body)) for body in inputs], _snapshot())
    return out


def test_chunks_on_two_connections_are_stored_as_on_one_and_as_the_python_way(monkeypatch, lanes):
    monkeypatch.setattr(ingest, "CHUNK_COPY", 7)  # 11 lines a chunk on two lanes
    monkeypatch.setattr(ingest_sql, "_MEMO_LIMIT", 3)  # shapes and prices begun again while a chunk is stored
    rows = export_rows(120) + export_rows(30, offset=10)  # repeats across chunks, some in the chunk next door
    inputs = [export(rows), _single_line_export(), export(rows), _fuzzed_export(200, 5)]
    out = _ways(monkeypatch, inputs)
    assert out["lanes"] == out["one"] == out["python"]
    summaries = out["lanes"][0]
    assert summaries[0]["inserted"] == 120 and summaries[0]["duplicates"] == 30
    assert summaries[1]["rejected"] and summaries[2]["duplicates"] == 150 and summaries[3]["conflicts"]
    # Each chunk was staged and stored on its lane's connection: two of them, taken in turn,
    # neither the test's own; the chunks of a file staged in line order, and stored in that order.
    staged, stored = lanes["staged"], lanes["stored"]
    assert len(stored) > 20
    own = connection.cursor().connection.info.backend_pid
    assert own not in {pid for _, _, pid, _ in staged + stored}
    assert len({name for _, _, _, name in stored}) == 2
    for before, after in zip(stored, stored[1:]):
        if before[0] == after[0]:  # the same file
            assert before[2] != after[2] and before[1] < after[1]
    assert [s[:2] for s in staged] == [s[:2] for s in stored]


def test_call_ids_follow_the_lines_across_lanes(monkeypatch):
    """Call ids are taken as each chunk is staged: the stagings follow each other, so the ids
    of a file's calls go up in line order, as on one connection."""
    monkeypatch.setattr(ingest, "CHUNK_COPY", 4)  # 6 lines a chunk on two lanes
    calls_ingest(source=export(export_rows(90)))
    ids = list(Call.objects.order_by("request_id").values_list("id", flat=True))  # r-00000 .. r-00089
    assert len(ids) == 90 and ids == sorted(ids)
    assert assert_exact() == 90


def test_a_chunk_that_fails_stops_the_chunks_after_it(monkeypatch):
    """A worker stopped while storing the 4th chunk: three chunks are committed, the 5th (staged
    on the other connection meanwhile) is not stored, the batch failed; the file again stores the rest."""
    monkeypatch.setattr(ingest, "CHUNK_COPY", 10)  # 16 lines a chunk on two lanes
    size = ingest_sql.lines_per_chunk(10, read_ahead=ingest.READ_AHEAD, lanes=True)
    body = export(export_rows(400))
    _die_at_chunk(monkeypatch, ingest_sql.GatewaySQL, "_store_sql", 4)
    with pytest.raises(RuntimeError, match="worker killed"):
        calls_ingest(source=body)
    assert Call.objects.count() == 3 * size
    assert assert_exact() == 3 * size
    assert IngestBatch.objects.get().status == "failed"
    monkeypatch.undo()
    again = calls_ingest(source=body)
    assert (again.inserted, again.duplicates) == (400 - 3 * size, 3 * size)
    assert assert_exact() == 400


def test_a_chunk_the_database_refuses_to_stage_goes_the_python_way(monkeypatch, caplog):
    monkeypatch.setattr(ingest, "CHUNK_COPY", 10)
    real, calls = ingest_sql.GatewaySQL._stage_sql, {"n": 0}

    def refused(self, cur, chunk):
        calls["n"] += 1
        if calls["n"] == 2:
            cur.execute("SELECT 1/0")  # a refusal of the database's own
        return real(self, cur, chunk)

    monkeypatch.setattr(ingest_sql.GatewaySQL, "_stage_sql", refused)
    rows = export_rows(100)
    s = calls_ingest(source=export(rows)).summary()
    assert "the SQL path failed to stage a chunk; it is read the Python way" in caplog.text
    assert s["inserted"] == 100 and not s["rejected"]
    assert assert_exact() == 100
    monkeypatch.undo()
    lanes_state = _snapshot()
    _clear()
    monkeypatch.setattr(ingest, "GATEWAY_SQL", False)
    calls_ingest(source=export(rows))
    assert _snapshot() == lanes_state


def test_an_ingest_inside_a_callers_transaction_stays_on_its_connection(monkeypatch, lanes):
    """Its uncommitted rows (the batch, a customer it made) are invisible to other connections."""
    from django.db import transaction

    monkeypatch.setattr(ingest, "CHUNK_COPY", 4)
    with transaction.atomic():
        assert not ingest_sql.lanes_usable()
        s = calls_ingest(source=export(export_rows(40))).summary()
        own = connection.cursor().connection.info.backend_pid
    assert s["inserted"] == 40
    assert lanes["stored"] and {pid for _, _, pid, _ in lanes["stored"]} == {own}


def test_rollups_stay_exact_when_the_python_ways_calls_take_ids_amid_the_next_chunks(monkeypatch):
    """On two lanes a chunk's Python-way calls are stored while the next chunk is staged: both take
    call ids from the one sequence at once, so the ids interleave. The calls of a chunk are its typed
    rows whose key it took, not a range of ids: a chunk with rows already stored (some of its keys
    not taken) must count in its rollups only the calls it stored, and look up as stored only the
    calls it did not store. Every chunk here has both: Python-way lines (a backslash in the API
    key) and rows stored by a first file."""
    monkeypatch.setattr(ingest, "CHUNK_COPY", 4)  # 6 lines a chunk on two lanes: ~50 chunks
    # The race made certain: each staged row's id is taken 30 ms apart, and a chunk's store waits,
    # before its Python-way rows are stored, until the next chunk is taking its ids (as a big
    # chunk's staging, which takes ~0.2 s, may).
    with connection.cursor() as cur:
        cur.execute("CREATE OR REPLACE FUNCTION nb_test_slow_nextval(seq text) RETURNS bigint LANGUAGE sql "
                    "VOLATILE AS $$ SELECT pg_sleep(0.03); SELECT nextval(seq::regclass) $$")
    stage, python = ingest_sql.GatewaySQL._stage_sql, ingest_sql.GatewaySQL._python_items
    taking: list[tuple] = []  # (batch, first line) of the chunks whose staging is taking ids

    class SlowIds:
        def __init__(self, cur, chunk_of):
            self._cur, self._chunk_of = cur, chunk_of

        def __getattr__(self, name):
            return getattr(self._cur, name)

        def execute(self, sql, params=None):
            if sql.startswith("INSERT INTO _gw_fast"):
                sql = sql.replace("nextval(%s)", "nb_test_slow_nextval(%s)", 1)
                taking.append(self._chunk_of)
            return self._cur.execute(sql, params)

    def slow_stage(self, cur, chunk):
        return stage(self, SlowIds(cur, (self.run.batch.pk, min(chunk.lines, default=0))), chunk)

    def waiting_python(self, chunk, items):
        """(the chunk's Python-way items, stored last in its store)"""
        this, deadline = (self.run.batch.pk, min(chunk.lines, default=0)), time.monotonic() + 1
        while (ingest_sql.LANES and not any(t[0] == this[0] and t[1] > this[1] for t in taking)
               and time.monotonic() < deadline):
            time.sleep(0.005)
        time.sleep(0.04)
        return python(self, chunk, items)

    monkeypatch.setattr(ingest_sql.GatewaySQL, "_stage_sql", slow_stage)
    monkeypatch.setattr(ingest_sql.GatewaySQL, "_python_items", waiting_python)
    rows = export_rows(240)
    odd = [f"2026-10-03 {h:02d}:{m:02d}:00,odd-{h}-{m},acme,web\\\\x,default,消费,gemini-3-pro-image-preview,5,10,1120,"
           "$0.05,模型价格 0.05" for h in range(10, 12) for m in range(0, 60, 3)]
    n_odd = len(odd)
    mixed = []
    for i, row in enumerate(rows):
        mixed.append(row)
        if i % 5 == 2 and odd:
            mixed.append(odd.pop())
    first, second = export(rows[::2]), export(mixed)
    out = {}
    for way in ("lanes", "python"):
        _clear()
        monkeypatch.setattr(ingest, "GATEWAY_SQL", way == "lanes")
        summaries = [_summary(calls_ingest(source=body)) for body in (first, second)]
        assert assert_exact() == 240 + n_odd
        out[way] = (summaries, _snapshot())
    with connection.cursor() as cur:
        cur.execute("DROP FUNCTION nb_test_slow_nextval(text)")
    assert out["lanes"] == out["python"]
    s = out["lanes"][0][1]
    assert (s["inserted"], s["duplicates"]) == (120 + n_odd, 120)
