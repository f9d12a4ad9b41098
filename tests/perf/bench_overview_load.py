"""Benchmark: the Overview under load: 16 concurrent HTTP clients against a real server.

    .venv/bin/python tests/perf/bench_overview_load.py [--db sqlite|postgres|both] [--clients 16]
        [--requests 24] [--days 35] [--customers 16] [--redis redis://127.0.0.1:6379/7]

For each database (the embedded SQLite default, and PostgreSQL at DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/postgres, in a throwaway database NBAUDIT_BENCH_DB_NAME,
default nbaudit_bench_overview), a child process migrates a fresh database and writes hourly
rollups for `--customers` customers over `--days` days (about 66 rows per customer and hour:
3 models x 4 keys x 5 sizes delivered, plus failures; as from some 200 calls an hour), one
user and session per customer. Then a server (DEBUG off) serves it on 127.0.0.1, and
`--clients` threads, one user each, request the Overview `--requests` times each, cycling
through four URLs (default 30 days, 7 days, 30 days of one model, today), all at once. Runs
are bounded: at most --deadline seconds each.

The server is gunicorn as `bin/run-all` starts it (--server runserver: the single
`runserver` process of before; both: each). Each database is run with the cache off
(NBAUDIT_CACHE_URL=dummy://: every request reads the rollups), on (the default: files under
the data folder, shared by the processes; with --redis, also Redis), and on after warming (what
the worker does after a rollup write: logs.views.overview.overview_warm, the default page and
the today and 7-day presets of each customer and of staff, computed ahead; the model-filtered
URL still misses once per user).
Printed per run: requests, errors, p50 / p95 / max in ms over all requests, and the p95 of
each user's first request of a URL (a miss unless warmed) and of the rest (hits) apart, the
load average, and the server's CPU ms per request (its processes' CPU time: what the load
average of a shared machine does not change).
Target: p95 under 500 ms with 16 clients. Then, on SQLite, the read API's latency (4 clients)
while `manage.py ingest` writes --api-rows calls.
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/postgres"
URLS = ["/", "/?range=7d", "/?range=30d&model=pro", "/?range=today"]
MODELS = [("pro", "gemini-3-pro-image-preview"), ("nb2", "gemini-3.1-flash-image"),
          ("nb2_lite", "gemini-3.1-flash-lite-image")]
TOKENS = ["key-0", "key-1", "key-2", "key-3"]
SIZES = ["512", "1K", "2K", "4K", ""]
FAILURES = [("rate_limited", 429), ("overloaded", 503), ("image_blocked", None), ("no_image", None),
            ("timeout", 504), ("server_error", 500)]


# --- the child: a database with rollups, users and sessions -------------------------------------

def _env(db: str, url: str | None, data_dir: str, cache: str | None = None) -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "nbaudit.settings", "NBAUDIT_DEBUG": "0", "PYTHONPATH": str(ROOT),
           "NBAUDIT_SECRET_KEY": os.environ.get("NBAUDIT_SECRET_KEY", "bench-only-" + "x" * 40),
           "NBAUDIT_ALLOWED_HOSTS": "127.0.0.1,localhost", "NBAUDIT_DATA_DIR": data_dir}
    env.pop("DATABASE_URL", None)
    if db == "postgres":
        env["DATABASE_URL"] = url
    if cache:
        env["NBAUDIT_CACHE_URL"] = cache
    return env


def _rollup_rows(customer_ids: list[int], days: int, now: dt.datetime):
    from logs.models import LATENCY_BUCKETS_MS

    rnd = random.Random(20261201)
    nb = len(LATENCY_BUCKETS_MS)
    first = now.replace(minute=0, second=0, microsecond=0) - dt.timedelta(days=days)
    for cid in customer_ids:
        for h in range(days * 24 + 1):
            hour = first + dt.timedelta(hours=h)
            for family, model in MODELS:
                for token in TOKENS:
                    for size in SIZES:
                        n = rnd.randint(1, 5)
                        lat = [0] * nb
                        for _ in range(n):
                            lat[rnd.randrange(2, 9)] += 1
                        price = "0.050000" if family == "pro" else "0.067000"
                        yield (hour, cid, family, model, token, size, "success", None, 1 + rnd.randrange(4),
                               n, n, f"{float(price) * n:.6f}", n, n * 20000, *lat)
            for category, status in FAILURES:
                family, model = MODELS[rnd.randrange(3)]
                n = rnd.randint(1, 3)
                yield (hour, cid, family, model, TOKENS[rnd.randrange(4)], "1K", category, status,
                       1 + rnd.randrange(4), n, 0, "0.000000", 0, 0, *([0] * nb))


def child(args) -> None:
    import django

    django.setup()
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.core.management import call_command
    from django.db import connection

    from logs.models import Customer, HourlyRollup, User

    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    customers = [Customer.objects.create(slug=f"cust-{k:02d}", name=f"Customer {k:02d}")
                 for k in range(args.customers)]
    fields = [f for f in HourlyRollup._meta.concrete_fields if not f.primary_key]
    columns = ["hour", "customer_id", "family", "model", "token_name", "image_size", "category", "http_status",
               "channel_id", "calls", "images", "charged_usd", "latency_count", "latency_sum_ms", *HourlyRollup.bucket_fields()]
    assert sorted(columns) == sorted(f.column for f in fields)
    rows = _rollup_rows([c.pk for c in customers], args.days, dt.datetime.now(dt.timezone.utc))
    count = 0
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            with cur.cursor.copy(f"COPY logs_hourlyrollup ({', '.join(columns)}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row(r)
                    count += 1
        else:
            sql = (f"INSERT INTO logs_hourlyrollup ({', '.join(columns)}) "
                   f"VALUES ({', '.join(['%s'] * len(columns))})")
            batch = []
            for r in rows:
                batch.append((r[0].strftime("%Y-%m-%d %H:%M:%S"), *r[1:]))
                if len(batch) >= 20000:
                    cur.executemany(sql, batch)
                    count += len(batch)
                    batch = []
            if batch:
                cur.executemany(sql, batch)
                count += len(batch)
        from bench_dashboard import derived_fill

        derived_fill(cur)
        cur.execute("ANALYZE" if connection.vendor != "postgresql" else "VACUUM ANALYZE logs_hourlyrollup")
        if connection.vendor == "postgresql":
            cur.execute("VACUUM ANALYZE logs_coarserollup")
            cur.execute("VACUUM ANALYZE logs_coarsechannelrollup")
            cur.execute("VACUUM ANALYZE logs_allcustomersrollup")
            cur.execute("VACUUM ANALYZE logs_allcustomerschannelrollup")
            cur.execute("VACUUM ANALYZE logs_allcustomersdailyrollup")
            cur.execute("VACUUM ANALYZE logs_allcustomersdailychannelrollup")
            cur.execute("VACUUM ANALYZE logs_coarsedailyrollup")
            cur.execute("VACUUM ANALYZE logs_coarsedailychannelrollup")
    store = import_module(settings.SESSION_ENGINE).SessionStore
    sessions = []
    for c in customers:
        u = User.objects.create_user(f"user-{c.slug}", password="bench-pass-1", customer=c)
        s = store()
        s[SESSION_KEY], s[BACKEND_SESSION_KEY] = str(u.pk), "django.contrib.auth.backends.ModelBackend"
        s[HASH_SESSION_KEY] = u.get_session_auth_hash()
        s.create()
        sessions.append(s.session_key)
    print(json.dumps({"rollup_rows": count, "seconds": time.perf_counter() - t0, "sessions": sessions,
                      "cookie": settings.SESSION_COOKIE_NAME}))


def prepare(db: str, url: str | None, data_dir: str, args) -> dict:
    cmd = [sys.executable, __file__, "--child", "--days", str(args.days), "--customers", str(args.customers)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=_env(db, url, data_dir), cwd=ROOT)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"preparing the {db} database failed (exit {out.returncode})")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the server and the clients -------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_cmd(server: str, port: int) -> list[str]:
    """`bin/run-all`'s web server (gunicorn, its default workers and threads), or runserver."""
    if server == "runserver":
        return [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    return [str(Path(sys.executable).with_name("gunicorn")), "nbaudit.wsgi", "--bind", f"127.0.0.1:{port}",
            "--workers", os.environ.get("NBAUDIT_WEB_WORKERS", "3"), "--threads",
            os.environ.get("NBAUDIT_WEB_THREADS", "4"), "--worker-class", "gthread", "--log-level", "warning"]


def serve(env: dict, server: str = "gunicorn") -> tuple[subprocess.Popen, int]:
    port = _free_port()
    proc = subprocess.Popen(server_cmd(server, port), cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def load(port: int, cookie: str, sessions: list[str], *, clients: int, requests: int, deadline_s: float) -> dict:
    """`clients` threads, one session each, `requests` Overview requests each, all at once."""
    start = threading.Barrier(clients)
    stop_at = [0.0]
    results: list[tuple[float, bool, bool]] = []  # (ms, miss, ok)
    lock = threading.Lock()

    def client(k: int):
        headers = {"Cookie": f"{cookie}={sessions[k % len(sessions)]}"}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        seen = set()
        start.wait()
        if k == 0:
            stop_at[0] = time.monotonic() + deadline_s
        for i in range(requests):
            if stop_at[0] and time.monotonic() > stop_at[0]:
                break
            url = URLS[(i + k) % len(URLS)]
            t = time.perf_counter()
            try:
                conn.request("GET", url, headers=headers)
                resp = conn.getresponse()
                body = resp.read()
                ok = resp.status == 200 and b'id="fig-calls"' in body
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            ms = (time.perf_counter() - t) * 1000
            with lock:
                results.append((ms, url not in seen, ok))
            seen.add(url)
        conn.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {"results": results, "wall": wall}


def _p(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _children_cpu() -> float:
    """CPU seconds of the waited-for children: the server's processes once it has stopped."""
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def report(label: str, run: dict) -> tuple[float, float]:
    res = run["results"]
    ms = [r[0] for r in res]
    miss = [r[0] for r in res if r[1]]
    hit = [r[0] for r in res if not r[1]]
    errors = sum(1 for r in res if not r[2])
    p95 = _p(ms, 95)
    print(f"  {label:<28} {len(res):5d} {errors:4d} {_p(ms, 50):8.0f} {p95:8.0f} {max(ms):8.0f} "
          f"{_p(miss, 95):9.0f} {_p(hit, 95):8.0f} {len(res) / run['wall']:7.1f} {os.getloadavg()[0]:5.1f} "
          f"{run.get('cpu', 0) * 1000 / max(len(res), 1):8.0f}")
    return p95, _p(hit, 95)


def api_during_ingest(db: str, url: str | None, data_dir: str, rows: int, clients: int = 4) -> None:
    """The read API's latency while `manage.py ingest` writes `rows` calls (bench_ingest's export)."""
    from bench_ingest import write_export

    env = _env(db, url, data_dir)
    out = subprocess.run([sys.executable, __file__, "--api-token"], env=env, cwd=ROOT, capture_output=True, text=True)
    if out.returncode:
        sys.stderr.write(out.stderr)
        raise SystemExit("making the API token failed")
    raw = out.stdout.strip().splitlines()[-1]
    file = Path(data_dir) / "ingest.csv"
    write_export(file, rows)
    proc, port = serve(env)
    times: list[float] = []
    errors = [0]
    stop = threading.Event()

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while not stop.is_set():
            t = time.perf_counter()
            try:
                conn.request("GET", "/api/v1/calls?limit=50", headers={"Authorization": f"Bearer {raw}"})
                resp = conn.getresponse()
                resp.read()
                ok = resp.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            times.append((time.perf_counter() - t) * 1000)
            errors[0] += not ok
            time.sleep(0.05)
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    try:
        for t in threads:
            t.start()
        t0 = time.perf_counter()
        ing = subprocess.run([sys.executable, "manage.py", "ingest", str(file)], env=env, cwd=ROOT,
                             capture_output=True, text=True)
        took = time.perf_counter() - t0
        stop.set()
        for t in threads:
            t.join()
    finally:
        stop.set()
        proc.terminate()
        proc.wait(timeout=10)
    if ing.returncode:
        sys.stderr.write(ing.stderr[-2000:])
    print(f"  read API during a {rows:,}-row ingest ({took:.0f} s{', FAILED' if ing.returncode else ''}), "
          f"{clients} clients: {len(times)} requests, {errors[0]} errors, p50 {_p(times, 50):.0f} ms, "
          f"p95 {_p(times, 95):.0f} ms, worst {max(times, default=float('nan')):.0f} ms; "
          f"{sum(t > 1000 for t in times)} over 1 s; load {os.getloadavg()[0]:.1f}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--requests", type=int, default=24, help="requests per client, cache on")
    p.add_argument("--requests-uncached", type=int, default=6, help="requests per client, cache off")
    p.add_argument("--deadline", type=float, default=120.0, help="seconds a run may take at most")
    p.add_argument("--days", type=int, default=35)
    p.add_argument("--customers", type=int, default=16)
    p.add_argument("--redis", help="also run with this Redis cache (NBAUDIT_CACHE_URL)")
    p.add_argument("--server", choices=["gunicorn", "runserver", "both"], default="gunicorn",
                   help="gunicorn as bin/run-all starts it (default), runserver (one process, as before)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--warm", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--api-token", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--only-api", action="store_true", help="only the read API during a SQLite ingest")
    p.add_argument("--api-rows", type=int, default=200_000,
                   help="SQLite: rows ingested while 4 clients read the API (0: skip)")
    args = p.parse_args()
    if args.child:
        child(args)
        return 0
    if args.api_token:
        import django

        django.setup()
        from logs.models import Customer
        from logs.services.tokens import apitoken_create

        acme, _ = Customer.objects.get_or_create(slug="acme", defaults={"name": "Acme"})
        print(apitoken_create(customer=acme, name="bench")[1])
        return 0
    if args.warm:
        import django

        django.setup()
        from logs.models import Customer
        from logs.views.overview import overview_warm

        print(overview_warm(customer_ids=list(Customer.objects.values_list("pk", flat=True))))
        return 0
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    worst = worst_hit = 0.0
    for db in dbs:
        data_dir = tempfile.mkdtemp(prefix="nbaudit-bench-overview-")
        bench_url = None
        if db == "postgres":
            from bench_ingest import _bench_url, pg_drop, pg_recreate

            name = os.environ.get("NBAUDIT_BENCH_DB_NAME", "nbaudit_bench_overview")
            try:
                pg_recreate(url, name)
            except Exception as exc:  # noqa: BLE001 - no server: say so, run the rest
                print(f"postgres: skipped ({exc.__class__.__name__}: {exc})")
                continue
            bench_url = _bench_url(url, name)
        if args.only_api:
            if db == "sqlite":
                subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=_env(db, None, data_dir), cwd=ROOT,
                               check=True)
                api_during_ingest(db, None, data_dir, args.api_rows or 100_000)
            shutil.rmtree(data_dir, ignore_errors=True)
            continue
        try:
            info = prepare(db, bench_url, data_dir, args)
            print(f"{db}: {info['rollup_rows']:,} rollup rows ({args.customers} customers, {args.days} days) "
                  f"in {info['seconds']:.0f} s; {args.clients} clients")
            print(f"  {'server, cache':<28} {'reqs':>5} {'errs':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} "
                  f"{'1st p95':>9} {'hit p95':>8} {'req/s':>7} {'load':>5} {'cpu/req':>8}")
            modes = [("off (dummy://)", "dummy://", args.requests_uncached, False),
                     ("on (files)", None, args.requests, False), ("on (files), warmed", None, args.requests, True)]
            if args.redis:
                modes += [("on (redis)", args.redis, args.requests, False),
                          ("on (redis), warmed", args.redis, args.requests, True)]
            servers = ["runserver", "gunicorn"] if args.server == "both" else [args.server]
            for server in servers:
                for label, cache, requests, warm in modes:
                    if cache and cache.startswith("redis"):
                        import redis

                        redis.Redis.from_url(cache).flushdb()
                    shutil.rmtree(Path(data_dir) / "cache", ignore_errors=True)
                    if warm:  # what the worker does after an ingest: the default pages computed ahead
                        t = time.perf_counter()
                        out = subprocess.run([sys.executable, __file__, "--warm"], env=_env(db, bench_url, data_dir, cache),
                                             cwd=ROOT, capture_output=True, text=True)
                        if out.returncode:
                            sys.stderr.write(out.stderr)
                            raise SystemExit("warming failed")
                        print(f"  (warmed {out.stdout.strip()} default pages in {time.perf_counter() - t:.1f} s)")
                    before = _children_cpu()
                    proc, port = serve(_env(db, bench_url, data_dir, cache), server)
                    try:
                        run = load(port, info["cookie"], info["sessions"], clients=args.clients,
                                   requests=requests, deadline_s=args.deadline)
                    finally:
                        proc.terminate()
                        proc.wait(timeout=30)
                    run["cpu"] = _children_cpu() - before
                    p95, hit95 = report(f"{server}, {label}", run)
                    if cache != "dummy://" and server == servers[-1]:
                        worst, worst_hit = max(worst, p95), max(worst_hit, hit95)
            if db == "sqlite" and args.api_rows:
                api_during_ingest(db, bench_url, data_dir, args.api_rows)
        finally:
            if not os.environ.get("NBAUDIT_BENCH_KEEP"):
                shutil.rmtree(data_dir, ignore_errors=True)
                if db == "postgres":
                    pg_drop(url, name)
    if args.only_api:
        return 0
    print(f"worst Overview p95 with the cache on: {worst:.0f} ms over all requests, {worst_hit:.0f} ms once "
          f"cached (target < 500 with {args.clients} clients)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
