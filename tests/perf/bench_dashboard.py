"""Benchmark: the Logs page (first page and 100 pages deep, one filter) and the 30-day Overview.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python tests/perf/bench_dashboard.py [N]

Runs in a throwaway database (NBAUDIT_BENCH_DB_NAME, default bench_nbaudit_dash; created and
dropped here; NBAUDIT_BENCH_KEEP=1 keeps it). N calls (default 5,000,000) over the last 60
days and 20 customers are generated in SQL (INSERT ... SELECT generate_series), and the
hourly rollups in one SQL statement equivalent to logs.services.rollups.rollups_refresh (and
the coarse and all-customers ones from them).
Pages are requested through django.test.Client as a customer's user (the biggest customer:
N/20 calls), so the times are server time: view, queries and template. Each figure is
the p95 (and median) over repeated requests of the same URL.

Targets: Logs pages under 100 ms, the 30-day overview under 200 ms.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nbaudit.settings_test")
os.environ.setdefault("NBAUDIT_ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

CUSTOMERS = 20
DAYS = 60
REPEAT = int(os.environ.get("NBAUDIT_BENCH_REPEAT", "30"))

# Category by a hash of i, per mille: 85% success, the rest spread like real traffic.
CATEGORY_SQL = """
CASE
  WHEN h < 850 THEN 'success'
  WHEN h < 880 THEN 'rate_limited'
  WHEN h < 900 THEN 'overloaded'
  WHEN h < 915 THEN 'image_blocked'
  WHEN h < 930 THEN 'no_image'
  WHEN h < 940 THEN 'prompt_blocked'
  WHEN h < 948 THEN 'text_refusal'
  WHEN h < 955 THEN 'no_charge'
  WHEN h < 962 THEN 'empty_output'
  WHEN h < 975 THEN 'timeout'
  WHEN h < 985 THEN 'server_error'
  WHEN h < 993 THEN 'bad_request'
  WHEN h < 997 THEN 'auth_error'
  ELSE 'other_error' END"""
STATUS_SQL = """
CASE cat
  WHEN 'rate_limited' THEN 429 WHEN 'overloaded' THEN 503 WHEN 'timeout' THEN 504
  WHEN 'server_error' THEN 500 WHEN 'bad_request' THEN 400 WHEN 'auth_error' THEN 401
  WHEN 'other_error' THEN 418 ELSE 200 END"""


def calls_sql(n: int) -> str:
    seconds = DAYS * 86400
    return f"""
INSERT INTO logs_call (customer_id, request_id, request_id_synthetic, created_at, model, family,
    token_name, route, "group", source, log_type, http_status, finish_reason, block_reason,
    finish_message, error_text, prompt_tokens, output_tokens, images, drafts, image_size,
    latency_ms, charged_usd, billing_mode, expected_usd, category, reason, prompt_fingerprint,
    prompt, ingested_at)
SELECT cust[1 + cx], 'req-' || i, false,
       %(end)s::timestamptz - ((i::bigint * {seconds} / {n}) || ' seconds')::interval,
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
       'bench: ' || cat, '', '', now()
FROM (
  -- independent pseudo-random picks per call: category, model, customer, key, size
  SELECT i, (i * 2654435761::bigint) %% 1000 AS h, ((i * 69069::bigint + 1) / 1024) %% 10 AS m,
         ((i * 1103515245::bigint + 12345) / 65536) %% {CUSTOMERS} AS cx,
         ((i * 16807::bigint) / 8192) %% 4 AS tk, ((i * 48271::bigint) / 4096) %% 5 AS sz,
         (SELECT array_agg(id ORDER BY id) FROM logs_customer) AS cust
  FROM generate_series(1, {n}) AS i
) s, LATERAL (SELECT {CATEGORY_SQL} AS cat) c
"""


def rollups_sql() -> str:
    from logs.models import LATENCY_BUCKETS_MS

    buckets, lower = [], None
    for i, upper in enumerate(LATENCY_BUCKETS_MS):
        cond = ["latency_ms IS NOT NULL"]
        if lower is not None:
            cond.append(f"latency_ms >= {lower}")
        if upper is not None:
            cond.append(f"latency_ms < {upper}")
        buckets.append(f"count(*) FILTER (WHERE {' AND '.join(cond)})")
        lower = upper
    cols = ", ".join(f"lat_{i:02d}" for i in range(len(LATENCY_BUCKETS_MS)))
    return f"""
INSERT INTO logs_hourlyrollup (hour, customer_id, family, model, token_name, image_size, category,
    http_status, channel_id, calls, images, charged_usd, latency_count, latency_sum_ms, {cols})
SELECT date_trunc('hour', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', customer_id, family, model,
       token_name, image_size, category, CASE WHEN category = 'success' THEN NULL ELSE http_status END,
       channel_id, count(*), coalesce(sum(images), 0), coalesce(sum(charged_usd), 0), count(latency_ms),
       coalesce(sum(latency_ms), 0), {", ".join(buckets)}
FROM logs_call
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
"""


def coarse_sql() -> list[str]:
    """The coarse rollups (logs_coarserollup) and failures by channel (logs_coarsechannelrollup)
    of the hourly ones: their projection, two statements, as logs.services.rollups.
    _coarse_recompute writes it per customer and hours."""
    from logs.selectors.rollups import CHANNEL_KEY, ROLLUP_VALUES

    size = "CASE WHEN category = 'success' THEN image_size ELSE '' END"
    channel = ", ".join(CHANNEL_KEY)
    return [f"INSERT INTO logs_coarserollup (customer_id, hour, family, category, image_size, "
            f"{', '.join(ROLLUP_VALUES)}) SELECT customer_id, hour, family, category, {size}, "
            f"{', '.join(f'SUM({v})' for v in ROLLUP_VALUES)} FROM logs_hourlyrollup "
            f"GROUP BY customer_id, hour, family, category, {size}",
            f"INSERT INTO logs_coarsechannelrollup (customer_id, {channel}, calls) "
            f"SELECT customer_id, {channel}, SUM(calls) FROM logs_hourlyrollup WHERE category <> 'success' "
            f"GROUP BY customer_id, {channel}"]


def all_customers_sql() -> list[str]:
    """Staff's all-customers rollups of the coarse ones and their failures by channel
    (logs_allcustomersrollup, logs_allcustomerschannelrollup): two statements, as
    logs.services.rollups.all_customers_fold writes the hours marked."""
    from logs.selectors.rollups import CHANNEL_KEY, COARSE_KEY, ROLLUP_VALUES

    key, channel = ", ".join(COARSE_KEY), ", ".join(CHANNEL_KEY)
    return [f"INSERT INTO logs_allcustomersrollup ({key}, {', '.join(ROLLUP_VALUES)}) "
            f"SELECT {key}, {', '.join(f'SUM({v})' for v in ROLLUP_VALUES)} FROM logs_coarserollup GROUP BY {key}",
            f"INSERT INTO logs_allcustomerschannelrollup ({channel}, calls) SELECT {channel}, SUM(calls) "
            f"FROM logs_coarsechannelrollup GROUP BY {channel}"]


def derived_fill(cur) -> None:
    """The rollups derived from the hourly ones, as logs.services.rollups writes them: the coarse
    ones (coarse_sql) and each customer's days of those (coarse_days_refresh), staff's
    all-customers ones (all_customers_sql) and their days (all_customers_days_refresh)."""
    from logs.models import Customer
    from logs.services.rollups import all_customers_days_refresh, coarse_days_refresh

    for sql in coarse_sql():
        cur.execute(sql)
    for customer_id in Customer.objects.values_list("pk", flat=True):
        coarse_days_refresh(customer_id=customer_id)
    for sql in all_customers_sql():
        cur.execute(sql)
    all_customers_days_refresh()


def timed(client, url: str, repeat: int = REPEAT, *, cold: bool = False) -> tuple[float, float]:
    """(median, p95) in ms over `repeat` requests, after one warm-up; cold: the Overview's figures
    computed afresh each time (a new cache key; the filter lists stay cached, as between pages)."""
    import logs.selectors.rollups as rollup_reads

    resp = client.get(url)
    assert resp.status_code == 200, (url, resp.status_code)
    times = []
    for _ in range(repeat):
        if cold:
            rollup_reads.OVERVIEW_CACHE_SCHEMA += 1
        t0 = time.perf_counter()
        resp = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert resp.status_code == 200
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    return statistics.median(times), p95


def deep_url(client, url: str, pages: int = 100) -> str | None:
    """Follow Older links `pages` times; the URL reached (None: fewer pages)."""
    import re

    for _ in range(pages):
        html = client.get(url).content.decode()
        m = re.search(r'href="(\?[^"]*)" rel="next"', html)
        if not m:
            return None
        url = "/logs/" + m.group(1).replace("&amp;", "&")
    return url


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000_000
    if connection.vendor != "postgresql":
        raise SystemExit("needs PostgreSQL: set DATABASE_URL")
    connection.settings_dict["TEST"]["NAME"] = os.environ.get("NBAUDIT_BENCH_DB_NAME", "bench_nbaudit_dash")
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        import datetime as dt

        from django.test import Client

        from logs.models import Customer, User

        for k in range(CUSTOMERS):
            Customer.objects.create(slug=f"cust-{k:02d}", name=f"Customer {k:02d}")
        end = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        t0 = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(calls_sql(n), {"end": end})
            t1 = time.perf_counter()
            cur.execute(rollups_sql())
            derived_fill(cur)
            t2 = time.perf_counter()
            # The calls' keys (logs_callkey: the unique key of calls, the request-ID look-ups).
            cur.execute("INSERT INTO logs_callkey (request_id, customer_id, call_id, created_at) "
                        "SELECT request_id, customer_id, id, created_at FROM logs_call ON CONFLICT DO NOTHING")
            cur.execute("VACUUM ANALYZE logs_call")
            cur.execute("VACUUM ANALYZE logs_hourlyrollup")
            cur.execute("VACUUM ANALYZE logs_coarserollup")
            cur.execute("VACUUM ANALYZE logs_coarsechannelrollup")
            cur.execute("VACUUM ANALYZE logs_allcustomersrollup")
            cur.execute("VACUUM ANALYZE logs_allcustomerschannelrollup")
            cur.execute("VACUUM ANALYZE logs_allcustomersdailyrollup")
            cur.execute("VACUUM ANALYZE logs_allcustomersdailychannelrollup")
            cur.execute("VACUUM ANALYZE logs_coarsedailyrollup")
            cur.execute("VACUUM ANALYZE logs_coarsedailychannelrollup")
            cur.execute("SELECT count(*) FROM logs_hourlyrollup")
            rollup_rows = cur.fetchone()[0]
        print(f"{n:,} calls over {DAYS} days and {CUSTOMERS} customers in {t1 - t0:.0f} s; "
              f"{rollup_rows:,} rollup rows in {t2 - t1:.0f} s")

        customer = Customer.objects.order_by("pk").first()
        user = User.objects.create_user("bench", password="bench-pass-1", customer=customer)
        staff = User.objects.create_user("bench-staff", password="bench-pass-1", is_staff=True)
        client = Client()
        client.force_login(user)
        print(f"customer {customer.slug}: about {n // CUSTOMERS:,} calls; {REPEAT} requests per figure, ms")
        print(f"{'page':<44} {'median':>8} {'p95':>8}")
        filters = [
            ("no filter", ""),
            ("failed only", "failed=on"),
            ("category=rate_limited", "category=rate_limited"),
            ("category=auth_error (rare)", "category=auth_error"),
            ("model=nb2 (family)", "model=nb2"),
            ("model=gemini-3.1-flash-lite-image (exact)", "model=gemini-3.1-flash-lite-image"),
            ("token_name=key-2", "token_name=key-2"),
            ("http_status=503", "http_status=503"),
            ("http_status=401 (rare)", "http_status=401"),
            ("range=last 7 days", "range=7d"),
            ("range=last month", "range=last_month"),
        ]
        worst = 0.0
        for label, query in filters:
            url = f"/logs/?{query}" if query else "/logs/"
            med, p95 = timed(client, url)
            worst = max(worst, p95)
            print(f"{'Logs first page, ' + label:<44} {med:8.1f} {p95:8.1f}")
            deep = deep_url(client, url)
            if deep:
                med, p95 = timed(client, deep)
                worst = max(worst, p95)
                print(f"{'Logs 100 pages deep, ' + label:<44} {med:8.1f} {p95:8.1f}")
            else:
                print(f"{'Logs 100 pages deep, ' + label:<44} {'(fewer than 100 pages)':>17}")
        rid = f"req-{CUSTOMERS * 1000}"
        med, p95 = timed(client, f"/logs/?request_id={rid}")
        print(f"{'Logs, request_id (exact)':<44} {med:8.1f} {p95:8.1f}")
        worst = max(worst, p95)
        # Cold: the figures computed from the rollups (a new cache key for each request);
        # cached: served from the cache (the rollups unchanged since the first request).
        med, ov95 = timed(client, "/", cold=True)
        print(f"{'Overview, last 30 days (default), cold':<44} {med:8.1f} {ov95:8.1f}")
        med2, ov95b = timed(client, "/?model=pro&range=30d", cold=True)
        print(f"{'Overview, last 30 days, model=pro, cold':<44} {med2:8.1f} {ov95b:8.1f}")
        med, p95 = timed(client, "/")
        print(f"{'Overview, last 30 days (default), cached':<44} {med:8.1f} {p95:8.1f}")
        client.force_login(staff)
        med, p95 = timed(client, "/logs/", repeat=max(REPEAT // 3, 5))
        print(f"{'(staff, all customers) Logs first page':<44} {med:8.1f} {p95:8.1f}")
        med, p95 = timed(client, "/", repeat=max(REPEAT // 3, 5), cold=True)
        print(f"{'(staff, all customers) Overview 30 days, cold':<44} {med:8.1f} {p95:8.1f}")
        print(f"worst Logs p95 {worst:.1f} ms (target < 100); overview p95 (cold) {max(ov95, ov95b):.1f} ms "
              f"(target < 200)")
    finally:
        if not os.environ.get("NBAUDIT_BENCH_KEEP"):
            connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
