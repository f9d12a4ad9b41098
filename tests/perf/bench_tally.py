"""Benchmark of the month-end tally on PostgreSQL (speed).

Builds one month (June 2026, UTC+8) of calls with INSERT ... SELECT generate_series: one
customer with BIG calls and the rest of TOTAL spread over the other customers, then times
`tally_compute` for the big customer and `tally_month_end` for all of them. Targets: under
3 s for a 1,000,000-call customer-month, under 10 s for all customers of a 5,000,000-call
month. Prints the figures; asserts nothing about time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nbaudit_bench_tally \
        .venv/bin/python tests/perf/bench_tally.py [--big 1000000] [--total 5000000] [--customers 20] [--reuse]

It migrates the database it is given and touches only customers named `bench-tally-*`.
The mix: 60 % Pro per request (about 12 % of those failed generations, 1 in 1,000 of them
with no charge logged, prompts drawn from 5,000 fingerprints and 1 in 10 with none), 30 %
Nano Banana 2 per token, 10 % legacy; every customer spends well over US$1,000.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nbaudit.settings_test")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

MONTH = dt.date(2026, 6, 1)
PREFIX = "bench-tally-"

INSERT = """
INSERT INTO logs_call (request_id, request_id_synthetic, created_at, model, family, token_name, route,
    "group", source, log_type, http_status, finish_reason, block_reason, finish_message, error_text,
    prompt_tokens, output_tokens, images, drafts, image_size, latency_ms, charged_usd, group_ratio,
    billing_mode, expected_usd, category, reason, prompt_fingerprint, prompt, ingested_at, customer_id)
SELECT 'b' || %(cid)s || '-' || g,
       false,
       %(start)s::timestamptz + (g::double precision * %(span)s / %(n)s) * interval '1 second',
       CASE WHEN g %% 10 < 6 THEN 'gemini-3-pro-image-preview'
            WHEN g %% 10 < 9 THEN 'gemini-3.1-flash-image' ELSE 'gemini-2.5-flash-image' END,
       CASE WHEN g %% 10 < 6 THEN 'pro' WHEN g %% 10 < 9 THEN 'nb2' ELSE 'legacy' END,
       'prod-' || (g %% 3), 'gateway', 'default', 'calls', 'consume',
       CASE WHEN cat IN ('rate_limited') THEN 429 WHEN cat = 'overloaded' THEN 503 ELSE 200 END,
       '', '', '', '', 20, CASE WHEN cat = 'success' THEN 1120 ELSE 0 END,
       CASE WHEN cat = 'success' THEN 1 ELSE 0 END, 0, '1K', 30000,
       CASE WHEN cat IN ('rate_limited', 'overloaded') THEN 0
            WHEN g %% 10 < 6 AND cat <> 'success' AND g %% 1000 = 7 THEN NULL
            WHEN g %% 10 < 6 THEN 0.05 ELSE 0.003 END,
       1,
       CASE WHEN g %% 10 < 6 THEN 'per_request' ELSE 'per_token' END,
       0.05, cat, 'bench',
       CASE WHEN cat IN ('success', 'rate_limited', 'overloaded') OR g %% 10 = 3 THEN ''
            ELSE md5((g %% 5000)::text) END,
       '', now(), %(cid)s
FROM (
    SELECT g, CASE
        WHEN (g / 10) %% 100 < 80 THEN 'success'
        WHEN (g / 10) %% 100 < 82 THEN 'prompt_blocked'
        WHEN (g / 10) %% 100 < 84 THEN 'no_charge'
        WHEN (g / 10) %% 100 < 86 THEN 'image_blocked'
        WHEN (g / 10) %% 100 < 88 THEN 'no_image'
        WHEN (g / 10) %% 100 < 90 THEN 'text_refusal'
        WHEN (g / 10) %% 100 < 92 THEN 'empty_output'
        WHEN (g / 10) %% 100 < 96 THEN 'rate_limited'
        ELSE 'overloaded' END AS cat
    FROM generate_series(1, %(n)s) AS g
) s
"""


def build(sizes: list[int]) -> list:
    from billing.models import Tally
    from logs.models import Customer
    from logs.timeutil import month_range

    start, end = month_range(MONTH)
    span = (end - start).total_seconds() - 1
    Tally.objects.filter(customer__slug__startswith=PREFIX).delete()
    customers = []
    with connection.cursor() as cur:
        cur.execute("DELETE FROM logs_call WHERE customer_id IN (SELECT id FROM logs_customer WHERE slug LIKE %s)",
                    [PREFIX + "%"])
    for i, n in enumerate(sizes):
        c, _ = Customer.objects.update_or_create(
            slug=f"{PREFIX}{i:02d}", defaults={"enrolled_from": dt.date(2026, 5, 1), "topup_factor": "1.15"})
        customers.append(c)
        t0 = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(INSERT, {"cid": c.pk, "start": start, "span": span, "n": n})
        print(f"  inserted {n:>9,} calls for {c.slug} in {time.perf_counter() - t0:6.1f} s", flush=True)
    with connection.cursor() as cur:
        # The calls' keys (logs_callkey: the unique key of calls, the request-ID look-ups).
        cur.execute("INSERT INTO logs_callkey (request_id, customer_id, call_id, created_at) "
                    "SELECT request_id, customer_id, id, created_at FROM logs_call ON CONFLICT DO NOTHING")
        cur.execute("ANALYZE logs_call")
    return customers


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--big", type=int, default=1_000_000, help="calls of the one big customer-month")
    ap.add_argument("--total", type=int, default=5_000_000, help="calls of the month over all customers")
    ap.add_argument("--customers", type=int, default=20)
    ap.add_argument("--reuse", action="store_true", help="keep the calls of a previous run")
    args = ap.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench_tally needs PostgreSQL: set DATABASE_URL")

    from billing.selectors import tally_as_dict
    from billing.services.tally import tally_compute, tally_month_end
    from logs.models import Call, Customer

    call_command("migrate", verbosity=0)
    rest = max(args.total - args.big, 0)
    others = args.customers - 1
    sizes = [args.big] + [rest // others + (1 if i < rest % others else 0) for i in range(others)]
    existing = Customer.objects.filter(slug__startswith=PREFIX).order_by("slug")
    if args.reuse and existing.count() == len(sizes) and \
            Call.objects.filter(customer__in=existing).count() == sum(sizes):
        customers = list(existing)
        print(f"reusing {sum(sizes):,} calls over {len(customers)} customers")
    else:
        print(f"building {sum(sizes):,} calls over {len(sizes)} customers ({args.big:,} for the first)")
        t0 = time.perf_counter()
        customers = build(sizes)
        print(f"built in {time.perf_counter() - t0:.1f} s")

    big = customers[0]
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (timings are wall clock)")
    for attempt in ("run 1", "run 2 (replaces the draft)", "run 3 (replaces the draft)"):
        t0 = time.perf_counter()
        tally = tally_compute(customer=big, month=MONTH)
        took = time.perf_counter() - t0
        print(f"tally_compute, {args.big:,} calls, {attempt}: {took:.2f} s (target < 3 s)")
    print("  ", tally_as_dict(tally))

    t0 = time.perf_counter()
    tallies = tally_month_end(month=MONTH)
    took = time.perf_counter() - t0
    print(f"tally_month_end, {len(tallies)} customers, {sum(sizes):,} calls: {took:.2f} s (target < 10 s)")
    print(f"load average: {os.getloadavg()[0]:.1f}")
    print(f"   covered {sum(t.failed_calls for t in tallies):,}, counted {sum(t.counted_calls for t in tallies):,}, "
          f"credit ${sum(t.credit_usd for t in tallies):,}")


if __name__ == "__main__":
    main()
