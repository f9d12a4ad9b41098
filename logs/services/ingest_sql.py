"""The ingest of a gateway CSV export on PostgreSQL, with the rows read, checked, priced and stored in SQL.

The Python path (`logs.parsers.gateway` and `logs.services.ingest._Run.apply`) spends most of
its time on each row; here each chunk of lines is COPYed as text into a staging table, and
the database reads the values with the rules of `GatewayRows._fast` (the short path, which
reads a row to the same Record as `_row`). What a row's values decide beyond that is decided
in Python once per distinct value: the type, model, completion tokens and details of a call
(`GatewayRows.call_shape`: log type, family, status, group ratio, category, reason), the hour
of its time (the zone's offset, the billing day), the price of a (shape, billing day)
(`logs.pricing.charge_terms`). New calls are then stored with INSERT ... SELECT (their keys
first, a key already stored left alone), an exact duplicate of a stored call is counted in SQL,
and the rollups are summed from the stored rows, all in the chunk's one transaction.

A chunk's work is in two parts: staging (`_stage`: the COPY, the typing, the shapes, hours and
prices: nothing that reads a stored call) and storing (`_store_staged`: customers, keys, calls,
duplicates, rollups). An ingest in no caller's transaction takes two connections of its own,
in two threads (`_run_lanes`): while one stores a chunk, the other stages the next, and the
database's work on the two overlaps on two cores. Stagings follow each other in line order, and
so do stores and commits; each chunk is staged and stored in one transaction on its connection.

Every row this path cannot read with certainty goes the Python way instead, as it would have:
a line with a quote (unless a plain one-line record), a tab, a backslash or bytes that are not
UTF-8, a row of another width, any value the SQL rules do not accept (a rejected row is
rejected there, with its line and reason), a new shape `call_shape` declines, a request ID
seen twice in the chunk or also among the chunk's Python rows, a call already stored that the
row would fill in or conflict with. From the first line that opens a quoted record across
lines, the rest of the file is read the Python way. A chunk whose SQL the database refuses
(a savepoint) goes the Python way whole.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from decimal import Decimal

from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from logs.choices import Source
from logs.models import Call, CallKey
from logs.parsers import Record, Skipped
from logs.parsers.base import Rejected
from logs.parsers.gateway import _MEMO_LIMIT, GatewayRows, gateway_csv_items
from logs.parsers.tabular import csv_records
from logs.parsers.values import EARLIEST, SLUG, TEXT_LIMITS
from logs.pricing import charge_terms
from logs.services.partitions import partitions_for
from logs.services.readahead import ReadAhead
from logs.services.rollups import grouped_rows_sql, latency_bucket_sql
from logs.timeutil import UTC, billing_tz

log = logging.getLogger(__name__)

# A chunk is stored on one connection while the next is staged on another (`GatewaySQL._run_lanes`).
LANES = True
CHUNK_TIMES = 5  # lines per chunk (one transaction): this many times the run's chunk of records (100,000)
# The columns this path reads; an export without one of them (or with quota for cost) goes the Python way.
NEEDED = ("time", "request_id", "user", "token", "group", "type", "model", "use_time", "prompt", "completion",
          "cost", "details")
_ASCII_SPACE = "".join(chr(i) for i in range(128) if chr(i).isspace())  # what str.strip() takes of ASCII text
_HOUR = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}")  # of a time's text; the rest ":MM:SS"
_CRLF = "\r\n"
# What a gateway row does not give a call is the call table's default (two of them rollup keys).
_IMAGE_SIZE = Call._meta.get_field("image_size").get_default()


def usable(rows: GatewayRows) -> bool:
    """Whether this export's columns are the ones the SQL path reads."""
    return all(k in rows.cols for k in NEEDED) and "quota" not in rows.cols and connection.vendor == "postgresql"


class _Chunk:
    """One chunk of lines: those staged for SQL, and the Python way's rows (line -> item)."""

    def __init__(self):
        self.staged: list[str] = []      # COPY text lines: line number, then the cells
        self.lines: dict[int, str] = {}   # staged line number -> the line (to read it the Python way)
        self.items: dict[int, object] = {}  # the Python way: line -> Record / Skipped / Rejected
        self.odd: list[tuple[int, str]] = []  # lines for the Python way, read when the chunk is stored
        self.keys: dict[tuple, int] = {}  # (type, model, completion, details) of staged lines -> its number
        # What staging found (`GatewaySQL._stage`): the rows typed in SQL, the staged lines it left
        # to the Python way, whether the database refused it, and the shapes (and their prices)
        # its shape ids index (a later chunk may start new ones meanwhile).
        self.fast: int | None = None
        self.unread: list[int] = []
        self.twice: list[int] = []  # typed rows whose request ID another typed row has too
        self.failed = False
        self.shape_rows: list[tuple] = []
        self.prices: dict[tuple, tuple | None] = {}

    def clear(self) -> None:
        self.staged, self.lines, self.items, self.odd, self.keys = [], {}, {}, [], {}
        self.unread, self.twice, self.shape_rows, self.prices = [], [], [], {}


class GatewaySQL:
    """The PostgreSQL path of one ingest of a gateway CSV (see the module docstring)."""

    def __init__(self, run, rows: GatewayRows, width: int):
        self.run = run
        self.rows = rows
        self.width = width
        self.cols = [rows.cols[k] for k in NEEDED]
        # the cells of a line's shape, numbered per chunk as its lines are sorted (`_Chunk.keys`)
        self.shape_cols = tuple(rows.cols[k] for k in ("type", "model", "completion", "details"))
        self.shapes: dict[tuple, int | None] = {}  # (type, model, completion, details) -> shape id
        self.shape_rows: list[tuple] = []           # shape id -> its values
        self.hours: dict[str, tuple | None] = {}    # "YYYY-MM-DD HH" -> (UTC start, billing day)
        self.prices: dict[tuple, tuple | None] = {}  # (shape id, billing day) -> (mode, priced, rate, rest)
        self.btz = billing_tz()

    # -- lines -------------------------------------------------------------------------------
    def run_lines(self, lines, on_chunk, *, read_ahead: bool = False) -> tuple[int, object | None]:
        """Ingest the numbered lines; returns (items seen, the rest of the rows to read the Python way
        or None). `on_chunk(seen)` is called after each chunk's commit. `read_ahead`: the next chunk's
        lines are read and sorted in a thread while this one is stored (one chunk ahead at most).
        With `LANES` (and no caller's transaction open), chunks are staged and stored on two
        connections of their own instead (`_run_lanes`)."""
        if lanes_usable():
            return self._run_lanes(lines, on_chunk, read_ahead=read_ahead)
        return self._run_one(lines, on_chunk, read_ahead=read_ahead)

    def _run_one(self, lines, on_chunk, *, read_ahead: bool) -> tuple[int, object | None]:
        """`run_lines` on this connection."""
        seen, rest = 0, None
        size = lines_per_chunk(self.run.chunk, read_ahead=read_ahead)
        if read_ahead:
            chunks = reader = ReadAhead(self._chunks(lines, size), 1, ahead=1)
        else:
            chunks, reader = self._chunks(lines, size), None
        try:
            for chunk, rest in chunks:
                if chunk.staged or chunk.items or chunk.odd:
                    seen += self._store(chunk)
                    on_chunk(seen)
                chunk.clear()  # its lines freed now, not when the next one is handed over
        finally:
            if reader is not None:
                reader.close()
        # The chunks plan nothing from the call table's statistics (their look-up of stored calls
        # probes indexes), but what comes after does: refreshed once at the end, as the Python way
        # keeps them while it loads (autovacuum never analyzes the partitioned table itself).
        self.run._fresh_statistics()
        return seen, rest

    def _run_lanes(self, lines, on_chunk, *, read_ahead: bool) -> tuple[int, object | None]:
        """`run_lines` on two connections, each in a thread of its own, taking chunks in turn: while
        one stores a chunk, the other stages the next (COPY and typing in its temporary tables, the
        part of a chunk that reads no stored call), and this thread reads the one after. Stagings
        follow each other in line order (the typed rows' call ids are taken there, so they go up
        with the lines; a chunk's Python-way calls, stored while the next chunk is staged, may take
        ids among that chunk's) and so do the chunks' stores and commits, each in one transaction
        as on one connection: the calls, counts and rollups are those of `run_lines` on one
        connection. A chunk that fails stops the chunks after it before they store anything (a
        store under way when the ingest stops still commits: the
        batch's progress may then lag one chunk behind its calls); three chunks are in memory at
        most (the chunks are a third as long). Without a second connection (the server's limit),
        on this one."""
        from collections import deque
        from concurrent.futures import ThreadPoolExecutor

        stop = threading.Event()
        lanes = [ThreadPoolExecutor(1, thread_name_prefix=f"ingest-lane-{i}") for i in range(2)]
        try:  # both connections first: a server out of connections leaves the ingest on this one
            for lane in lanes:
                lane.submit(lambda: connection.ensure_connection()).result()  # (the lane's own connection)
        except DatabaseError:
            log.warning("ingest %s: no second connection to the database; on one", self.run.batch.pk, exc_info=True)
            _lanes_closed(lanes)
            return self._run_one(lines, on_chunk, read_ahead=read_ahead)
        size = lines_per_chunk(self.run.chunk, read_ahead=False, lanes=True)
        pending: deque = deque()
        seen, rest, handed = 0, None, 0
        before = _Turn.done(stop)
        try:
            for chunk, rest in self._chunks(lines, size):
                if not (chunk.staged or chunk.items or chunk.odd):
                    continue
                if len(pending) == 2:  # the lane of this chunk is free once its last chunk is stored
                    seen += pending.popleft().result()
                    on_chunk(seen)
                turn = _Turn(stop)
                pending.append(lanes[handed % 2].submit(self._lane, chunk, before, turn))
                before, handed = turn, handed + 1
            while pending:
                seen += pending.popleft().result()
                on_chunk(seen)
        finally:
            stop.set()  # (after a failure: the chunks not stored yet stay so)
            _lanes_closed(lanes)
        self.run._fresh_statistics()
        return seen, rest

    def _lane(self, chunk: _Chunk, before: _Turn, turn: _Turn) -> int:
        """One chunk on this thread's connection: staged after the chunk before was, stored after
        it was stored."""
        try:
            # Staged and stored in one transaction, as on one connection: the temporary tables'
            # rows are read in the transaction that wrote them (a pooler may hand the next
            # transaction another server session). Waiting in it holds no lock another chunk takes.
            with transaction.atomic():
                before.wait(before.staged)
                # Each statement sees what the chunks before committed (a server or settings
                # default of REPEATABLE READ would fix the snapshot at the staging), and the wait
                # for the chunk before is no idle transaction to time out.
                with connection.cursor() as cur:
                    cur.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
                    cur.execute("SELECT set_config('idle_in_transaction_session_timeout', '0', true)")
                self._stage(chunk)
                turn.staged.set()
                before.wait(before.stored)
                n = self._store_staged(chunk)
            chunk.clear()
            turn.stored.set()
            return n
        except BaseException:
            turn.fail()
            raise

    def _chunks(self, lines, chunk_lines: int):
        """(chunk, rest) for each chunk of lines sorted to the stage or the Python way; `rest` (the
        Python way's reader of the rest of the file) comes with the last chunk, or None. Touches
        nothing but its chunks: it may run in a thread."""
        chunk, count = _Chunk(), 0
        width1 = self.width - 1
        block_lines = min(10_000, chunk_lines)
        it = iter(lines)
        block: list[tuple[int, str]] = []
        for number, line in it:
            block.append((number, line))
            if len(block) < block_lines:
                continue
            rest = self._sort(block, chunk, width1, it)
            count += len(block)
            block = []
            if rest is not None:
                yield chunk, rest
                return
            if count >= chunk_lines:
                yield chunk, None
                chunk, count = _Chunk(), 0
        yield chunk, (self._sort(block, chunk, width1, it) if block else None)

    def _sort(self, block, chunk: _Chunk, width1: int, it):
        """Each line to the SQL stage or the Python way; a line opening a quoted record across lines
        stops the path: returns the rest of the rows (the Python way's reader from that line)."""
        text = "".join(line for _, line in block)
        odd = "\\" in text or "\t" in text or "\x00" in text
        if not odd and not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                odd = True
        staged, kept, keys = chunk.staged, chunk.lines, chunk.keys
        i_type, i_model, i_completion, i_details = self.shape_cols
        for i, (number, line) in enumerate(block):
            if '"' in line:
                if line.count('"') % 2:
                    # From here the file is read the Python way, as the reader would from this line.
                    from itertools import chain

                    return gateway_csv_items(chain(block[i:], it), self.rows, self.width)
                # A plain one-line record: its cells as the reader splits them (and `row` trims them).
                cells = next(iter(csv_records([(number, line)], self.width)), (None, None))[1]
                if type(cells) is list and len(cells) == self.width:
                    cells = [c.strip() for c in cells]
                    body = "\t".join(cells)
                    if "\\" not in body and "\x00" not in body and body.count("\t") == width1:
                        key = (cells[i_type], cells[i_model], cells[i_completion], cells[i_details])
                        staged.append(f"{number}\t{keys.setdefault(key, len(keys))}\t{body}")
                        kept[number] = line
                        continue
                chunk.odd.append((number, line))
            elif (odd and _odd(line)) or line.count(",") != width1:
                chunk.odd.append((number, line))
            else:
                cells = line.rstrip(_CRLF).split(",")
                key = (cells[i_type], cells[i_model], cells[i_completion], cells[i_details])
                staged.append(f"{number}\t{keys.setdefault(key, len(keys))}\t" + "\t".join(cells))
                kept[number] = line
        return None

    def _python(self, chunk: _Chunk, number: int, line: str) -> None:
        """One complete line the Python way (what the reader makes of it alone: it holds no open quote)."""
        for start, cells in csv_records([(number, line)], self.width):
            chunk.items[start] = Rejected(start, cells) if isinstance(cells, str) else self.rows.row(cells, start)

    def _python_staged(self, chunk: _Chunk, numbers) -> None:
        for number in numbers:
            self._python(chunk, number, chunk.lines[number])

    # -- a chunk -----------------------------------------------------------------------------
    def _store(self, chunk: _Chunk) -> int:
        """Store one chunk in one transaction; returns its items (rows read). A chunk not staged yet
        is staged first, in the same transaction."""
        with transaction.atomic():
            if chunk.fast is None:
                self._stage(chunk)
            return self._store_staged(chunk)

    def _store_staged(self, chunk: _Chunk) -> int:
        for number, line in chunk.odd:  # read here, in order, not in the reading thread
            self._python(chunk, number, line)
        chunk.odd = []
        run = self.run
        state, rejected = run._state(), len(run.rejected)
        seen = None
        with transaction.atomic():
            if not chunk.failed:
                try:
                    with transaction.atomic(), connection.wrap_database_errors:
                        seen = self._store_sql(chunk)
                except DatabaseError:
                    log.exception("ingest %s: the SQL path failed on a chunk; it is read the Python way", run.batch.pk)
                    run._restore(state)
                    del run.rejected[rejected:]
            if seen is None:
                self._python_staged(chunk, list(chunk.lines))
                seen = self._python_items(chunk, list(chunk.items.values()))
        return seen

    def _stage(self, chunk: _Chunk) -> None:
        """The chunk's lines COPYed and typed in temporary tables of this connection, at the start
        of the chunk's transaction (a savepoint). Nothing but those tables is written and no
        stored call is read, so it may run on a second connection while the chunk before is
        stored. Refused: the chunk goes the Python way when stored."""
        chunk.fast, chunk.unread, chunk.twice, chunk.failed = 0, [], [], False
        try:
            with transaction.atomic(), connection.wrap_database_errors, connection.cursor() as cur:
                self._stage_sql(cur, chunk)
        except DatabaseError:
            log.exception("ingest %s: the SQL path failed to stage a chunk; it is read the Python way", self.run.batch.pk)
            chunk.failed = True

    def _python_items(self, chunk: _Chunk, items) -> int:
        run = self.run
        records = []
        for item in sorted(items, key=lambda x: x.line):
            if isinstance(item, Record):
                records.append(item)
            elif isinstance(item, Skipped):
                run.counts["skipped"] += 1
            else:
                run.rejected.append({"line": item.line, "reason": item.reason})
        for i in range(0, len(records), run.chunk):
            run.apply(records[i:i + run.chunk])
        return len(items)

    def _stage_sql(self, cur, chunk: _Chunk) -> None:
        run = self.run
        self._tables(cur)
        # Big one-off statements: compiling them (JIT) costs more than it saves.
        cur.execute("SELECT set_config('jit', 'off', true)")
        # The chunk's joins and sorts in memory (the session's default may be a few MB).
        cur.execute("SELECT set_config('work_mem', '64MB', true) WHERE pg_size_bytes(current_setting('work_mem')) < 64 << 20")
        cur.execute("TRUNCATE _gw_stage, _gw_sk, _gw_shape, _gw_hour, _gw_price, _gw_fast, _gw_cust, _gw_user, "
                    "_gw_taken")
        with cur.cursor.copy("COPY _gw_stage FROM STDIN") as copy:
            for i in range(0, len(chunk.staged), 20000):
                copy.write("\n".join(chunk.staged[i:i + 20000]) + "\n")
        staged = len(chunk.staged)
        chunk.staged = []  # in the database now (`lines` keeps each line, for the Python way): memory back
        # (type, model, completion and details: read through the line's shape number, below)
        c_time, c_rid, c_user, c_token, c_group, _, _, c_use, c_prompt, _, c_cost, _ = (f"s.c{i}" for i in self.cols)
        # The shapes and hours of the chunk, decided in Python once each (and kept for the next
        # chunks, up to a bound: a shape's id is its place in this run's list).
        if len(self.shapes) > _MEMO_LIMIT:
            self.shapes, self.shape_rows, self.prices = {}, [], {}
        chunk.shape_rows, chunk.prices = self.shape_rows, self.prices
        # Each staged line carries its shape's number in the chunk (`sk`, counted as the lines
        # were sorted): the stage is joined to its shape by that integer, not by four texts.
        shape_ids, sks = [], []
        for key, sk in chunk.keys.items():
            sid = self._shape(key)
            if sid is not None:
                shape_ids.append((sid, *key))
                sks.append((sk, sid))
        self._copy(cur, "_gw_sk", sks)
        # Each shape with its rollup key's number (model, family, category, status: `rk`), by
        # which the chunk's rollups are grouped (a shape also has its tokens and details).
        rks: dict[tuple, int] = {}
        shape_table = []
        for sid, t, m, c, d in shape_ids:
            row = chunk.shape_rows[sid]
            shape_table.append((sid, t, m, c, d, *row, rks.setdefault((row[1], row[2], row[6], row[4]), len(rks))))
        self._copy(cur, "_gw_shape", shape_table)
        cur.execute(f"SELECT DISTINCT substr({c_time}, 1, 13) FROM _gw_stage s")
        hours = []
        for (hour,) in cur.fetchall():
            hit = self._hour(hour)
            if hit is not None:
                hours.append((hour, *hit))
        self._copy(cur, "_gw_hour", hours)
        users = ""
        if run.customer is None:
            cur.execute(f"SELECT DISTINCT {c_user} FROM _gw_stage s")
            self._copy(cur, "_gw_user", [(u,) for (u,) in cur.fetchall() if SLUG.fullmatch(u)])
            users = f"JOIN _gw_user gu ON gu.u = {c_user} "
        cur.execute("ANALYZE _gw_sk, _gw_shape, _gw_hour, _gw_user, _gw_ms")
        slug = "%s" if run.customer is not None else c_user
        params = [run.customer.slug] if run.customer is not None else []

        def ascii_text(col, limit, nonempty=False):
            return (f"AND octet_length({col}) = char_length({col}) AND char_length({col}) <= {limit} "
                    f"AND btrim({col}, %s) = {col}" + (f" AND {col} <> ''" if nonempty else ""))

        # The staging rows' filters make the planner expect few rows, and loop: hash joins for the
        # chunk's own rows (until the look-up of stored calls, which probes indexes).
        cur.execute("SELECT current_setting('enable_nestloop'), set_config('enable_nestloop', 'off', true)")
        nestloop = cur.fetchone()[0]
        # The time: its hour (date and hour, checked in Python) and its ":MM:SS" (a table of the
        # 3,600 there are). Each value read once (OFFSET 0: the subquery stays one). Each row's
        # call id is taken here, in line order (after the sort): the key and the call are then
        # joined on it (a row moved to the Python way later leaves a gap in the ids, no more).
        cur.execute(
            f"INSERT INTO _gw_fast SELECT line, slug, request_id, created_at, prompt_tokens, round(cost, 6), "
            f"latency_ms, token_name, grp, shape, bday, nextval(%s) FROM ("
            f"SELECT s.line, {slug} AS slug, {c_rid} AS request_id, h.base + ms.off AS created_at, "
            f"CASE WHEN {c_prompt} ~ '^[0-9]{{1,9}}$' THEN {c_prompt}::int END AS prompt_tokens, "
            f"CASE WHEN {c_cost} ~ '^[$][0-9]{{1,7}}([.][0-9]{{1,12}})?$' "
            f"THEN substr({c_cost}, 2)::numeric END AS cost, "
            f"CASE WHEN {c_use} ~ '^[0-9]{{1,6}}$' THEN {c_use}::int * 1000 END AS latency_ms, "
            f"{c_token} AS token_name, {c_group} AS grp, k.sid AS shape, h.bday, "
            f"{c_prompt} AS p, {c_cost} AS c, {c_use} AS u "
            f"FROM _gw_stage s JOIN _gw_hour h ON h.h = substr({c_time}, 1, 13) "
            f"JOIN _gw_ms ms ON ms.s = substr({c_time}, 14) {users}"
            f"JOIN _gw_sk k ON k.sk = s.sk "
            f"WHERE true {ascii_text(c_token, TEXT_LIMITS['token_name'])} "
            f"{ascii_text(c_group, TEXT_LIMITS['group'])} {ascii_text(c_rid, TEXT_LIMITS['request_id'], True)}"
            f" OFFSET 0) q WHERE created_at >= %s AND created_at <= %s "
            f"AND (p = '' OR prompt_tokens IS NOT NULL) AND (u = '' OR latency_ms IS NOT NULL) "
            f"AND (c = '' OR cost <= 1000000) ORDER BY line",
            [f"{Call._meta.db_table}_id_seq", *params, _ASCII_SPACE, _ASCII_SPACE, _ASCII_SPACE, EARLIEST,
             self.rows.latest],
        )
        chunk.fast = max(cur.rowcount, 0)
        if chunk.fast < staged:  # the rest the Python way (when stored): rejected there, or read as the reader reads them
            cur.execute("SELECT line FROM _gw_stage s WHERE NOT EXISTS "
                        "(SELECT 1 FROM _gw_fast f WHERE f.line = s.line)")
            chunk.unread = [r[0] for r in cur.fetchall()]
        # A request ID twice among the typed rows: all of them go the Python way (when stored).
        cur.execute("SELECT line FROM _gw_fast WHERE (slug, request_id) IN (SELECT slug, request_id FROM _gw_fast "
                    "GROUP BY 1, 2 HAVING count(*) > 1)")
        chunk.twice = [r[0] for r in cur.fetchall()]
        # Prices, per (shape, billing day) of the typed rows.
        cur.execute("SELECT DISTINCT shape, bday FROM _gw_fast")
        self._copy(cur, "_gw_price", [(sid, day, *self._price(chunk, sid, day)) for sid, day in cur.fetchall()])
        cur.execute("SELECT set_config('enable_nestloop', %s, true)", [nestloop])

    def _store_sql(self, chunk: _Chunk) -> int:
        run = self.run
        fast = chunk.fast
        with connection.cursor() as cur:  # (jit and work_mem as the staging set them: the same transaction)
            cur.execute("SELECT current_setting('enable_nestloop'), set_config('enable_nestloop', 'off', true)")
            self._nestloop = cur.fetchone()[0]
            if chunk.unread:
                self._python_staged(chunk, chunk.unread)
            py_records = [item for item in chunk.items.values() if isinstance(item, Record)]
            # Customers in the order their first record comes (as the Python way creates them).
            cur.execute("SELECT slug, min(line) FROM _gw_fast GROUP BY slug")
            firsts = dict(cur.fetchall())
            for rec in py_records:
                if rec.customer_slug not in firsts or rec.line < firsts[rec.customer_slug]:
                    firsts[rec.customer_slug] = rec.line
            for s in sorted(firsts, key=firsts.get):
                run.customer_for(s)
            self._copy(cur, "_gw_cust", [(s, run.customers[s].pk) for s in firsts])
            # A request ID twice in the chunk (found when staged), or also a Python row's: all of
            # them the Python way, in order.
            moved = set(chunk.twice)
            keys = {(r.customer_slug, r.fields["request_id"]) for r in py_records}
            if keys:
                cur.execute("SELECT line FROM _gw_fast WHERE (slug, request_id) IN "
                            "(SELECT * FROM unnest(%s::text[], %s::text[]))",
                            [[k[0] for k in keys], [k[1] for k in keys]])
                moved.update(r[0] for r in cur.fetchall())
            if moved:
                moved = sorted(moved)
                cur.execute("DELETE FROM _gw_fast WHERE line = ANY(%s)", [moved])
                fast -= len(moved)
                self._python_staged(chunk, moved)
            if fast:
                cur.execute("SELECT min(created_at), max(created_at) FROM _gw_fast")
                partitions_for(list(cur.fetchone()), cur=cur, known=run.partitions)
                inserted = self._insert(cur, fast)
            else:
                self._loops(cur)
            if fast and inserted < fast:
                cur.execute("ANALYZE _gw_fast, _gw_cust")  # (_gw_taken: by `_insert`)
                self._stored(cur, chunk, inserted)
        # The Python way's rows of the chunk (their request IDs are none of the SQL rows').
        self._python_items(chunk, list(chunk.items.values()))
        return fast_total(chunk)

    def _insert(self, cur, fast: int) -> int:
        """The new calls: keys first (a key already taken is left alone), then the calls of the keys stored."""
        run = self.run
        fields = list(Call._meta.concrete_fields)
        given = {
            "id": "f.call_id", "customer": "c.id", "request_id": "f.request_id",
            "request_id_synthetic": "false", "created_at": "f.created_at", "model": "sh.model",
            "family": "sh.family", "token_name": "f.token_name", "route": "'gateway'", "group": "f.grp",
            "source": f"'{Source.GATEWAY}'", "log_type": "sh.log_type", "http_status": "sh.http_status",
            "error_text": "sh.d", "prompt_tokens": "f.prompt_tokens", "output_tokens": "sh.output_tokens",
            "images": "sh.images", "latency_ms": "f.latency_ms", "charged_usd": "f.charged_usd",
            "group_ratio": "sh.group_ratio", "category": "sh.category", "reason": "sh.reason",
            "billing_mode": "p.mode",
            "expected_usd": ("CASE WHEN p.priced THEN round(COALESCE(f.prompt_tokens * p.rate * 0.000001, 0) "
                             "+ p.rest, 6) END"),
            "batch": "%s", "ingested_at": "%s",
        }
        select, params = [], []
        for field in fields:
            if field.name in given:
                select.append(given[field.name])
                if given[field.name] == "%s":
                    params.append(run.batch.pk if field.name == "batch" else timezone.now())
            else:
                default = field.get_default()
                if default is None:
                    select.append(f"NULL::{field.db_type(connection)}")
                else:
                    select.append(f"%s::{field.db_type(connection)}")
                    params.append(_sql_default(field, default))
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        call_table, key_table = Call._meta.db_table, CallKey._meta.db_table
        # The keys not stored yet, taken with a plain INSERT: each row's key probed in the unique
        # index first (nested loops over it, for this one statement: an empty or unanalyzed key
        # table would otherwise be scanned once per row, as it grows). ON CONFLICT DO NOTHING would
        # take twice as long (a speculative insertion per key); a key another ingest stores at the
        # same moment fails the statement instead, and the chunk is read the Python way.
        cur.execute("SELECT current_setting('enable_hashjoin'), current_setting('enable_mergejoin'), "
                    "current_setting('enable_seqscan'), set_config('enable_nestloop', 'on', true), "
                    "set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true), "
                    "set_config('enable_seqscan', 'off', true)")
        hashjoin, mergejoin, seqscan = cur.fetchone()[:3]
        cur.execute(
            f"WITH k AS (INSERT INTO {key_table} (request_id, customer_id, call_id, created_at) "
            f"SELECT f.request_id, c.id, f.call_id, f.created_at FROM _gw_fast f JOIN _gw_cust c USING (slug) "
            f"WHERE NOT EXISTS (SELECT 1 FROM {key_table} s WHERE s.request_id = f.request_id "
            f"AND s.customer_id = c.id) RETURNING call_id) INSERT INTO _gw_taken SELECT call_id FROM k")
        cur.execute("SELECT set_config('enable_nestloop', 'off', true), set_config('enable_hashjoin', %s, true), "
                    "set_config('enable_mergejoin', %s, true), set_config('enable_seqscan', %s, true)",
                    [hashjoin, mergejoin, seqscan])
        # The calls of those keys, joined back by call id (an integer: no sort or hash of request
        # IDs), stored in line order.
        cur.execute(
            f"WITH ins AS (INSERT INTO {call_table} ({columns}) SELECT {', '.join(select)} FROM _gw_fast f "
            f"JOIN _gw_taken k ON k.call_id = f.call_id JOIN _gw_cust c USING (slug) "
            f"JOIN _gw_shape sh ON sh.id = f.shape JOIN _gw_price p ON p.shape = f.shape AND p.bday = f.bday "
            f"ORDER BY f.call_id RETURNING id, customer_id, category) "
            f"SELECT category, customer_id, count(*) FROM ins GROUP BY 1, 2",
            params,
        )
        result = cur.fetchall()
        self._loops(cur)  # the rollups' merge probes their indexes
        inserted = sum(n for _, _, n in result)
        if inserted < fast:  # (read by the rollups below and by `_stored`)
            cur.execute("ANALYZE _gw_taken")
        if not result:
            return 0
        for category, _cid, n in result:
            run.categories[category] += n
        run.counts["inserted"] += inserted
        # (looked up on the ingest module, where a bench times it)
        from logs.services import ingest

        customers = {r[1] for r in result}
        # The new calls are the typed rows whose key was taken (every one, when all went in). Not
        # a range of call ids: on two lanes, the Python way's calls of the chunk before may take
        # ids between this chunk's (the sequence is shared, and the two run at once).
        taken = "JOIN _gw_taken t ON t.call_id = f.call_id " if inserted < fast else ""
        # Grouped on narrow values first (customer, hour, rollup key number, API key, latency
        # bucket: a few thousand groups of a chunk's rows), then named.
        relation = (
            "SELECT cu.id AS customer_id, g.h, r.family, r.model, g.token_name, %s::text AS image_size, "
            "r.category, r.http_status, NULL::int AS channel_id, g.b, g.n, g.imgs, g.charged, g.lat_n, g.lat_sum "
            "FROM (SELECT f.slug, DATE_TRUNC('hour', f.created_at AT TIME ZONE 'UTC') AS h, sh.rk, f.token_name, "
            f"{latency_bucket_sql('f.latency_ms')} AS b, COUNT(*) AS n, COALESCE(SUM(sh.images), 0) AS imgs, "
            "SUM(f.charged_usd) AS charged, COUNT(f.latency_ms) AS lat_n, SUM(f.latency_ms) AS lat_sum "
            f"FROM _gw_fast f {taken}JOIN _gw_shape sh ON sh.id = f.shape GROUP BY 1, 2, 3, 4, 5) g "
            "JOIN _gw_cust cu USING (slug) JOIN (SELECT DISTINCT ON (rk) rk, family, model, category, http_status "
            "FROM _gw_shape) r ON r.rk = g.rk")
        ingest.rollups_add_calls(customer_ids=customers,
                                 grouped=(grouped_rows_sql(relation, bucketed=True), [_IMAGE_SIZE]))
        return inserted

    def _stored(self, cur, chunk: _Chunk, inserted: int) -> None:
        """Rows whose call was stored before (the typed rows whose key this chunk did not take): an
        exact duplicate that fills in nothing is counted here (what `_Run._apply` does with it), any
        other the Python way."""
        same = ("date_trunc('second', c.created_at) = f.created_at "
                "AND (c.model = '' OR c.model = f.model) "
                "AND (c.token_name = '' OR f.token_name = '' OR c.token_name = f.token_name) "
                "AND (c.http_status IS NULL OR f.http_status IS NULL OR c.http_status = f.http_status) "
                "AND (c.prompt_tokens IS NULL OR f.prompt_tokens IS NULL OR c.prompt_tokens = f.prompt_tokens) "
                "AND (c.output_tokens IS NULL OR f.output_tokens IS NULL OR c.output_tokens = f.output_tokens) "
                "AND (c.charged_usd IS NULL OR f.charged_usd IS NULL OR c.charged_usd = f.charged_usd)")
        nothing = ("(c.token_name <> '' OR f.token_name = '') AND c.route <> '' "
                   "AND (c.\"group\" <> '' OR f.grp = '') AND c.log_type <> '' "
                   "AND (c.http_status IS NOT NULL OR f.http_status IS NULL) "
                   "AND (c.error_text <> '' OR f.d = '') "
                   "AND (c.prompt_tokens IS NOT NULL OR f.prompt_tokens IS NULL) "
                   "AND (c.output_tokens IS NOT NULL OR f.output_tokens IS NULL) "
                   "AND (c.latency_ms IS NOT NULL OR f.latency_ms IS NULL) "
                   "AND (c.charged_usd IS NOT NULL OR f.charged_usd IS NULL) "
                   "AND (c.group_ratio IS NOT NULL OR f.group_ratio IS NULL)")
        # The chunk's rows first (hash joins), then each one's stored call by its key (index probes).
        cur.execute(
            f"WITH f AS MATERIALIZED (SELECT f.line, f.request_id, f.created_at, f.token_name, f.grp, "
            f"f.prompt_tokens, f.latency_ms, f.charged_usd, cu.id AS customer_id, sh.model, sh.http_status, "
            f"sh.output_tokens, sh.d, sh.group_ratio FROM _gw_fast f JOIN _gw_cust cu USING (slug) "
            f"JOIN _gw_shape sh ON sh.id = f.shape WHERE NOT EXISTS (SELECT 1 FROM _gw_taken t "
            f"WHERE t.call_id = f.call_id)) "
            f"SELECT f.line, ({same}) AND ({nothing}) FROM f CROSS JOIN LATERAL (SELECT c.* FROM "
            f"{CallKey._meta.db_table} k JOIN {Call._meta.db_table} c ON c.id = k.call_id AND c.created_at = k.created_at "
            f"WHERE k.customer_id = f.customer_id AND k.request_id = f.request_id OFFSET 0) c",
        )
        python = []
        duplicates = 0
        for line, plain in cur.fetchall():
            if plain:
                duplicates += 1
            else:
                python.append(line)
        self.run.counts["duplicates"] += duplicates
        self._python_staged(chunk, python)

    def _loops(self, cur) -> None:
        """Nested loops as they were (the session's setting) for the rest of the chunk."""
        cur.execute("SELECT set_config('enable_nestloop', %s, true)", [self._nestloop])

    # -- what is decided once per value ----------------------------------------------------------
    def _shape(self, key: tuple) -> int | None:
        if key in self.shapes:
            return self.shapes[key]
        shape = self.rows.call_shape(*key)
        sid = None
        if shape is not None:
            sid = len(self.shape_rows)
            self.shape_rows.append(shape)
        self.shapes[key] = sid
        return sid

    def _hour(self, hour: str):
        if hour in self.hours:
            return self.hours[hour]
        hit = None
        offset = self.rows._hour_offset(hour) if _HOUR.fullmatch(hour) else False
        if offset is not False:
            base = (dt.datetime.fromisoformat(hour + ":00:00") - offset).replace(tzinfo=UTC)
            day = base.astimezone(self.btz).date()
            if (base + dt.timedelta(minutes=59, seconds=59)).astimezone(self.btz).date() == day:
                hit = (base, day)
        self.hours[hour] = hit
        return hit

    def _price(self, chunk: _Chunk, sid: int, day: dt.date) -> tuple:
        """(mode, priced, rate, rest) of a shape of the chunk (its ids index the chunk's shapes) on a day."""
        key = (sid, day)
        hit = chunk.prices.get(key)
        if hit is None:
            log_type, model, family, output_tokens, http_status, group_ratio, category, reason, images = \
                chunk.shape_rows[sid]
            at = dt.datetime(day.year, day.month, day.day, 12, tzinfo=self.btz)
            price = self.run.catalog.find(family=family or None, model=model, route="gateway", at=at)
            terms = charge_terms(price, family=family or None, category=category, http_status=http_status,
                                 group_ratio=group_ratio, output_tokens=output_tokens, images=images or 0)
            if terms is None:
                hit = (price.billing_mode if price else "", False, None, Decimal(0))
            else:
                hit = (price.billing_mode, True, terms[0], terms[1])
            chunk.prices[key] = hit
        return hit

    # -- tables ------------------------------------------------------------------------------
    def _tables(self, cur) -> None:
        cells = ", ".join(f"c{i} text" for i in range(self.width))
        for sql in (
            f"CREATE TEMP TABLE IF NOT EXISTS _gw_stage (line int, sk int, {cells})",
            "CREATE TEMP TABLE IF NOT EXISTS _gw_sk (sk int, sid int)",
            "CREATE TEMP TABLE IF NOT EXISTS _gw_shape (id int, t text, m text, c text, d text, log_type text, "
            "model text, family text, output_tokens bigint, http_status bigint, group_ratio numeric, category text, "
            "reason text, images bigint, rk int)",
            "CREATE TEMP TABLE IF NOT EXISTS _gw_hour (h text, base timestamptz, bday date)",
            "CREATE TEMP TABLE IF NOT EXISTS _gw_price (shape int, bday date, mode text, priced boolean, "
            "rate numeric, rest numeric)",
            "CREATE TEMP TABLE IF NOT EXISTS _gw_fast (line int, slug text, request_id text, created_at timestamptz, "
            "prompt_tokens int, charged_usd numeric, latency_ms int, token_name text, grp text, shape int, bday date, "
            "call_id bigint)",
            "CREATE TEMP TABLE IF NOT EXISTS _gw_cust (slug text, id bigint)",
            "CREATE TEMP TABLE IF NOT EXISTS _gw_user (u text)",
            "CREATE TEMP TABLE IF NOT EXISTS _gw_taken (call_id bigint)",
            # ":MM:SS" -> that many minutes and seconds
            "CREATE TEMP TABLE IF NOT EXISTS _gw_ms AS SELECT ':' || to_char(m, 'FM00') || ':' || to_char(x, 'FM00') "
            "AS s, make_interval(mins => m, secs => x) AS off FROM generate_series(0, 59) m, generate_series(0, 59) x",
        ):
            cur.execute(sql)

    def drop(self) -> None:
        """The temporary tables go (at the end of the ingest)."""
        try:
            with connection.cursor() as cur:
                cur.execute("DROP TABLE IF EXISTS _gw_stage, _gw_sk, _gw_shape, _gw_hour, _gw_price, _gw_fast, _gw_cust, _gw_user, "
                            "_gw_taken, _gw_ms")
        except DatabaseError:  # the session's end drops them anyway
            pass

    @staticmethod
    def _copy(cur, table: str, rows: list[tuple]) -> None:
        if rows:
            with cur.cursor.copy(f"COPY {table} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)


def lines_per_chunk(chunk: int, *, read_ahead: bool, lanes: bool = False) -> int:
    """Lines per chunk (one transaction): CHUNK_TIMES the run's chunk of records; half that when
    the next chunk is read ahead, since two are in memory at once, and a third on two lanes, three
    (peak memory stays as it was)."""
    return max(CHUNK_TIMES * chunk // (3 if lanes else 2 if read_ahead else 1), 1)


def _lanes_closed(lanes) -> None:
    """Each lane's connection closed (its temporary tables go with it), then its thread."""
    for lane in lanes:
        lane.submit(connections.close_all)
        lane.shutdown(wait=True)


def lanes_usable() -> bool:
    """Whether chunks go on two connections (`GatewaySQL._run_lanes`): `LANES` on, and no transaction
    open on this one, nor autocommit off (a caller's transaction would hide its uncommitted rows
    from the others, and could not take back what they commit)."""
    return LANES and connection.get_autocommit() and not connection.in_atomic_block


class _Stopped(Exception):
    """The chunk before failed, or the ingest stopped: this one is not stored."""


class _Turn:
    """A chunk's place in line: staged, then stored (or failed: the chunks after it stop)."""

    def __init__(self, stop: threading.Event):
        self.staged, self.stored, self.failed, self.stop = threading.Event(), threading.Event(), False, stop

    @classmethod
    def done(cls, stop: threading.Event) -> _Turn:
        turn = cls(stop)
        turn.staged.set()
        turn.stored.set()
        return turn

    def fail(self) -> None:
        self.failed = True
        self.staged.set()
        self.stored.set()

    def wait(self, event: threading.Event) -> None:
        while not event.wait(0.1):
            if self.stop.is_set():
                raise _Stopped
        if self.failed or self.stop.is_set():
            raise _Stopped


def fast_total(chunk: _Chunk) -> int:
    """The rows of a chunk: every staged line is one, and each Python-way item not staged."""
    return len(chunk.lines) + sum(1 for n in chunk.items if n not in chunk.lines)


def _odd(line: str) -> bool:
    """A line the stage cannot take as it is: a tab, a backslash, a NUL, or bytes that are not UTF-8."""
    if "\\" in line or "\t" in line or "\x00" in line:
        return True
    if not line.isascii():
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:
            return True
    return False


def _sql_default(field, value) -> str:
    """A field's default as text, as the COPY path writes it (cast to the column's type in SQL)."""
    from logs.services.calls_copy import _copy_converter

    return _copy_converter(field)(value)

