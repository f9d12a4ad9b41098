"""Benchmark: the alert evaluator, 1,000 rules over 200 customers with N calls in the table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python tests/perf/bench_alerts.py [N]

A throwaway database (NBAUDIT_BENCH_DB_NAME, default bench_nbaudit_alerts; dropped afterwards
unless NBAUDIT_BENCH_KEEP=1) gets N calls (default 5,000,000) over 60 days and 200 customers,
built in SQL as bench_dashboard builds them, and their hourly rollups. Each customer has five
rules (failed-generation rate over 60 minutes, 429 and 503 rates over 15 minutes, a month-to-date
budget and a daily spike): 1,000 rules. Prints the time of a first evaluation (which opens
incidents and writes their notices) and of the steady state (the same figures again).
Target: under 2 s on PostgreSQL.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_dashboard as dash  # noqa: E402  (sets up Django)
from django.db import connection  # noqa: E402

dash.CUSTOMERS = 200
RULES_PER_CUSTOMER = (
    ("fg", "failed_generation_rate", 60, "0.05"),
    ("429", "rate_limited_rate", 15, "0.03"),
    ("503", "overloaded_rate", 15, "0.02"),
    ("budget", "spend_over_budget", 60, "50"),
    ("spike", "daily_spend_spike", 7 * 1440, "3"),
)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000_000
    if connection.vendor != "postgresql":
        raise SystemExit("needs PostgreSQL: set DATABASE_URL")
    connection.settings_dict["TEST"]["NAME"] = os.environ.get("NBAUDIT_BENCH_DB_NAME", "bench_nbaudit_alerts")
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        import datetime as dt

        from alerts.models import AlertRule
        from alerts.services.evaluate import alerts_evaluate
        from logs.models import Customer

        customers = Customer.objects.bulk_create(
            [Customer(slug=f"cust-{k:03d}", name=f"Customer {k:03d}") for k in range(dash.CUSTOMERS)])
        end = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        t0 = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(dash.calls_sql(n), {"end": end})
            cur.execute(dash.rollups_sql())
            dash.derived_fill(cur)
            cur.execute("VACUUM ANALYZE logs_call")
            cur.execute("VACUUM ANALYZE logs_hourlyrollup")
            for table in ("logs_coarserollup", "logs_coarsechannelrollup", "logs_allcustomersrollup",
                          "logs_allcustomerschannelrollup", "logs_allcustomersdailyrollup",
                          "logs_allcustomersdailychannelrollup", "logs_coarsedailyrollup",
                          "logs_coarsedailychannelrollup"):
                cur.execute(f"VACUUM ANALYZE {table}")
        print(f"{n:,} calls over {dash.DAYS} days and {dash.CUSTOMERS} customers built in {time.perf_counter() - t0:.0f} s")
        AlertRule.objects.bulk_create([
            AlertRule(name=f"{c.slug} {name}", kind=kind, customer=c, window_minutes=window, threshold=threshold,
                      min_calls=1, in_app=False)
            for c in customers for name, kind, window, threshold in RULES_PER_CUSTOMER])
        print(f"{AlertRule.objects.count():,} rules")
        t0 = time.perf_counter()
        first = alerts_evaluate()
        print(f"first evaluation: {time.perf_counter() - t0:.2f} s "
              f"({', '.join(f'{len(v)} {k}' for k, v in first.items())})")
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            alerts_evaluate()
            times.append(time.perf_counter() - t0)
        print(f"steady state: median {statistics.median(times):.2f} s, worst {max(times):.2f} s over 5 runs "
              f"(target < 2 s)")
    finally:
        if not os.environ.get("NBAUDIT_BENCH_KEEP"):
            connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
