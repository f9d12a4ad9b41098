"""Benchmark: reconcile a flat CSV local log of N rows against N platform calls.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python tests/perf/bench_reconcile.py [N]

Runs in a throwaway database (NBAUDIT_BENCH_DB_NAME, default bench_nbaudit_recon; created and
dropped here). Platform calls are generated in SQL (INSERT ... SELECT generate_series), with
a few thousand ingest conflicts; the local CSV is written by Python to a temporary file. It
prints the time of `reconciliation_run` alone and the process's peak memory (ru_maxrss)
before and after it: "flat memory" means the run adds next to nothing to the peak.

Target: N = 1,000,000 in under 30 s on PostgreSQL.
"""
from __future__ import annotations

import csv
import datetime as dt
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nbaudit.settings_test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

UTC8 = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2026, 10, 1, tzinfo=UTC8)  # the period: 2026-10-01 .. 2026-10-10 (UTC+8)
DAYS = 10


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def platform_sql(n: int) -> str:
    """N calls of customer %(c)s: Pro per request; every 50th a text refusal, every 100th
    charged $0.06, every 200th a 429 charged $0.05, every 1000th only on the platform."""
    seconds = DAYS * 86400 - 1
    return f"""
INSERT INTO logs_call (customer_id, request_id, request_id_synthetic, created_at, model, family,
    token_name, route, "group", source, log_type, http_status, finish_reason, block_reason,
    finish_message, error_text, prompt_tokens, output_tokens, images, drafts, image_size,
    charged_usd, billing_mode, expected_usd, category, reason, prompt_fingerprint, prompt, ingested_at)
SELECT %(c)s, 'req-' || lpad(i::text, 8, '0'), false,
       %(start)s::timestamptz + ((i * {seconds}::bigint / {n}) || ' seconds')::interval,
       'gemini-3-pro-image-preview', 'pro', 'prod-web', '', 'default', 'gateway',
       CASE WHEN i %% 200 = 0 THEN 'error' ELSE 'consume' END,
       CASE WHEN i %% 200 = 0 THEN 429 ELSE NULL END, '', '', '', '', 20,
       CASE WHEN i %% 200 = 0 THEN 0 WHEN i %% 50 = 0 THEN 173 ELSE 1120 END,
       CASE WHEN i %% 50 = 0 OR i %% 200 = 0 THEN 0 ELSE 1 END, 0, '',
       CASE WHEN i %% 100 = 0 AND i %% 200 <> 0 THEN 0.06 ELSE 0.05 END,
       'per_request',
       CASE WHEN i %% 200 = 0 THEN 0 ELSE 0.05 END,
       CASE WHEN i %% 200 = 0 THEN 'rate_limited' WHEN i %% 50 = 0 THEN 'text_refusal' ELSE 'success' END,
       'bench', '', '', now()
FROM generate_series(1, {n}) AS i
"""


def conflicts_sql(n: int) -> str:
    return f"""
INSERT INTO logs_ingestconflict (customer_id, request_id, line, created_at, charged_usd, category,
    differences, record, ingested_at)
SELECT %(c)s, 'req-' || lpad(i::text, 8, '0'), NULL,
       %(start)s::timestamptz + ((i * {DAYS * 86400 - 1}::bigint / {n}) || ' seconds')::interval + interval '30 seconds',
       0.05, 'success', '["created_at"]', '{{}}', now()
FROM generate_series(7, {n}, 997) AS i
"""


def write_local(path: Path, n: int) -> int:
    """The customer's log: every platform call but each 1000th, every 500th with another
    status, and n/1000 requests the platform never saw."""
    seconds = DAYS * 86400 - 1
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["request_id", "created_at", "model", "http_status", "finish_reason", "block_reason",
                    "finish_message", "prompt_tokens", "output_tokens", "total_tokens", "images", "charged_usd"])
        for i in range(1, n + 1):
            if i % 1000 == 0:
                continue
            at = (START + dt.timedelta(seconds=i * seconds // n)).strftime("%Y-%m-%d %H:%M:%S")
            if i % 200 == 0:
                w.writerow([f"req-{i:08d}", at, "gemini-3-pro-image-preview", 429, "", "", "", 0, 0, 0, 0, ""])
            elif i % 50 == 0 and i % 500 != 0:
                w.writerow([f"req-{i:08d}", at, "gemini-3-pro-image-preview", 200, "STOP", "", "", 20, 173, 193, 0, ""])
            else:
                w.writerow([f"req-{i:08d}", at, "gemini-3-pro-image-preview", 200, "STOP", "", "", 20, 1120, 1140, 1, ""])
            rows += 1
        for j in range(1, n // 1000 + 1):
            at = (START + dt.timedelta(seconds=j * seconds // max(n // 1000, 1))).strftime("%Y-%m-%d %H:%M:%S")
            w.writerow([f"local-{j:08d}", at, "gemini-3-pro-image-preview", 503, "", "", "", 0, 0, 0, 0, ""])
            rows += 1
    return rows


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    if connection.vendor != "postgresql":
        print("note: not PostgreSQL: the loading path measured is SQLite's executemany")
    connection.settings_dict["TEST"]["NAME"] = os.environ.get("NBAUDIT_BENCH_DB_NAME", "bench_nbaudit_recon")
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        from billing.services.reconciliation import reconciliation_run, reconciliation_summary
        from logs.models import Customer

        customer = Customer.objects.create(slug="bench", name="Bench")
        t0 = time.perf_counter()
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                cur.execute(platform_sql(n), {"c": customer.pk, "start": START})
                cur.execute(conflicts_sql(n), {"c": customer.pk, "start": START})
                # The calls' keys (logs_callkey: the unique key of calls, the request-ID look-ups).
                cur.execute("INSERT INTO logs_callkey (request_id, customer_id, call_id, created_at) "
                            "SELECT request_id, customer_id, id, created_at FROM logs_call ON CONFLICT DO NOTHING")
                cur.execute("ANALYZE logs_call")
                cur.execute("ANALYZE logs_ingestconflict")
            else:
                raise SystemExit("the platform data generator needs PostgreSQL (generate_series)")
        t1 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / "local.csv"
            local_rows = write_local(local, n)
            t2 = time.perf_counter()
            print(f"generated {n:,} platform calls in {t1 - t0:.1f} s, local CSV of {local_rows:,} rows "
                  f"({local.stat().st_size / 1e6:.0f} MB) in {t2 - t1:.1f} s; peak memory so far {peak_mb():.0f} MB")
            before = peak_mb()
            t3 = time.perf_counter()
            recon = reconciliation_run(customer=customer, source=local)
            t4 = time.perf_counter()
        summary = reconciliation_summary(reconciliation=recon)
        print("phases (s):", getattr(recon, "_clock").phases)
        print(f"reconciled in {t4 - t3:.1f} s; peak memory {before:.0f} MB before the run, {peak_mb():.0f} MB after")
        print({k: summary[k] for k in ("local_rows", "platform_rows", "categories", "overcharged_usd",
                                       "undercharged_usd", "unmatched_charged_usd", "outside_period")})
        print(f"items written: {recon.items.count():,}")
    finally:
        if not os.environ.get("NBAUDIT_BENCH_KEEP"):
            connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
