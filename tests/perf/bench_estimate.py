"""Benchmark of the month-to-date credit estimate on PostgreSQL (speed of a page load).

Builds one customer-month with bench_tally's generator (BIG calls, about 7 % of them covered
Pro failures), rebuilds its rollups, then times `credit_estimate` cold (cache empty: rollups
plus the covered calls), warm (a cache hit: rollup version, tally and override lookups only),
the staff ranking `customers_ranked`, and `tally_compute` on the same month for comparison.
Prints the figures and checks that the estimate says what the tally says; asserts nothing
about time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nbaudit_bench_estimate \
        .venv/bin/python tests/perf/bench_estimate.py [--big 300000]

It migrates the database it is given and touches only customers named `bench-tally-*`.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_tally  # noqa: E402  (sets up Django)
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--big", type=int, default=300_000, help="calls of the customer-month")
    ap.add_argument("--reuse", action="store_true", help="keep the calls and rollups of a previous run")
    args = ap.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench_estimate needs PostgreSQL: set DATABASE_URL")
    from billing.services.estimate import credit_estimate, customers_ranked
    from billing.services.tally import tally_compute
    from logs.services.rollups import rollups_rebuild

    call_command("migrate", verbosity=0)
    from logs.models import Customer

    customer = Customer.objects.filter(slug=bench_tally.PREFIX + "00").first()
    if not (args.reuse and customer is not None):
        print(f"building {args.big:,} calls")
        (customer,) = bench_tally.build([args.big])
        t0 = time.perf_counter()
        rollups_rebuild(customer_id=customer.pk)
        print(f"rollups rebuilt in {time.perf_counter() - t0:.1f} s")
    customer.refresh_from_db()
    month = bench_tally.MONTH
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (timings are wall clock)")
    for run in range(3):
        cache.clear()
        t0 = time.perf_counter()
        est = credit_estimate(customer=customer, month=month)
        print(f"credit_estimate cold, run {run + 1}: {(time.perf_counter() - t0) * 1000:.0f} ms")
    for run in range(3):
        t0 = time.perf_counter()
        credit_estimate(customer=customer, month=month)
        print(f"credit_estimate warm (cached), run {run + 1}: {(time.perf_counter() - t0) * 1000:.1f} ms")
    t0 = time.perf_counter()
    customers_ranked(month=month)
    print(f"customers_ranked (warm): {(time.perf_counter() - t0) * 1000:.1f} ms")
    t0 = time.perf_counter()
    tally = tally_compute(customer=customer, month=month)
    print(f"tally_compute, same month: {(time.perf_counter() - t0) * 1000:.0f} ms")
    print(f"   estimate: covered {est.covered_calls:,}, counted {est.counted_calls:,}, credit ${est.credit_usd}")
    print(f"   tally:    covered {tally.failed_calls:,}, counted {tally.counted_calls:,}, credit ${tally.credit_usd}")
    print("   agree" if (est.covered_calls, est.counted_calls, est.credit_usd) ==
          (tally.failed_calls, tally.counted_calls, tally.credit_usd) else "   DIFFER")


if __name__ == "__main__":
    main()
