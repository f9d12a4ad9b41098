"""Benchmark: flat costs. The same work on a call table of 5,000,000 and of 20,000,000 calls.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python tests/perf/bench_flat.py \
        [--sizes 5000000,20000000] [--rebuild] [--repeat 15] [--no-ingest] [--no-export]

For each size a PostgreSQL database of its own (nb_bench_5m, nb_bench_20m: NBAUDIT_BENCH_FLAT_PREFIX,
default nb_bench_) is built once and reused by later runs (--rebuild builds it again; it is
rebuilt by itself when the project's migrations changed since). Building migrates it with the
project's own migrations (so it has whatever schema, indexes and partitions main has), then
fills it with SQL only: INSERT ... SELECT generate_series with the call table's secondary
indexes dropped and made again after (their definitions read back from the catalog), and the
hourly rollups in one INSERT ... SELECT (bench_dashboard.rollups_sql), the coarse ones from them
(bench_dashboard.coarse_sql), staff's all-customers ones from those and the daily ones of
both (bench_dashboard.derived_fill).

The data: 20 customers over 4 months (120 days up to the build), the failure mix of
bench_dashboard (85 % success, the rest spread over the domain's categories), three models,
four API keys, five image sizes; and one customer-month of exactly 1,000,000 calls (customer
flat-00, the last full billing month): the same tally work at both sizes. Figures (ms unless
said; each the p95 over --repeat requests through django.test.Client, server time):

  - Logs page, first page and 100 pages deep, for each single filter, as flat-01's user;
  - Overview, last 30 days, computed afresh each time (a new cache key): flat-01's user, and
    staff "all customers";
  - tally_compute of flat-00's 1,000,000-call month (s);
  - export_write of 7 days of flat-00's calls (rows/s);
  - calls_ingest of 1,000,000 more rows (bench_ingest's export; s), into a copy of the database
    made for it (CREATE DATABASE ... TEMPLATE, a file copy) and dropped after: every run's ingest
    meets the database as built. (Deleting the rows again left the indexes' pages they had split
    half empty, so a second run's ingest filled those instead of splitting: 115 s, then 76 s.)

Then the ratio of each figure at the biggest size to the smallest. Goal: every ratio at most
1.25, with Logs < 100 ms and the Overview < 200 ms (customer and staff). Prints; asserts nothing.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/postgres"
CUSTOMERS = 20
DAYS = 120
BIG_MONTH_CALLS = 1_000_000
CHUNK = 1_000_000
FILTERS = [
    ("no filter", ""),
    ("failed only", "failed=on"),
    ("category=rate_limited", "category=rate_limited"),
    ("category=auth_error (rare)", "category=auth_error"),
    ("model=nb2 (family)", "model=nb2"),
    ("model=gemini-3.1-flash-lite-image", "model=gemini-3.1-flash-lite-image"),
    ("token_name=key-2", "token_name=key-2"),
    ("http_status=503", "http_status=503"),
    ("http_status=401 (rare)", "http_status=401"),
    ("range=last 7 days", "range=7d"),
    ("range=last month", "range=last_month"),
]


# --- the child: one database ---------------------------------------------------------------------

def _setup():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nbaudit.settings_test")
    os.environ.setdefault("NBAUDIT_ALLOWED_HOSTS", "testserver")
    import django

    django.setup()


def calls_sql(*, first: int, count: int, n: int, cust: str, prefix: str) -> str:
    """Calls first..first+count-1 of n spread evenly over [%(start)s, %(start)s + %(span)s s),
    each to one of the customers in the SQL array `cust`; the mix of bench_dashboard."""
    from bench_dashboard import CATEGORY_SQL, STATUS_SQL

    return f"""
INSERT INTO logs_call (customer_id, request_id, request_id_synthetic, created_at, model, family,
    token_name, route, "group", source, log_type, http_status, finish_reason, block_reason,
    finish_message, error_text, prompt_tokens, output_tokens, images, drafts, image_size,
    latency_ms, charged_usd, billing_mode, expected_usd, category, reason, prompt_fingerprint,
    prompt, channel_id, ingested_at)
SELECT cust[1 + cx %% array_length(cust, 1)], '{prefix}' || i, false,
       %(start)s::timestamptz + ((i::bigint * %(span)s / {n}) || ' seconds')::interval,
       CASE WHEN m < 6 THEN 'gemini-3-pro-image-preview' WHEN m < 9 THEN 'gemini-3.1-flash-image'
            ELSE 'gemini-3.1-flash-lite-image' END,
       CASE WHEN m < 6 THEN 'pro' WHEN m < 9 THEN 'nb2' ELSE 'nb2_lite' END,
       'key-' || tk, 'gateway', 'default', 'calls', '', {STATUS_SQL}, '', '', '', '',
       40, CASE WHEN cat = 'success' THEN 1120 ELSE 0 END, CASE WHEN cat = 'success' THEN 1 ELSE 0 END,
       CASE WHEN m < 6 AND i %% 3 = 0 THEN 1 ELSE 0 END,
       (ARRAY['1K', '1K', '2K', '4K', '512'])[1 + sz],
       CASE WHEN m < 6 THEN 20000 + (h * 97) %% 90000 ELSE 4000 + (h * 31) %% 16000 END,
       CASE WHEN cat IN ('success', 'image_blocked', 'no_image', 'text_refusal', 'empty_output',
                         'no_charge', 'prompt_blocked') AND m < 6 THEN 0.05
            WHEN cat = 'success' THEN 0.067 ELSE 0 END,
       CASE WHEN m < 6 THEN 'per_request' ELSE 'per_token' END, NULL, cat,
       'bench: ' || cat, '', '', 1 + (cx + m) %% 6, now()
FROM (
  SELECT i, (i * 2654435761::bigint) %% 1000 AS h, ((i * 69069::bigint + 1) / 1024) %% 10 AS m,
         ((i * 1103515245::bigint + 12345) / 65536) %% 1000 AS cx,
         ((i * 16807::bigint) / 8192) %% 4 AS tk, ((i * 48271::bigint) / 4096) %% 5 AS sz,
         {cust} AS cust
  FROM generate_series({first}, {first + count - 1}) AS i
) s, LATERAL (SELECT {CATEGORY_SQL} AS cat) c
"""


def _fingerprint() -> str:
    """The migrations applied: a database built under other migrations is built again."""
    from django.db.migrations.recorder import MigrationRecorder

    rows = MigrationRecorder.Migration.objects.order_by("app", "name").values_list("app", "name")
    return ",".join(f"{a}.{n}" for a, n in rows)


def _big_month(today: dt.date) -> dt.date:
    """The last full billing month before `today`."""
    first = today.replace(day=1)
    return (first - dt.timedelta(days=1)).replace(day=1)


def build(size: int, *, rebuild: bool) -> dict:
    from bench_dashboard import derived_fill, rollups_sql
    from django.core.management import call_command
    from django.db import connection, transaction

    from logs.models import Customer, User
    from logs.timeutil import billing_tz, month_range

    call_command("migrate", verbosity=0)
    fp = _fingerprint()
    with connection.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS bench_flat_meta (size bigint, built_at timestamptz, "
                    "migrations text, big_month date, seconds double precision)")
        cur.execute("SELECT size, built_at, migrations, big_month, seconds FROM bench_flat_meta")
        meta = cur.fetchone()
    if meta and not rebuild and meta[0] == size and meta[2] == fp:
        return {"reused": True, "built_at": meta[1].isoformat(), "big_month": meta[3].isoformat(),
                "build_seconds": meta[4]}
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("TRUNCATE logs_call, logs_callkey, logs_hourlyrollup, logs_coarserollup, logs_coarsechannelrollup, "
                    "logs_allcustomersrollup, logs_allcustomerschannelrollup, logs_allcustomersstale, "
                    "logs_allcustomersdailyrollup, logs_allcustomersdailychannelrollup, logs_coarsedailyrollup, "
                    "logs_coarsedailychannelrollup, "
                    "logs_rollupversion, bench_flat_meta CASCADE")
        cur.execute("SET synchronous_commit = off")
        cur.execute("SET maintenance_work_mem = '512MB'")
    customers = []
    for k in range(CUSTOMERS):
        c, _ = Customer.objects.update_or_create(
            slug=f"flat-{k:02d}", defaults={"name": f"Flat {k:02d}", "enrolled_from": dt.date(2026, 1, 1)})
        customers.append(c)
    if not User.objects.filter(username="flat-user").exists():
        User.objects.create_user("flat-user", password="bench-pass-1", customer=customers[1])
        User.objects.create_user("flat-big", password="bench-pass-1", customer=customers[0])
        User.objects.create_user("flat-staff", password="bench-pass-1", is_staff=True)
    end = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    start = end - dt.timedelta(days=DAYS)
    big_month = _big_month(end.date())
    m_start, m_end = month_range(big_month)
    # the call table's secondary indexes: dropped while filling, made again after (faster); their
    # definitions are kept in a table first, so that a build cut short gets them back next time
    with connection.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS bench_flat_indexes (name text PRIMARY KEY, definition text)")
        cur.execute("""INSERT INTO bench_flat_indexes SELECT i.indexname, i.indexdef FROM pg_indexes i
                       WHERE i.tablename = 'logs_call' AND i.schemaname = current_schema()
                         AND i.indexname NOT IN (SELECT conname FROM pg_constraint)
                       ON CONFLICT DO NOTHING""")
        cur.execute("SELECT name, definition FROM bench_flat_indexes ORDER BY name")
        indexes = cur.fetchall()
        for name, _ in indexes:
            cur.execute(f'DROP INDEX IF EXISTS "{name}"')
    # Each month's partition made first, as `migrate`, the beat and an ingest make them in use: the
    # calls land in their months, not in the default partition (an ingest into a month found
    # there would move the month's calls out of it, and time that).
    from logs.services.partitions import partition_ensure
    from logs.timeutil import next_month

    month = start.astimezone(billing_tz()).date().replace(day=1)
    while month <= end.astimezone(billing_tz()).date():
        partition_ensure(month)
        month = next_month(month)
    ids = [c.pk for c in customers]
    all_cust = "ARRAY[" + ",".join(map(str, ids)) + "]"
    for first in range(1, size + 1, CHUNK):
        count = min(CHUNK, size - first + 1)
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(calls_sql(first=first, count=count, n=size, cust=all_cust, prefix="req-"),
                        {"start": start, "span": int((end - start).total_seconds())})
        print(f"  {first + count - 1:>11,} calls ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    # flat-00's big month: topped up to exactly BIG_MONTH_CALLS calls
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM logs_call WHERE customer_id = %s AND created_at >= %s AND created_at < %s",
                    [ids[0], m_start, m_end])
        have = cur.fetchone()[0]
        extra = max(BIG_MONTH_CALLS - have, 0)
        if extra:
            cur.execute(calls_sql(first=1, count=extra, n=extra, cust=f"ARRAY[{ids[0]}]", prefix="big-"),
                        {"start": m_start, "span": int((m_end - m_start).total_seconds()) - 1})
    t1 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM logs_call_default")
        stray = cur.fetchone()[0]
        if stray:
            print(f"  warning: {stray:,} calls in the default partition", file=sys.stderr, flush=True)
        for name, definition in indexes:
            cur.execute(definition.replace(" ON ONLY ", " ON "))
        cur.execute("DROP TABLE bench_flat_indexes")
        # The calls' keys (logs_callkey: the unique key, which an ingest adds to): its primary key
        # made again after the rows, as the call table's indexes are.
        cur.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = 'logs_callkey'::regclass AND contype = 'p'")
        pkey, pkey_def = cur.fetchone()
        cur.execute(f'ALTER TABLE logs_callkey DROP CONSTRAINT "{pkey}"')
        cur.execute("INSERT INTO logs_callkey (request_id, customer_id, call_id, created_at) "
                    "SELECT request_id, customer_id, id, created_at FROM logs_call")
        cur.execute(f'ALTER TABLE logs_callkey ADD CONSTRAINT "{pkey}" {pkey_def}')
        t2 = time.perf_counter()
        cur.execute(rollups_sql())
        derived_fill(cur)
        cur.execute("INSERT INTO logs_rollupversion (customer_id, version) SELECT id, 1 FROM logs_customer "
                    "ON CONFLICT DO NOTHING")
    t3 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE logs_call")
        cur.execute("VACUUM ANALYZE logs_callkey")
        cur.execute("VACUUM ANALYZE logs_hourlyrollup")
        cur.execute("VACUUM ANALYZE logs_coarserollup")
        cur.execute("VACUUM ANALYZE logs_coarsechannelrollup")
        cur.execute("VACUUM ANALYZE logs_allcustomersrollup")
        cur.execute("VACUUM ANALYZE logs_allcustomerschannelrollup")
        cur.execute("VACUUM ANALYZE logs_allcustomersdailyrollup")
        cur.execute("VACUUM ANALYZE logs_allcustomersdailychannelrollup")
        cur.execute("VACUUM ANALYZE logs_coarsedailyrollup")
        cur.execute("VACUUM ANALYZE logs_coarsedailychannelrollup")
        seconds = time.perf_counter() - t0
        cur.execute("INSERT INTO bench_flat_meta VALUES (%s, now(), %s, %s, %s)", [size, fp, big_month, seconds])
    print(f"  built: calls {t1 - t0:.0f} s, indexes {t2 - t1:.0f} s, rollups {t3 - t2:.0f} s, "
          f"vacuum {time.perf_counter() - t3:.0f} s", file=sys.stderr, flush=True)
    return {"reused": False, "built_at": end.isoformat(), "big_month": big_month.isoformat(),
            "build_seconds": seconds}


def _p95(times: list[float]) -> float:
    times = sorted(times)
    return times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]


def measure(args) -> dict:
    from bench_dashboard import deep_url
    from django.db import connection
    from django.test import Client

    import logs.selectors.rollups as rollup_reads
    from logs.models import Customer, User

    def timed(client, url, *, cold=False):
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code)
        times = []
        for _ in range(args.repeat):
            if cold:
                rollup_reads.OVERVIEW_CACHE_SCHEMA += 1
            t = time.perf_counter()
            r = client.get(url)
            times.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200
        return _p95(times)

    out: dict = {}
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM logs_call")
        out["calls"] = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM logs_hourlyrollup")
        out["rollup_rows"] = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM logs_coarserollup")
        out["coarse_rows"] = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM logs_allcustomersrollup")
        out["all_customers_rows"] = cur.fetchone()[0]
    client = Client()
    client.force_login(User.objects.get(username="flat-user"))
    for label, query in FILTERS:
        url = f"/logs/?{query}" if query else "/logs/"
        out[f"Logs first page, {label}"] = timed(client, url)
        deep = deep_url(client, url)
        if deep:
            out[f"Logs page 100, {label}"] = timed(client, deep)
    out["Overview 30 days, customer"] = timed(client, "/", cold=True)
    out["Overview 30 days, customer, cached"] = timed(client, "/")
    client.force_login(User.objects.get(username="flat-staff"))
    out["Overview 30 days, staff all customers"] = timed(client, "/", cold=True)
    out["Overview 30 days, staff all customers, cached"] = timed(client, "/")
    big = Customer.objects.get(slug="flat-00")
    month = dt.date.fromisoformat(args.big_month)
    if not args.no_tally:
        from billing.services.tally import tally_compute

        times = []
        for _ in range(2):
            t = time.perf_counter()
            tally_compute(customer=big, month=month)
            times.append(time.perf_counter() - t)
        out["tally of a 1M-call customer-month (s)"] = min(times)
    if not args.no_export:
        out["export rows/s"] = export_rate(big, month)
    return out


def export_rate(big, month: dt.date) -> float:
    from logs.models import ExportJob, User
    from logs.models.jobs import JobStatus
    from logs.services import exports as svc

    job = ExportJob.objects.create(owner=User.objects.get(username="flat-staff"), customer=big,
                                   date_from=month, date_to=month + dt.timedelta(days=6),
                                   status=JobStatus.RUNNING, filename="bench.xlsx")
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        result = svc.export_write(job=job, out_path=Path(tmp) / "export.xlsx", progress=lambda done, total: None)
        seconds = time.perf_counter() - t
    job.delete()
    return result["rows"] / seconds


def ingest(file: str) -> dict:
    """bench_ingest's 1M-row export ingested (into the copy of the database the parent made)."""
    import logs.services.ingest as svc

    t = time.perf_counter()
    batch = svc.calls_ingest(source=file, fmt="gateway")
    seconds = time.perf_counter() - t
    return {"ingest of 1M more rows (s)": seconds, "ingest rows": batch.summary()["rows"]}


def ingest_in_copy(url: str, name: str, file: Path) -> dict:
    """`ingest` run in a file copy of the bench database `name`, dropped after."""
    import psycopg
    from bench_ingest import _admin_conninfo, _bench_url

    copy = f"{name}_ingest"
    with psycopg.connect(_admin_conninfo(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
        t = time.perf_counter()
        conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{name}" STRATEGY FILE_COPY')
        made = time.perf_counter() - t
    try:
        figures = run_child(_bench_url(url, copy), "ingest", ["--file", str(file)])
    finally:
        with psycopg.connect(_admin_conninfo(url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
    print(f"  (copied the database for the ingest in {made:.0f} s)", flush=True)
    return figures


def child(args) -> None:
    _setup()
    if args.step == "build":
        print(json.dumps(build(args.size, rebuild=args.rebuild)))
    elif args.step == "measure":
        print(json.dumps(measure(args)))
    else:
        print(json.dumps(ingest(args.file)))


# --- the parent: each size in a child process ---------------------------------------------------

def run_child(bench_url: str, step: str, extra: list[str]) -> dict:
    env = {**os.environ, "DATABASE_URL": bench_url, "DJANGO_SETTINGS_MODULE": "nbaudit.settings_test",
           "NBAUDIT_ALLOWED_HOSTS": "testserver"}
    env.pop("DATABASE_REPLICA_URL", None)
    out = subprocess.run([sys.executable, __file__, "--child", "--step", step, *extra], cwd=ROOT, env=env,
                         stdout=subprocess.PIPE, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{step} failed (exit {out.returncode})")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _label(size: int) -> str:
    return f"{size // 1_000_000}m" if size % 1_000_000 == 0 else str(size)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="5000000,20000000")
    p.add_argument("--rebuild", action="store_true", help="build the databases again")
    p.add_argument("--repeat", type=int, default=15, help="requests per page figure")
    p.add_argument("--no-ingest", action="store_true")
    p.add_argument("--no-export", action="store_true")
    p.add_argument("--no-tally", action="store_true")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--step", help=argparse.SUPPRESS)
    p.add_argument("--size", type=int, help=argparse.SUPPRESS)
    p.add_argument("--big-month", help=argparse.SUPPRESS)
    p.add_argument("--file", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return 0
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not url.startswith("postgres"):
        print("bench_flat needs PostgreSQL (DATABASE_URL): skipped")
        return 0
    import psycopg
    from bench_ingest import _admin_conninfo, _bench_url, write_export

    prefix = os.environ.get("NBAUDIT_BENCH_FLAT_PREFIX", "nb_bench_")
    sizes = [int(s) for s in args.sizes.split(",") if s]
    export_file = None
    results: dict[int, dict] = {}
    try:
        for size in sizes:
            name = prefix + _label(size)
            with psycopg.connect(_admin_conninfo(url), autocommit=True) as conn:
                if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                    conn.execute(f'CREATE DATABASE "{name}"')
            bench_url = _bench_url(url, name)
            t = time.perf_counter()
            info = run_child(bench_url, "build", ["--size", str(size)] + (["--rebuild"] if args.rebuild else []))
            print(f"{name}: {size:,} calls, {'reused (built ' + info['built_at'][:16] + ')' if info['reused'] else 'built'}"
                  f" in {info['build_seconds']:.0f} s; big month {info['big_month'][:7]}", flush=True)
            extra = ["--repeat", str(args.repeat), "--big-month", info["big_month"]]
            extra += ["--no-export"] * args.no_export + ["--no-tally"] * args.no_tally
            figures = run_child(bench_url, "measure", extra)
            if not args.no_ingest:
                if export_file is None:
                    export_file = Path(tempfile.mkdtemp(prefix="nbaudit-flat-")) / "export.csv"
                    write_export(export_file, 1_000_000)
                figures.update(ingest_in_copy(url, name, export_file))
            figures["measured in (s)"] = time.perf_counter() - t
            results[size] = figures
            print(f"  {figures['calls']:,} calls, {figures['rollup_rows']:,} rollup rows, "
                  f"{figures['coarse_rows']:,} coarse, {figures['all_customers_rows']:,} all-customers; load average "
                  f"{os.getloadavg()[0]:.1f}", flush=True)
    finally:
        if export_file is not None:
            export_file.unlink(missing_ok=True)
    if not results:
        return 0
    skip = {"calls", "rollup_rows", "coarse_rows", "all_customers_rows", "ingest rows", "measured in (s)"}
    names = [k for k in next(iter(results.values())) if k not in skip]
    small, large = min(results), max(results)
    head = f"{'figure (ms unless said)':<52}" + "".join(f"{_label(s):>10}" for s in results)
    print(head + (f"{'ratio':>8}" if large != small else ""))
    for k in names:
        row = f"{k:<52}" + "".join(f"{results[s].get(k, float('nan')):10.1f}" for s in results)
        if large != small and k in results[large] and results[small].get(k):
            row += f"{results[large][k] / results[small][k]:8.2f}"
        print(row)
    if large != small:
        ratios = {k: results[large][k] / results[small][k] for k in names
                  if k in results[large] and results[small].get(k)}
        ratios = {k: (1 / v if "rows/s" in k else v) for k, v in ratios.items()}
        worst = max(ratios, key=ratios.get)
        print(f"worst cost ratio {_label(large)}/{_label(small)}: {ratios[worst]:.2f} ({worst}; goal <= 1.25)")
    logs = [v for s in results.values() for k, v in s.items() if k.startswith("Logs")]
    ov = {k: max(s[k] for s in results.values()) for k in ("Overview 30 days, customer",
                                                         "Overview 30 days, staff all customers")}
    print(f"worst Logs p95 {max(logs):.1f} ms (target < 100); Overview 30 days p95 customer "
          f"{ov['Overview 30 days, customer']:.0f} ms, staff {ov['Overview 30 days, staff all customers']:.0f} ms "
          f"(target < 200)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
