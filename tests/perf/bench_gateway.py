"""Benchmark: sync a backlog of New API log rows from PostgreSQL, against ingesting the same rows
from a gateway CSV export.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python tests/perf/bench_gateway.py [--rows N]

Target (gateway sources, "Speed"): a backlog of 1,000,000 New API log rows in PostgreSQL syncs
(`gateway sync`: read in bounded batches after the high-water mark, mapped, ingested, each batch
one transaction with its rollups and the mark) at no less than 80% of the rate of `calls_ingest`
of the same rows exported as a gateway CSV (format B, Chinese headers, times in UTC+8).

It builds a gateway database (NBAUDIT_BENCH_GW_DB, default nbaudit_bench_gw_src) with New API's
`logs` table filled by generate_series (Pro per-request and NB2 per-token consume rows, ~3% error
rows with 429/503 text, top-up rows every 5,000; `other` JSON with a request_id, except one row in
ten, keyed `<source>:<id>` then, as the CSV's Request ID says too), COPYs the same rows out as the
CSV, and then, each in a fresh subprocess on an empty, migrated nbaudit database:
  (a) `calls_ingest` of the CSV;  (b) `gateway sync` of the source.
Both print rows/s; the RESULT line gives the ratio (b)/(a) (of the best of --repeat runs each).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.perf.bench_ingest import _admin_conninfo, _bench_url, _django, pg_drop, pg_recreate

NEW_API_LOGS = """CREATE TABLE logs (
    id bigserial PRIMARY KEY, user_id bigint, created_at bigint, type bigint, content text,
    username text DEFAULT '', token_name text DEFAULT '', model_name text DEFAULT '',
    quota bigint DEFAULT 0, prompt_tokens bigint DEFAULT 0, completion_tokens bigint DEFAULT 0,
    use_time bigint DEFAULT 0, is_stream boolean, channel_id bigint, token_id bigint DEFAULT 0,
    "group" text, ip text DEFAULT '', other text)"""

FILL = """
INSERT INTO logs (user_id, username, created_at, type, content, token_name, model_name, quota,
                  prompt_tokens, completion_tokens, use_time, is_stream, channel_id, token_id, "group", ip, other)
SELECT 10 + i % 6,
       (ARRAY['acme','globex','initech','umbrella','hooli','stark'])[1 + i % 6],
       1790000000 + i * 2,
       t,
       CASE WHEN t = 1 THEN '通过兑换码充值 ＄20.000000 额度'
            WHEN t = 5 AND i % 3 = 0 THEN 'status_code=503, The model is overloaded. Please try again later.'
            WHEN t = 5 THEN 'status_code=429, RESOURCE_EXHAUSTED: You exceeded your current quota, please check your plan'
            WHEN pro THEN '模型价格 0.05，分组倍率 1'
            ELSE '模型倍率 0.25，补全倍率 240，分组倍率 1' END,
       (ARRAY['prod-web','prod-api','batch','mobile','staging'])[1 + (i / 7) % 5],
       CASE WHEN t = 1 THEN '' WHEN pro THEN 'gemini-3-pro-image-preview' ELSE 'gemini-3.1-flash-image-preview' END,
       CASE WHEN t = 1 THEN 10000000 WHEN t = 5 THEN 0 WHEN pro THEN 25000
            ELSE ((12 + i % 2400) * 0.5 + comp * 60) / 2 END,
       CASE WHEN t = 1 THEN 0 ELSE 12 + i % 2400 END,
       CASE WHEN t = 2 THEN comp ELSE 0 END,
       6 + i % 70, false, 1 + i % 4, 100 + i % 5, 'default', '', 
       CASE WHEN t = 1 THEN ''
            WHEN i % 10 = 0 THEN json_build_object('model_ratio', 0, 'group_ratio', 1, 'model_price', 0.05)::text
            ELSE json_build_object('model_ratio', 0, 'group_ratio', 1, 'model_price', 0.05,
                                   'request_id', 'req-' || lpad(i::text, 9, '0'))::text END
FROM (SELECT i,
             CASE WHEN i % 5000 = 4999 THEN 1 WHEN (i * 7919) % 100 < 3 THEN 5 ELSE 2 END AS t,
             (i * 31) % 5 < 3 AS pro,
             CASE WHEN (i * 13) % 100 < 3 THEN (i * 17) % 600 ELSE 1120 + (i * 7) % 300 END AS comp
      FROM generate_series(1::bigint, %(rows)s) AS i) g
"""

EXPORT = """COPY (
SELECT to_char(to_timestamp(created_at) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS') AS "时间",
       CASE WHEN type IN (2, 5) THEN COALESCE(other::json->>'request_id', 'bench:' || id) ELSE '' END AS "请求ID",
       username AS "用户", token_name AS "令牌", "group" AS "分组",
       CASE type WHEN 1 THEN '充值' WHEN 2 THEN '消费' WHEN 5 THEN '错误' ELSE type::text END AS "类型",
       model_name AS "模型", use_time AS "用时", prompt_tokens AS "提示", completion_tokens AS "补全",
       quota AS "额度", content AS "详情"
FROM logs ORDER BY id) TO STDOUT (FORMAT csv, HEADER)"""


def build_source(url: str, name: str, rows: int, csv_path: Path) -> float:
    import psycopg

    pg_recreate(url, name)
    with psycopg.connect(_admin_conninfo(_bench_url(url, name)), autocommit=True) as conn:
        conn.execute(NEW_API_LOGS)
        t = time.perf_counter()
        conn.execute(FILL.replace("%(rows)s", str(int(rows))))
        conn.execute("ANALYZE logs")
        with conn.cursor() as cur, csv_path.open("wb") as fh:
            fh.write("\ufeff".encode())
            with cur.copy(EXPORT) as copy:
                for block in copy:
                    fh.write(block)
        return time.perf_counter() - t


def child(args) -> None:
    _django(args.db_url)
    from django.core.management import call_command

    if args.migrate:
        call_command("migrate", verbosity=0)
        print(json.dumps({"migrated": True}))
        return
    profiler = None
    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    if args.what == "csv":
        from logs.services.ingest import calls_ingest

        t0 = time.perf_counter()
        batch = calls_ingest(source=args.file, fmt="gateway")
        seconds = time.perf_counter() - t0
    else:
        from gateways.services.sync import source_save, source_sync

        source, _ = source_save(name="bench", dsn=args.source_dsn)
        t0 = time.perf_counter()
        sync = source_sync(source=source, origin="command")
        seconds = time.perf_counter() - t0
        if sync.error:
            raise SystemExit(sync.error)
        batch = sync.batch
    if profiler:
        profiler.disable()
        profiler.dump_stats(f"{os.environ['BENCH_PROFILE']}.{args.what}")
    s = batch.summary()
    print(json.dumps({"seconds": seconds, "rows": s["rows"], "inserted": s["inserted"],
                      "duplicates": s["duplicates"], "skipped": s["skipped"], "rejected": len(s["rejected"]),
                      "categories": s["categories"]}))


def run_child(args_list: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *args_list], check=False, capture_output=True, text=True,
                         env=os.environ.copy())
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"the subprocess failed (exit {out.returncode})")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=1,
                   help="run (a) and (b) this many times, alternating, and keep each one's best "
                        "(a shared machine's load varies more than the difference measured)")
    p.add_argument("--keep", action="store_true")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--migrate", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--what", help=argparse.SUPPRESS)
    p.add_argument("--file", help=argparse.SUPPRESS)
    p.add_argument("--db-url", help=argparse.SUPPRESS)
    p.add_argument("--source-dsn", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return 0
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        print("needs a PostgreSQL DATABASE_URL (the backlog is built with generate_series)")
        return 0
    src = os.environ.get("NBAUDIT_BENCH_GW_DB", "nbaudit_bench_gw_src")
    dst = os.environ.get("NBAUDIT_BENCH_DB_NAME", "nbaudit_bench_gw")
    tmp = Path(tempfile.mkdtemp(prefix="bench_gateway_"))
    csv_path = tmp / "export.csv"
    try:
        built = build_source(url, src, args.rows, csv_path)
        print(f"built {args.rows:,} New API log rows and their CSV export "
              f"({csv_path.stat().st_size / 2**20:.0f} MB) in {built:.1f} s")
        results = {}
        for _ in range(max(args.repeat, 1)):
            for what in ("csv", "sync"):
                pg_recreate(url, dst)
                db = _bench_url(url, dst)
                run_child(["--migrate", "--db-url", db])
                r = run_child(["--what", what, "--db-url", db, "--file", str(csv_path),
                               "--source-dsn", _bench_url(url, src)])
                label = "(a) calls_ingest of the CSV export" if what == "csv" else "(b) gateway sync from PostgreSQL"
                print(f"{label}: {r['seconds']:8.2f} s  {r['rows'] / r['seconds']:9,.0f} rows/s   "
                      f"inserted {r['inserted']:,}  skipped {r['skipped']:,}  rejected {r['rejected']:,}", flush=True)
                if what not in results or r["seconds"] < results[what]["seconds"]:
                    results[what] = r
        a, b = results["csv"], results["sync"]
        same = (a["inserted"], a["skipped"], a["categories"]) == (b["inserted"], b["skipped"], b["categories"])
        ratio = (b["rows"] / b["seconds"]) / (a["rows"] / a["seconds"])
        print(f"same calls from both: {'yes' if same else 'NO'}  categories {b['categories']}")
        print(f"RESULT rows={args.rows} csv_rows_per_s={a['rows'] / a['seconds']:.0f} "
              f"sync_rows_per_s={b['rows'] / b['seconds']:.0f} ratio={ratio:.2f} "
              f"target(>=0.80)={'met' if ratio >= 0.8 else 'NOT met'}")
        return 0 if same else 1
    finally:
        if not args.keep:
            pg_drop(url, src)
            pg_drop(url, dst)
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
