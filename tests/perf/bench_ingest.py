"""Benchmark: ingest a 1,000,000-row gateway export (CSV) on PostgreSQL, against a bare COPY.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python tests/perf/bench_ingest.py [--rows N]

Target (speed): `calls_ingest` of the file (parsed, classified, priced, stored with every
index of the call table, rollups kept in each chunk's transaction, idempotent) takes no more than 3 times a bare
`COPY ... FROM STDIN (FORMAT csv, HEADER)` of the same file into a plain table of text columns,
with peak memory under 300 MB.

It writes a realistic export (Chinese headers, a UTF-8 BOM; Pro per-request and NB2 per-token
consume rows, ~3% text refusals and empty outputs, ~3% error rows with 429/503 text, a few
top-up rows, unique request IDs, times over a month, naive UTC+8) to a temporary file, creates
a dedicated database (NBAUDIT_BENCH_DB_NAME, default nbaudit_bench_ingest; dropped at the end
unless --keep), migrates it, then:

  (a) COPY of the file into a plain table of text columns (psycopg 3, streamed);
  (b) `calls_ingest` of the file into the empty call table, in a fresh subprocess, whose peak
      RSS (ru_maxrss) is the memory figure; the baseline RSS after `django.setup()` is shown too;
  (c) a second `calls_ingest` of the same file (idempotency: 0 inserted), also a subprocess; its
      ratio to (b) is the re-ingest figure (target: at most 2x).

Each ingest also prints the CPU seconds of both ends (the ingest process, and its PostgreSQL
backends: its own and its two lanes', read from /proc: the server is local), and (b) their sum against the bare COPY's: on a
machine shared with other work the wall-clock ratio swings several times over, the CPU one far
less. The COPY is timed again after the ingest and the best of all is used.
`--no-read-ahead` and `--rollups-in-python` turn off the read-ahead thread and the rollups summed
in SQL, `--one-lane` the SQL path's second connection (each chunk staged and stored on one),
`--python-way` the SQL path for gateway CSV (logs.services.ingest_sql) (A/B runs); `--profile` writes a cProfile of (b) (main thread only: add --no-read-ahead).

Without DATABASE_URL, or with --sqlite, it runs on a throwaway SQLite file instead (no COPY, no
ratio): the demo path.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/postgres"

HEADER = ["时间", "请求ID", "用户", "令牌", "分组", "类型", "模型", "用时", "提示", "补全", "花费", "详情"]
PRO = "gemini-3-pro-image-preview"
NB2 = "gemini-3.1-flash-image-preview"
USERS = ["acme", "globex", "initech", "umbrella", "hooli", "stark"]
TOKENS = ["prod-web", "prod-api", "batch", "mobile", "staging"]
START = dt.datetime(2026, 10, 1)  # naive, UTC+8 as the export writes it
MONTH_SECONDS = 31 * 86400


# --- data -------------------------------------------------------------------------------------

def _csv_cell(value: str) -> str:
    if any(ch in value for ch in ',"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value


def write_export(path: Path, rows: int, seed: int = 20261001) -> dict:
    """A gateway export of `rows` data rows; returns the mix written."""
    rnd = random.Random(seed)
    mix = {"pro": 0, "nb2": 0, "refusal_or_empty": 0, "error": 0, "topup": 0}
    step = MONTH_SECONDS / max(rows, 1)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        fh.write(",".join(HEADER) + "\r\n")
        out = []
        for i in range(rows):
            at = (START + dt.timedelta(seconds=int(i * step))).strftime("%Y-%m-%d %H:%M:%S")
            user = USERS[rnd.randrange(len(USERS))]
            token = TOKENS[rnd.randrange(len(TOKENS))]
            group = "vip" if user == "stark" else "default"
            ratio = "1.2" if group == "vip" else "1"
            use_time = str(rnd.randint(6, 75))
            prompt = str(rnd.randint(12, 2400))
            rid = f"gw-{i:08d}-{rnd.getrandbits(32):08x}"
            r = rnd.random()
            if i % 5000 == 4999:
                mix["topup"] += 1
                row = [at, "", user, token, group, "充值", "", "0", "", "", "$20.000000", "通过兑换码充值 $20"]
            elif r < 0.03:
                mix["error"] += 1
                model = PRO if rnd.random() < 0.65 else NB2
                if rnd.random() < 0.7:
                    details = "status_code=429, RESOURCE_EXHAUSTED: You exceeded your current quota, please check your plan"
                else:
                    details = "status_code=503, The model is overloaded. Please try again later."
                row = [at, rid, user, token, group, "错误", model, use_time, "0", "0", "$0.000000", details]
            else:
                pro = rnd.random() < 0.6
                model = PRO if pro else NB2
                mix["pro" if pro else "nb2"] += 1
                if r < 0.06:  # a text refusal, or an empty output
                    mix["refusal_or_empty"] += 1
                    completion = str(rnd.randint(60, 600)) if rnd.random() < 0.7 else rnd.choice(["0", ""])
                else:
                    completion = str(rnd.choice([1120, 1120, 1120, 1680, 2000, 2520]) + rnd.randint(0, 300))
                if pro:
                    cost = f"${0.05 * float(ratio):.6f}"
                    details = f"模型价格 0.05，分组倍率 {ratio}"
                else:
                    out_tokens = int(completion or 0)
                    usd = (int(prompt) * 0.5 + out_tokens * 60) / 1_000_000 * float(ratio)
                    cost = f"${usd:.6f}"
                    details = f"模型倍率 0.25，补全倍率 240，分组倍率 {ratio}"
                row = [at, rid, user, token, group, "消费", model, use_time, prompt, completion, cost, details]
            out.append(",".join(_csv_cell(c) for c in row))
            if len(out) >= 10000:
                fh.write("\r\n".join(out) + "\r\n")
                out = []
        if out:
            fh.write("\r\n".join(out) + "\r\n")
    return mix


# --- databases --------------------------------------------------------------------------------

def _admin_conninfo(url: str) -> str:
    import dj_database_url

    cfg = dj_database_url.parse(url)
    parts = {"host": cfg.get("HOST") or "", "port": str(cfg.get("PORT") or ""), "user": cfg.get("USER") or "",
             "password": cfg.get("PASSWORD") or "", "dbname": cfg.get("NAME") or "postgres"}
    return " ".join(f"{k}='{v}'" for k, v in parts.items() if v)


def _bench_url(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def pg_recreate(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(_admin_conninfo(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def pg_drop(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(_admin_conninfo(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _timed_copy(conn, path: Path, create: list[str]) -> float:
    """Seconds of a COPY of the rows in `path` into a new table `bench_calls` made by `create`."""
    conn.execute("DROP TABLE IF EXISTS bench_calls")
    for sql in create:
        conn.execute(sql)
    conn.commit()
    t0 = time.perf_counter()
    with conn.cursor() as cur:
        with cur.copy("COPY bench_calls FROM STDIN") as copy, path.open("rb") as fh:
            while block := fh.read(1 << 20):
                copy.write(block)
    conn.commit()
    return time.perf_counter() - t0


def pg_call_floor(bench_url: str, tmp: Path) -> tuple[float, float, int, float]:
    """What the database alone takes to store the ingested calls: their rows (COPY TO a file)
    COPYed again into a copy of the call table with all its indexes, and with none; and their
    keys into a copy of the key table (CallKey, with its primary key).
    (seconds with indexes, seconds without, index count, seconds of the keys)."""
    import psycopg

    dump, keys = tmp / "calls.copy", tmp / "keys.copy"
    with psycopg.connect(_admin_conninfo(bench_url)) as conn:
        for query, path in (("SELECT * FROM logs_call", dump), ("SELECT * FROM logs_callkey", keys)):
            with conn.cursor() as cur, path.open("wb") as fh:
                with cur.copy(f"COPY ({query}) TO STDOUT") as copy:  # partitioned: a query
                    for block in copy:
                        fh.write(block)
        indexes = conn.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'logs_call'").fetchone()[0]
        times = [_timed_copy(conn, path, [f"CREATE TABLE bench_calls (LIKE {table} {like})"])
                 for table, like, path in (("logs_call", "INCLUDING ALL", dump),
                                           ("logs_call", "INCLUDING DEFAULTS", dump),
                                           ("logs_callkey", "INCLUDING ALL", keys))]
        conn.execute("DROP TABLE bench_calls")
        conn.commit()
    dump.unlink()
    keys.unlink()
    return times[0], times[1], indexes, times[2]


def pg_index_costs(bench_url: str, tmp: Path) -> list[tuple[str, float]]:
    """What each index of the call table costs to keep while its rows are stored: the ingested
    calls COPYed again into a copy of the call table with that one index, less the same COPY
    with none. [(index name, seconds)], and ("(none)", the COPY without an index) first."""
    import psycopg

    dump = tmp / "calls.copy"
    with psycopg.connect(_admin_conninfo(bench_url)) as conn:
        with conn.cursor() as cur, dump.open("wb") as fh:
            with cur.copy("COPY (SELECT * FROM logs_call) TO STDOUT") as copy:
                for block in copy:
                    fh.write(block)
        indexes = conn.execute("SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                               "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'logs_call'::regclass "
                               "ORDER BY 1").fetchall()

        def timed(index_sql: str | None) -> float:
            return _timed_copy(conn, dump, ["CREATE TABLE bench_calls (LIKE logs_call INCLUDING DEFAULTS)",
                                            *([index_sql] if index_sql else [])])

        bare = min(timed(None) for _ in range(2))
        out = [("(none)", bare)]
        for name, definition in indexes:
            # "CREATE [UNIQUE] INDEX name ON [ONLY] public.logs_call USING ..." -> on the copy
            head, _, rest = definition.partition(" ON ")
            rest = rest.split(" USING ", 1)[1]
            out.append((name, timed(f"{head.replace(name, 'bench_' + name)} ON bench_calls USING {rest}") - bare))
        conn.execute("DROP TABLE bench_calls")
        conn.commit()
    dump.unlink()
    return out


def pg_copy(bench_url: str, path: Path) -> tuple[float, int, float]:
    """A bare COPY of the file into a plain table of text columns: (seconds, rows, CPU seconds of
    both ends: this process and its backend)."""
    import psycopg

    cols = ", ".join(f"c{i} text" for i in range(len(HEADER)))
    with psycopg.connect(_admin_conninfo(bench_url)) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy")
        conn.execute(f"CREATE TABLE bench_copy ({cols})")
        conn.commit()
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        server0, t0, cpu0 = _pid_cpu(pid), time.perf_counter(), time.process_time()
        with conn.cursor() as cur:
            with cur.copy("COPY bench_copy FROM STDIN (FORMAT csv, HEADER)") as copy:
                with path.open("rb") as fh:
                    while block := fh.read(1 << 20):
                        copy.write(block)
            conn.commit()
        elapsed = time.perf_counter() - t0
        server1 = _pid_cpu(pid)
        cpu = time.process_time() - cpu0 + (server1 - server0 if server0 is not None else 0)
        rows = conn.execute("SELECT count(*) FROM bench_copy").fetchone()[0]
        conn.execute("DROP TABLE bench_copy")
        conn.commit()
    return elapsed, rows, cpu


# --- the ingest, in a fresh process -----------------------------------------------------------

def _django(db_url: str | None, sqlite_path: str | None = None) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "nbaudit.settings_test"
    if db_url:
        os.environ["DATABASE_URL"] = db_url
    else:
        os.environ.pop("DATABASE_URL", None)
        os.environ["NBAUDIT_DATA_DIR"] = sqlite_path
    import django

    django.setup()


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _pid_cpu(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _backend_cpu() -> float | None:
    """CPU seconds used so far by this process's PostgreSQL backend (a local server), or None."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        return _pid_cpu(cur.fetchone()[0])


def _lanes_cpu_kept() -> dict:
    """The SQL path's lanes' backends: pid -> CPU seconds, read after each chunk a lane stores (its
    connection closes with the ingest; a lane's backend is new, so what it used is the ingest's)."""
    from django.db import connection

    import logs.services.ingest_sql as ingest_sql

    kept: dict[int, float] = {}
    real = ingest_sql.GatewaySQL._lane

    def lane(self, chunk, before, turn):
        try:
            return real(self, chunk, before, turn)
        finally:
            raw = connection.connection
            if raw is not None and not raw.closed:
                cpu = _pid_cpu(raw.info.backend_pid)
                if cpu is not None:
                    kept[raw.info.backend_pid] = cpu

    ingest_sql.GatewaySQL._lane = lane
    return kept


def child(args) -> None:
    """Run one ingest; print one JSON line with the figures."""
    _django(args.db_url, args.data_dir)
    from django.core.management import call_command

    if args.migrate:
        call_command("migrate", verbosity=0)
        print(json.dumps({"migrated": True}))
        return
    import logs.services.ingest as ingest

    base = rss_mb()
    ingest.READ_AHEAD = not args.no_read_ahead
    ingest.ROLLUPS_IN_SQL = not args.rollups_in_python
    ingest.GATEWAY_SQL = not args.python_way
    if args.one_lane:
        import logs.services.ingest_sql as ingest_sql

        ingest_sql.LANES = False
    lanes_cpu = _lanes_cpu_kept()  # (none on SQLite: no SQL path)
    server = _backend_cpu()
    spent = {"rollups": 0.0}

    def timed(fn):  # each chunk's rollups, in the chunk's transaction
        def run(**kw):
            t = time.perf_counter()
            try:
                return fn(**kw)
            finally:
                spent["rollups"] += time.perf_counter() - t
        return run

    for name in ("rollups_apply", "rollups_add_calls"):  # (the second: not in older code, for A/B runs)
        if hasattr(ingest, name):
            setattr(ingest, name, timed(getattr(ingest, name)))
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t0, cpu0 = time.perf_counter(), time.process_time()
    batch = ingest.calls_ingest(source=args.file, fmt="gateway")
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    server_cpu = (_backend_cpu() - server + sum(lanes_cpu.values())) if server is not None else None
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)
    s = batch.summary()
    print(json.dumps({
        "seconds": elapsed, "cpu_seconds": cpu, "server_cpu_seconds": server_cpu, "rollups_seconds": spent["rollups"], "base_rss_mb": base, "peak_rss_mb": rss_mb(),
        "rows": s["rows"], "inserted": s["inserted"], "duplicates": s["duplicates"], "conflicts": s["conflicts"],
        "skipped": s["skipped"], "rejected": len(s["rejected"]), "categories": s["categories"],
    }))


def run_child(file: Path, db_url: str | None, data_dir: str | None, *, migrate=False, profile=None,
              options=()) -> dict:
    cmd = [sys.executable, __file__, "--child", "--file", str(file), *options]
    if db_url:
        cmd += ["--db-url", db_url]
    if data_dir:
        cmd += ["--data-dir", data_dir]
    if migrate:
        cmd.append("--migrate")
    if profile:
        cmd += ["--profile", profile]
    out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"the ingest subprocess failed (exit {out.returncode})")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- main -------------------------------------------------------------------------------------

def _fmt_ingest(label: str, r: dict, copy_s: float | None, first: dict | None = None) -> None:
    ratio = f"   ratio to COPY {r['seconds'] / copy_s:5.2f}x" if copy_s else ""
    server = f", its database backends {r['server_cpu_seconds']:.2f} s" if r.get("server_cpu_seconds") else ""
    if first:
        ratio += f"   ratio to the first ingest {r['seconds'] / first['seconds']:4.2f}x"
    print(f"{label}: {r['seconds']:8.2f} s  {r['rows'] / r['seconds']:9,.0f} rows/s  "
          f"(CPU: ingest process {r['cpu_seconds']:.2f} s{server}){ratio}")
    print(f"    rows {r['rows']:,}  inserted {r['inserted']:,}  duplicates {r['duplicates']:,}  "
          f"conflicts {r['conflicts']:,}  skipped {r['skipped']:,}  rejected {r['rejected']:,}")
    print(f"    of which rollup refresh {r['rollups_seconds']:.2f} s;  peak RSS {r['peak_rss_mb']:.0f} MB "
          f"(after django.setup {r['base_rss_mb']:.0f} MB)")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--file", help="use this export instead of generating one")
    p.add_argument("--keep", action="store_true", help="keep the bench database and the file")
    p.add_argument("--profile", help="write a cProfile of the first ingest to this path")
    p.add_argument("--no-read-ahead", action="store_true",
                   help="read the input in the ingest's own thread (logs.services.ingest.READ_AHEAD off)")
    p.add_argument("--rollups-in-python", action="store_true",
                   help="sum the new calls' rollups in Python (logs.services.ingest.ROLLUPS_IN_SQL off)")
    p.add_argument("--python-way", action="store_true",
                   help="read every row in Python (logs.services.ingest.GATEWAY_SQL off: the path before the SQL one)")
    p.add_argument("--index-costs", action="store_true",
                   help="also time the COPY of the stored calls with each index of the call table alone")
    p.add_argument("--one-lane", action="store_true",
                   help="stage and store each chunk on the ingest's own connection (logs.services.ingest_sql.LANES off)")
    p.add_argument("--sqlite", action="store_true", help="run on a throwaway SQLite file even with DATABASE_URL")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--migrate", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--db-url", help=argparse.SUPPRESS)
    p.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return 0

    url = None if args.sqlite else os.environ.get("DATABASE_URL")
    options = [o for o, on in (("--no-read-ahead", args.no_read_ahead), ("--rollups-in-python", args.rollups_in_python),
                               ("--python-way", args.python_way), ("--one-lane", args.one_lane)) if on]
    name = os.environ.get("NBAUDIT_BENCH_DB_NAME", "nbaudit_bench_ingest")
    tmp = Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    file = Path(args.file) if args.file else tmp / "gateway_export.csv"
    try:
        if not args.file:
            t = time.perf_counter()
            mix = write_export(file, args.rows)
            print(f"generated {args.rows:,} rows ({file.stat().st_size / 2**20:.0f} MB) in "
                  f"{time.perf_counter() - t:.1f} s: {mix}")
        if url and url.startswith("postgres"):
            bench_url = _bench_url(url, name)
            pg_recreate(url, name)
            run_child(file, bench_url, None, migrate=True)
            copies = [pg_copy(bench_url, file) for _ in range(3)]  # a shared machine: the best of 3
            copy_s, copied, copy_cpu = min(copies)
            print(f"(a) COPY into a text table: {copy_s:8.2f} s  {copied / copy_s:9,.0f} rows/s  ({copied:,} rows; "
                  f"best of {', '.join(f'{c[0]:.2f}' for c in copies)} s)")
            data_dir = None
        else:
            print("no PostgreSQL DATABASE_URL: SQLite (the demo path), no COPY to compare with")
            bench_url, copy_s, copy_cpu, data_dir = None, None, None, str(tmp / "data")
            os.makedirs(data_dir, exist_ok=True)
            run_child(file, None, data_dir, migrate=True)
        first = run_child(file, bench_url, data_dir, profile=args.profile, options=options)
        if copy_s:  # the machine is shared: the COPY again, after the ingest, and the best of all
            again = [pg_copy(bench_url, file) for _ in range(2)]
            copy_s = min([copy_s] + [c[0] for c in again])
            print(f"    COPY again after the ingest: {', '.join(f'{c[0]:.2f}' for c in again)} s; "
                  f"ratios below use the best, {copy_s:.2f} s")
        _fmt_ingest("(b) calls_ingest, empty table", first, copy_s)
        if copy_cpu and first.get("server_cpu_seconds") is not None:
            used = first["cpu_seconds"] + first["server_cpu_seconds"]
            print(f"    CPU used, both ends: ingest {used:.2f} s, bare COPY {copy_cpu:.2f} s: {used / copy_cpu:.2f}x "
                  f"(steadier than wall time on a shared machine)")
        if bench_url:
            with_idx, without_idx, n_idx, keys_s = pg_call_floor(bench_url, tmp)
            print(f"    the database alone, storing those calls: COPY into a copy of the call table with its "
                  f"{n_idx} indexes {with_idx:.2f} s ({with_idx / copy_s:.2f}x the bare COPY), "
                  f"without indexes {without_idx:.2f} s (no foreign keys in either); their keys (CallKey) "
                  f"{keys_s:.2f} s; calls with indexes and keys {with_idx + keys_s:.2f} s "
                  f"({(with_idx + keys_s) / copy_s:.2f}x the bare COPY)")
            if args.index_costs:
                costs = pg_index_costs(bench_url, tmp)
                print(f"    each index's cost to storing the calls (COPY with it alone, less {costs[0][1]:.2f} s "
                      f"without any): " + ", ".join(f"{n} {c:+.2f} s" for n, c in costs[1:]))
            print(f"    the floor of any design that stores these rows and their keys: with no index on the "
                  f"call table {without_idx + keys_s:.2f} s ({(without_idx + keys_s) / copy_s:.2f}x the bare COPY); "
                  f"the ingest took {first['seconds'] / (with_idx + keys_s):.2f}x the database's own time to store "
                  f"its calls with today's indexes and keys")
        second = run_child(file, bench_url, data_dir, options=options)
        _fmt_ingest("(c) calls_ingest again (idempotent)", second, copy_s, first)
        ok = second["inserted"] == 0 and second["duplicates"] == first["inserted"] and first["conflicts"] == 0
        print(f"idempotent: {'yes' if ok else 'NO'}  categories: {first['categories']}")
        if copy_s:
            ratio = first["seconds"] / copy_s
            again = second["seconds"] / first["seconds"]
            target = ratio <= 3 and first["peak_rss_mb"] < 300 and again <= 2
            print(f"RESULT rows={first['rows']} copy_s={copy_s:.2f} ingest_s={first['seconds']:.2f} "
                  f"ratio={ratio:.2f} reingest_s={second['seconds']:.2f} reingest_ratio={again:.2f} "
                  f"peak_mb={max(first['peak_rss_mb'], second['peak_rss_mb']):.0f} "
                  f"rows_per_s={first['rows'] / first['seconds']:,.0f} "
                  f"target(<=3x, re-ingest <=2x, <300MB)={'met' if target else 'NOT met'}")
        else:
            print(f"RESULT sqlite rows={first['rows']} ingest_s={first['seconds']:.2f} "
                  f"reingest_s={second['seconds']:.2f} reingest_ratio={second['seconds'] / first['seconds']:.2f} "
                  f"peak_mb={max(first['peak_rss_mb'], second['peak_rss_mb']):.0f} "
                  f"rows_per_s={first['rows'] / first['seconds']:,.0f}")
        return 0 if ok else 1
    finally:
        if not args.keep:
            if url and url.startswith("postgres"):
                pg_drop(url, name)
            if not args.file:
                file.unlink(missing_ok=True)
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept: database {name}, file {file}")


if __name__ == "__main__":
    sys.exit(main())
