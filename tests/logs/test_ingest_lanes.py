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


class _SlowIds:
    """A cursor whose staging INSERT takes each typed row's call id `pause` seconds apart."""

    def __init__(self, cur, slow, chunk_of):
        self._cur, self._slow, self._chunk_of = cur, slow, chunk_of

    def __getattr__(self, name):
        return getattr(self._cur, name)

    def execute(self, sql, params=None):
        if sql.startswith("INSERT INTO _gw_fast"):
            sql = sql.replace("nextval(%s)", f"nb_test_slow_nextval(%s, {float(self._slow.pause)})", 1)
            self._slow.taking.append(self._chunk_of)
        return self._cur.execute(sql, params)


@pytest.fixture
def slow_ids(monkeypatch):
    """Each typed row's call id taken `pause` seconds apart (a SQL function that sleeps, then takes
    the id), so that a staging lasts long enough to overlap what runs beside it. `taking`: the
    (batch, first line) of each chunk whose staging has begun taking ids."""
    with connection.cursor() as cur:
        cur.execute("CREATE OR REPLACE FUNCTION nb_test_slow_nextval(seq text, pause float8) RETURNS bigint "
                    "LANGUAGE sql VOLATILE AS $$ SELECT pg_sleep(pause); SELECT nextval(seq::regclass) $$")
    slow = type("Slow", (), {})()
    slow.pause, slow.taking = 0.01, []
    stage = ingest_sql.GatewaySQL._stage_sql

    def slow_stage(self, cur, chunk):
        return stage(self, _SlowIds(cur, slow, (self.run.batch.pk, min(chunk.lines, default=0))), chunk)

    monkeypatch.setattr(ingest_sql.GatewaySQL, "_stage_sql", slow_stage)
    yield slow
    with connection.cursor() as cur:
        cur.execute("DROP FUNCTION nb_test_slow_nextval(text, float8)")


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
    assert staged == stored  # each chunk staged and stored on the same connection, in the same order


def test_call_ids_follow_the_lines_across_lanes(monkeypatch, slow_ids, lanes):
    """Call ids are taken as each chunk is staged: the stagings follow each other, so the ids
    of a file's calls go up in line order, as on one connection (each staging takes 60 ms or more
    here: two at once would interleave their ids)."""
    monkeypatch.setattr(ingest, "CHUNK_COPY", 4)  # 6 lines a chunk on two lanes
    calls_ingest(source=export(export_rows(90)))
    assert len({pid for _, _, pid, _ in lanes["staged"]}) == 2 and len(slow_ids.taking) == 15
    ids = list(Call.objects.order_by("request_id").values_list("id", flat=True))  # r-00000 .. r-00089
    assert len(ids) == 90 and ids == sorted(ids)
    assert assert_exact() == 90


def test_a_chunk_that_fails_stops_the_chunks_after_it(monkeypatch, lanes):
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
    assert len({pid for _, _, pid, _ in lanes["stored"]}) == 2
    monkeypatch.undo()
    again = calls_ingest(source=body)
    assert (again.inserted, again.duplicates) == (400 - 3 * size, 3 * size)
    assert assert_exact() == 400


def test_a_chunk_the_database_refuses_to_stage_goes_the_python_way(monkeypatch, caplog, lanes):
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
    assert len({pid for _, _, pid, _ in lanes["stored"]}) == 2
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


def test_rollups_stay_exact_when_the_python_ways_calls_take_ids_amid_the_next_chunks(monkeypatch, slow_ids, lanes):
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
    slow_ids.pause = 0.03
    python = ingest_sql.GatewaySQL._python_items

    def waiting_python(self, chunk, items):
        """(the chunk's Python-way items, stored last in its store)"""
        this, deadline = (self.run.batch.pk, min(chunk.lines, default=0)), time.monotonic() + 1
        while (ingest_sql.LANES and not any(t[0] == this[0] and t[1] > this[1] for t in slow_ids.taking)
               and time.monotonic() < deadline):
            time.sleep(0.005)
        time.sleep(0.04)
        return python(self, chunk, items)

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
    assert out["lanes"] == out["python"]
    s = out["lanes"][0][1]
    assert (s["inserted"], s["duplicates"]) == (120 + n_odd, 120)
    per_file: dict[int, set] = {}
    for batch, _, pid, _ in lanes["stored"]:
        per_file.setdefault(batch, set()).add(pid)
    assert len(per_file) == 2 and all(len(pids) == 2 for pids in per_file.values())  # two lanes each


def test_lanes_read_committed_whatever_the_servers_default(monkeypatch, lanes):
    """A database whose default is REPEATABLE READ: a lane's transaction begins at its staging,
    before the chunk before commits; read with that snapshot, the chunk would miss its calls (and
    fail on its rollup lock). Each lane's transaction reads committed, as one connection's do."""
    monkeypatch.setattr(ingest, "CHUNK_COPY", 4)  # 6 lines a chunk on two lanes
    rows = export_rows(60)
    body = export([r for i, r in enumerate(rows) for r in ([r, r] if i % 7 == 3 else [r])])  # repeats next door
    name = connection.settings_dict["NAME"]
    with connection.cursor() as cur:
        cur.execute(f'ALTER DATABASE "{name}" SET default_transaction_isolation = \'repeatable read\'')
    try:
        s = calls_ingest(source=body).summary()
    finally:
        with connection.cursor() as cur:
            cur.execute(f'ALTER DATABASE "{name}" RESET default_transaction_isolation')
    assert (s["inserted"], s["duplicates"], s["rejected"]) == (60, 9, [])
    assert assert_exact() == 60
    assert len({pid for _, _, pid, _ in lanes["stored"]}) == 2


def test_an_ingest_with_autocommit_off_stays_on_its_connection(monkeypatch, lanes):
    """The caller may still roll back: what other connections committed it could not."""
    from django.db import transaction

    monkeypatch.setattr(ingest, "CHUNK_COPY", 4)
    transaction.set_autocommit(False)
    try:
        assert not ingest_sql.lanes_usable()
        s = calls_ingest(source=export(export_rows(30))).summary()
        own = connection.cursor().connection.info.backend_pid
        transaction.rollback()
    finally:
        transaction.set_autocommit(True)
    assert s["inserted"] == 30 and {pid for _, _, pid, _ in lanes["stored"]} == {own}
    assert Call.objects.count() == 0 and IngestBatch.objects.count() == 0


def test_no_second_connection_leaves_the_ingest_on_one(monkeypatch, caplog, lanes):
    """A server out of connections (max_connections, a pooler's limit): the lanes cannot connect,
    and the ingest goes on this connection instead of failing."""
    from django.db import OperationalError
    from django.db.backends.postgresql.base import DatabaseWrapper

    real = DatabaseWrapper.get_new_connection

    def refused(self, conn_params):
        if threading.current_thread().name.startswith("ingest-lane"):
            raise OperationalError("FATAL: sorry, too many clients already")
        return real(self, conn_params)

    monkeypatch.setattr(DatabaseWrapper, "get_new_connection", refused)
    monkeypatch.setattr(ingest, "CHUNK_COPY", 4)
    s = calls_ingest(source=export(export_rows(30))).summary()
    own = connection.cursor().connection.info.backend_pid
    assert "no second connection to the database; on one" in caplog.text
    assert (s["inserted"], s["rejected"]) == (30, []) and assert_exact() == 30
    assert {pid for _, _, pid, _ in lanes["stored"]} == {own}
