"""Benchmark: export one customer-month of calls to Excel, against bare openpyxl write-only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python tests/perf/bench_export.py [--rows N] [--keep]

Target (speed and memory): on PostgreSQL, 1,000,000 calls of one customer-month
export (`export_write`, the code the Celery task runs) in no more than 1.2 times what bare
openpyxl write-only takes to write the same values with the same cell styles; the export's
peak memory under 250 MB; progress recorded at least every 2 seconds.

It creates a dedicated database (NBAUDIT_BENCH_DB_NAME, default nbaudit_bench_export; dropped at
the end unless --keep), migrates it, fills it with INSERT ... SELECT generate_series (one
customer, one month, a mix of categories and models, plus another customer's calls that must
not be read), then runs each side in a fresh subprocess (so ru_maxrss is that side's peak):

  (a) export: `export_write` of a saved ExportJob with its real progress callback (each call
      updates rows_done and the heartbeat on the job row); the gaps between progress calls are
      measured;
  (b) baseline: bare openpyxl write-only. It reads the SAME rows from the database THE SAME WAY
      (the same keyset queries, batch size and fields, not pre-fetched), converts times to naive
      UTC+8 as the export does, and writes every row with the same cell styles made the usual
      openpyxl way (a WriteOnlyCell per dated/money cell with its number_format, a bold header);
      no summary sheet, no progress, no formula guard, no temporary-file-and-rename.

It also runs (c) the same export as CSV (the export job's other format). Each writes the file
to a temporary folder. It prints the times, the ratio, the peak memory and
the longest gap between progress updates.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/postgres"
MONTH_FROM, MONTH_TO = "2026-10-01", "2026-10-31"


def _conninfo(url: str) -> str:
    import dj_database_url

    cfg = dj_database_url.parse(url)
    parts = {"host": cfg.get("HOST") or "127.0.0.1", "port": cfg.get("PORT") or 5432,
             "user": cfg.get("USER") or "", "password": cfg.get("PASSWORD") or "",
             "dbname": cfg.get("NAME") or "postgres"}
    return " ".join(f"{k}='{v}'" for k, v in parts.items() if v)


def _bench_url(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def pg_recreate(url: str, name: str, *, drop_only=False) -> None:
    import psycopg

    with psycopg.connect(_conninfo(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


FILL = """
INSERT INTO logs_call (customer_id, request_id, request_id_synthetic, created_at, model, family,
    token_name, route, "group", source, log_type, http_status, finish_reason, block_reason,
    finish_message, error_text, prompt_tokens, output_tokens, thoughts_tokens, total_tokens,
    image_tokens, images, drafts, image_size, latency_ms, charged_usd, group_ratio, billing_mode,
    expected_usd, category, reason, prompt_fingerprint, prompt, ingested_at)
SELECT %(customer)s, %(prefix)s || lpad(g::text, 8, '0'), false,
    timestamptz '2026-10-01 00:00:00+08' + (g::double precision * %(step)s) * interval '1 second',
    CASE WHEN g %% 5 = 0 THEN 'gemini-3.1-flash-image-preview' ELSE 'gemini-3-pro-image-preview' END,
    CASE WHEN g %% 5 = 0 THEN 'nb2' ELSE 'pro' END,
    (ARRAY['prod-web','prod-api','batch','mobile'])[1 + g %% 4], 'gateway', 'default', 'gateway',
    CASE WHEN g %% 17 IN (3, 4) THEN 'error' ELSE 'consume' END,
    CASE WHEN g %% 17 = 3 THEN 429 WHEN g %% 17 = 4 THEN 503 ELSE 200 END,
    CASE WHEN g %% 17 IN (3, 4) THEN '' WHEN g %% 23 = 5 THEN 'IMAGE_SAFETY' ELSE 'STOP' END, '',
    CASE WHEN g %% 23 = 5 THEN 'Unable to show the generated image.' ELSE '' END,
    CASE WHEN g %% 17 = 3 THEN 'Resource has been exhausted (e.g. check quota).'
         WHEN g %% 17 = 4 THEN '=The model is overloaded. Please try again later.' ELSE '' END,
    20 + g %% 200, CASE WHEN g %% 17 IN (3, 4) THEN 0 ELSE 1120 END, CASE WHEN g %% 3 = 0 THEN 180 END,
    CASE WHEN g %% 17 IN (3, 4) THEN 20 + g %% 200 ELSE 1140 + g %% 200 END,
    CASE WHEN g %% 17 IN (3, 4) THEN NULL ELSE 1120 END,
    CASE WHEN g %% 17 IN (3, 4) OR g %% 23 = 5 THEN 0 ELSE 1 END, 0,
    (ARRAY['1K','2K','4K'])[1 + g %% 3], 8000 + (g::bigint * 7919) %% 60000,
    CASE WHEN g %% 17 IN (3, 4) THEN 0 ELSE 0.134000 END, 1.000000, 'per_request',
    CASE WHEN g %% 17 IN (3, 4) THEN 0 ELSE 0.134000 END,
    CASE WHEN g %% 17 = 3 THEN 'rate_limited' WHEN g %% 17 = 4 THEN 'overloaded'
         WHEN g %% 23 = 5 THEN 'image_blocked' ELSE 'success' END,
    CASE WHEN g %% 17 = 3 THEN 'HTTP 429 RESOURCE_EXHAUSTED' WHEN g %% 17 = 4 THEN 'HTTP 503 UNAVAILABLE'
         WHEN g %% 23 = 5 THEN 'finishReason=IMAGE_SAFETY' ELSE 'image delivered' END,
    '', '', now()
FROM generate_series(1, %(rows)s) AS g
"""


def fill(bench_url: str, rows: int) -> dict:
    import psycopg

    month_seconds = 31 * 86400
    with psycopg.connect(_conninfo(bench_url)) as conn:
        ids = {}
        for slug in ("acme", "globex"):
            ids[slug] = conn.execute(
                "INSERT INTO logs_customer (slug, name, topup_factor, created_at) "
                "VALUES (%s, %s, 1, now()) RETURNING id", (slug, slug.title())).fetchone()[0]
        conn.execute("INSERT INTO logs_user (password, is_superuser, username, first_name, last_name, email, "
                     "is_staff, is_active, date_joined, customer_id, time_zone) VALUES "
                     "('!', false, 'bench', '', '', '', false, true, now(), %s, '')", (ids["acme"],))
        t0 = time.perf_counter()
        conn.execute(FILL, {"customer": ids["acme"], "prefix": "req-", "rows": rows,
                            "step": month_seconds / (rows + 1)})
        other = max(1000, rows // 10)
        conn.execute(FILL, {"customer": ids["globex"], "prefix": "other-", "rows": other,
                            "step": month_seconds / (other + 1)})
        conn.commit()
        # The calls' keys (logs_callkey: the unique key of calls, the request-ID look-ups).
        conn.execute("INSERT INTO logs_callkey (request_id, customer_id, call_id, created_at) "
                     "SELECT request_id, customer_id, id, created_at FROM logs_call ON CONFLICT DO NOTHING")
        conn.execute("ANALYZE logs_call")
        conn.commit()
        return {"seconds": round(time.perf_counter() - t0, 1), "rows": rows, "other_rows": other}


# --- the two sides, each in its own process -----------------------------------------------------

def _setup():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nbaudit.settings_test")
    import django

    django.setup()


def child_export(out_dir: str, fmt: str = "xlsx") -> dict:
    _setup()
    import datetime as dt

    from logs.models import Customer, ExportJob, User
    from logs.models.jobs import JobStatus
    from logs.services import exports as svc
    from logs.services.exports.jobs import _job_progress

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    job = ExportJob.objects.create(owner=User.objects.get(username="bench"),
                                   customer=Customer.objects.get(slug="acme"),
                                   date_from=dt.date.fromisoformat(MONTH_FROM),
                                   date_to=dt.date.fromisoformat(MONTH_TO),
                                   status=JobStatus.RUNNING, filename=f"bench.{fmt}", format=fmt)
    real = _job_progress(job)
    ticks = []

    def progress(done, total):
        ticks.append(time.perf_counter())
        real(done, total)

    t0 = time.perf_counter()
    result = svc.export_write(job=job, out_path=Path(out_dir) / f"export.{fmt}", progress=progress)
    seconds = time.perf_counter() - t0
    gaps = [b - a for a, b in zip([t0] + ticks, ticks + [time.perf_counter()])]
    job.refresh_from_db()
    return {"seconds": seconds, "rows": result["rows"], "sheets": result["sheets"], "size": result["size"],
            "progress_updates": len(ticks), "max_progress_gap": max(gaps), "job_rows_done": job.rows_done,
            "rss_setup_kb": rss0, "rss_peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def child_baseline(out_dir: str) -> dict:
    _setup()
    import datetime as dt

    from django.conf import settings
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    from logs.models import Call, Customer
    from logs.pagination import keyset_batches
    from logs.selectors.calls import calls_filter
    from logs.services.exports import writer as svc
    from logs.timeutil import billing_tz

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tz = billing_tz()
    cols = svc._columns(with_prompt=False)
    fields = ["created_at", "id"]
    for c in cols[1:]:
        if c[1] not in fields:
            fields.append(c[1])
    spec = [(c[3], fields.index(c[1])) for c in cols[1:]]
    slugs = dict(Customer.objects.values_list("pk", "slug"))
    acme = Customer.objects.get(slug="acme")
    t0 = time.perf_counter()
    qs = calls_filter(Call.objects.filter(customer=acme), date_from=dt.date.fromisoformat(MONTH_FROM),
                      date_to=dt.date.fromisoformat(MONTH_TO))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Calls")
    ws.freeze_panes = "A2"
    header = []
    for c in cols:
        cell = WriteOnlyCell(ws, value=c[0])
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    n = 0
    max_rows = settings.NBAUDIT_EXPORT_MAX_ROWS
    for row in (r for page in keyset_batches(qs, fields, svc.BATCH) for r in page):
        if n and n % max_rows == 0:  # the same sheet split, so both write the same cells
            ws = wb.create_sheet(f"Calls ({n // max_rows + 1})")
            ws.append(header)
        when = WriteOnlyCell(ws, value=row[0].astimezone(tz).replace(tzinfo=None))
        when.number_format = svc.DATE_FORMAT
        out = [when]
        for kind, i in spec:
            value = row[i]
            if value is None or value == "":
                out.append(None)
            elif kind == "money":
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = svc.MONEY_FORMAT
                out.append(cell)
            elif kind == "customer":
                out.append(slugs[value])
            elif kind == "failed":
                out.append(value != "success")
            else:
                out.append(value)
        ws.append(out)
        n += 1
    path = Path(out_dir) / "baseline.xlsx"
    wb.save(path)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "rows": n, "size": path.stat().st_size,
            "rss_setup_kb": rss0, "rss_peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def run_child(mode: str, bench_url: str, out_dir: str, *, data_dir: str) -> dict:
    env = dict(os.environ, DATABASE_URL=bench_url, NBAUDIT_DATA_DIR=data_dir)
    env.pop("NBAUDIT_TEST_DB_NAME", None)
    cmd = [sys.executable, __file__, "--child", mode, "--out-dir", out_dir]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if out.returncode:
        sys.stderr.write(out.stdout + out.stderr)
        raise SystemExit(f"{mode} failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--keep", action="store_true", help="keep the benchmark database")
    p.add_argument("--reuse", action="store_true", help="reuse a kept, filled database")
    p.add_argument("--child", choices=["export", "baseline", "csv"], help=argparse.SUPPRESS)
    p.add_argument("--out-dir", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        result = (child_baseline(args.out_dir) if args.child == "baseline"
                  else child_export(args.out_dir, "csv" if args.child == "csv" else "xlsx"))
        print(json.dumps(result))
        return 0

    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not url.startswith("postgres"):
        raise SystemExit("needs PostgreSQL: DATABASE_URL=postgres://...")
    name = os.environ.get("NBAUDIT_BENCH_DB_NAME", "nbaudit_bench_export")
    bench_url = _bench_url(url, name)
    with tempfile.TemporaryDirectory(prefix="nbaudit-bench-export-") as tmp:
        data_dir = str(Path(tmp) / "data")
        if not args.reuse:
            pg_recreate(url, name)
            env = dict(os.environ, DATABASE_URL=bench_url, NBAUDIT_DATA_DIR=data_dir)
            env.pop("NBAUDIT_TEST_DB_NAME", None)
            subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
                           check=True, cwd=ROOT, env=env)
            filled = fill(bench_url, args.rows)
            print(f"filled {filled['rows']:,} calls of one customer-month (+{filled['other_rows']:,} "
                  f"of another customer) in {filled['seconds']} s")
        try:
            # Baseline first, then the export: neither gets a colder cache than the other's first run.
            base = run_child("baseline", bench_url, tmp, data_dir=data_dir)
            exp = run_child("export", bench_url, tmp, data_dir=data_dir)
            as_csv = run_child("csv", bench_url, tmp, data_dir=data_dir)
        finally:
            if not args.keep:
                pg_recreate(url, name, drop_only=True)
    ratio = exp["seconds"] / base["seconds"]
    mb = exp["rss_peak_kb"] / 1024
    print(f"rows:               {exp['rows']:,} (baseline {base['rows']:,}); sheets: {', '.join(exp['sheets'])}")
    print(f"bare openpyxl:      {base['seconds']:.1f} s  (peak {base['rss_peak_kb'] / 1024:.0f} MB, "
          f"file {base['size'] / 1e6:.1f} MB)")
    print(f"export_write:       {exp['seconds']:.1f} s  (peak {mb:.0f} MB, after django.setup "
          f"{exp['rss_setup_kb'] / 1024:.0f} MB; file {exp['size'] / 1e6:.1f} MB)")
    print(f"export_write (CSV): {as_csv['seconds']:.1f} s  (peak {as_csv['rss_peak_kb'] / 1024:.0f} MB; file "
          f"{as_csv['size'] / 1e6:.1f} MB; {as_csv['seconds'] / exp['seconds']:.2f} of the Excel export's time)")
    print(f"ratio:              {ratio:.2f}  (target <= 1.20: {'ok' if ratio <= 1.2 else 'MISSED'})")
    print(f"peak memory:        {mb:.0f} MB  (target < 250 MB: {'ok' if mb < 250 else 'MISSED'})")
    print(f"progress:           {exp['progress_updates']} updates, longest gap {exp['max_progress_gap']:.2f} s "
          f"(target <= 2 s: {'ok' if exp['max_progress_gap'] <= 2 else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
