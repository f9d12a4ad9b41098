"""The matching of a reconciliation: the staged local rows against the platform's calls and
ingest conflicts of the period, in one SQL statement, one category per request ID (billing.md).

Money is integer micro-dollars in SQL (exact on both databases) and comes back as Decimal at
6 places. The covered-call rule is logs.coverage's (`covered_sql`), the tally's too.
"""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import Q

from billing.choices import ReconCategory
from billing.models import Reconciliation, ReconciliationItem
from billing.services.reconciliation.staging import MICRO, _micros, _Stage
from logs.choices import GOOGLE_FREE, REQUEST_ERROR, BillingMode, Category
from logs.coverage import covered_sql
from logs.models import Call
from logs.money import q6
from logs.services.jobs import job_finish

if TYPE_CHECKING:
    from billing.services.reconciliation.run import _Clock

# Over-charged money is counted over these categories (billing.md).
OVER_CATEGORIES = (ReconCategory.DUPLICATE_CHARGE, ReconCategory.CHARGED_FOR_ERROR,
                   ReconCategory.CHARGED_BUT_FREE, ReconCategory.AMOUNT_MISMATCH)
# Amount tolerance: max($0.0001, 1% of the amount compared against), against the expected charge and
# against the local log's own amount (`charged_usd`, where the local row has one). The money over and
# under stays measured against the expected charge: a local amount is shown, not summed (billing.md).
TOLERANCE_MIN_MICROS = 100
TOLERANCE_PERCENT = 1


def _price_missing(recon: Reconciliation, stage: _Stage, start, end) -> None:
    """Calls of the period stored without an expected charge or billing mode: priced now.

    Ingest stores each call's expected charge from the dated catalog (logs.pricing); a call
    stored without one (an unknown model then, a catalog row added since) is priced here.
    """
    from logs.pricing import Catalog, expected_charge

    calls = (Call.objects.filter(customer_id=recon.customer_id, created_at__gte=start, created_at__lt=end)
             .filter(Q(expected_usd__isnull=True) | Q(billing_mode=""))
             .only("id", "family", "model", "route", "created_at", "category", "http_status", "group_ratio",
                   "prompt_tokens", "output_tokens", "thoughts_tokens", "image_tokens", "images",
                   "image_size", "expected_usd", "billing_mode"))
    catalog = None
    rows = []
    for call in calls.iterator(chunk_size=2000):
        catalog = catalog or Catalog.load()
        price = catalog.find(family=call.family or None, model=call.model, route=call.route, at=call.created_at)
        if price is None:
            continue
        expected = call.expected_usd
        if expected is None:
            expected = expected_charge(
                price, family=call.family or None, category=call.category, http_status=call.http_status,
                group_ratio=call.group_ratio, prompt_tokens=call.prompt_tokens,
                output_tokens=call.output_tokens, thoughts_tokens=call.thoughts_tokens,
                image_tokens=call.image_tokens, images=call.images, image_size=call.image_size)
        rows.append((call.pk, call.billing_mode or price.billing_mode, _micros(expected)))
    if rows:
        with connection.cursor() as cur:
            cur.executemany(f"INSERT INTO {stage.extra} (call_id, billing_mode, expected) VALUES (%s, %s, %s)", rows)


def _in(values) -> str:
    return "(" + ", ".join(f"'{str(v)}'" for v in values) + ")"


def _money_sql(column: str) -> str:
    return f"CAST(ROUND({column} * {MICRO}) AS BIGINT)"


def _match_sql(stage: _Stage) -> str:
    """One row per request ID, with its category and money in micro-dollars."""
    errors, free = _in(REQUEST_ERROR), _in(GOOGLE_FREE)
    per_token = f"'{BillingMode.PER_TOKEN}'"
    success = f"'{Category.SUCCESS}'"
    in_period = "created_at >= %(start)s AND created_at < %(end)s"
    c_in_period = "c.created_at >= %(start)s AND c.created_at < %(end)s"
    rc = ReconCategory  # noqa: F841 (used in the f-string)
    return f"""
WITH conflict_charges AS (
    -- per request ID, the ingest conflicts of the period: how many, the sum of their charges, the charge of the first
    SELECT request_id, COUNT(*) AS n, SUM(ch) AS total, MAX(CASE WHEN rn = 1 THEN ch END) AS first_ch
    FROM (
        SELECT request_id, COALESCE({_money_sql('charged_usd')}, 0) AS ch,
               ROW_NUMBER() OVER (PARTITION BY request_id ORDER BY created_at, id) AS rn
        FROM logs_ingestconflict WHERE customer_id = %(customer)s AND {in_period}
    ) s GROUP BY request_id
),
platform AS (
    -- per platform request ID: its call of the period with the extra charges of its conflicts, or (no call in the period) its conflicts alone
    SELECT c.request_id, c.id AS call_id, c.category AS pcat, c.family,
           COALESCE(NULLIF(c.billing_mode, ''), x.billing_mode, '') AS mode, c.http_status,
           1 + COALESCE(f.n, 0) AS n,
           {_money_sql('c.charged_usd')} AS first_ch,
           COALESCE({_money_sql('c.charged_usd')}, 0) + COALESCE(f.total, 0) AS total_ch,
           COALESCE({_money_sql('c.expected_usd')}, x.expected) AS exp_raw
    FROM logs_call c
    LEFT JOIN conflict_charges f ON f.request_id = c.request_id
    LEFT JOIN {stage.extra} x ON x.call_id = c.id
    WHERE c.customer_id = %(customer)s AND {c_in_period}
    UNION ALL
    SELECT f.request_id, c.id, c.category, c.family,
           COALESCE(NULLIF(c.billing_mode, ''), x.billing_mode, ''), c.http_status,
           f.n, f.first_ch, f.total,
           COALESCE({_money_sql('c.expected_usd')}, x.expected)
    FROM conflict_charges f
    LEFT JOIN logs_callkey k ON k.customer_id = %(customer)s AND k.request_id = f.request_id
    LEFT JOIN logs_call c ON c.id = k.call_id AND c.created_at = k.created_at
    LEFT JOIN {stage.extra} x ON x.call_id = c.id
    WHERE c.id IS NULL OR NOT ({c_in_period})
),
paired AS (
    -- the platform row and the local row of each request ID side by side (either may be missing)
    SELECT COALESCE(platform.request_id, loc.request_id) AS request_id, platform.call_id, platform.pcat,
           platform.family, platform.mode, platform.http_status, COALESCE(platform.n, 0) AS n,
           platform.first_ch, COALESCE(platform.total_ch, 0) AS total_ch, platform.exp_raw,
           loc.line AS lline, loc.category AS lcat, loc.charged AS lch,
           CASE WHEN platform.request_id IS NULL THEN 0 ELSE 1 END AS on_p,
           CASE WHEN loc.request_id IS NULL THEN 0 ELSE 1 END AS on_l
    FROM platform FULL OUTER JOIN {stage.local_source()} loc ON loc.request_id = platform.request_id
),
expected AS (
    -- the expected charge that counts: none off the platform, zero for a request error or a free per-token failure
    SELECT paired.*,
        CASE WHEN on_p = 0 THEN NULL
             WHEN pcat IN {errors} THEN 0
             WHEN mode = {per_token} AND (pcat IN {free} OR lcat IN {free}) THEN 0
             ELSE exp_raw END AS exp
    FROM paired
),
categorised AS (
    -- one category per request ID: the first rule that holds, in the order of billing.md
    SELECT expected.*,
        CASE WHEN on_l = 0 THEN '{rc.MISSING_LOCALLY}'
             WHEN on_p = 0 THEN '{rc.MISSING_ON_PLATFORM}'
             WHEN n > 1 THEN '{rc.DUPLICATE_CHARGE}'
             WHEN pcat IN {errors} AND total_ch > 0 THEN '{rc.CHARGED_FOR_ERROR}'
             WHEN mode = {per_token} AND total_ch > 0 AND (pcat IN {free} OR lcat IN {free})
                  THEN '{rc.CHARGED_BUT_FREE}'
             WHEN (CASE WHEN pcat = {success} THEN 1 ELSE 0 END) <> (CASE WHEN lcat = {success} THEN 1 ELSE 0 END)
                  THEN '{rc.STATUS_MISMATCH}'
             WHEN (exp IS NOT NULL AND first_ch IS NOT NULL
                   AND ABS(first_ch - exp) > {TOLERANCE_MIN_MICROS}
                   AND {100 // TOLERANCE_PERCENT} * ABS(first_ch - exp) > exp)
               OR (lch IS NOT NULL AND first_ch IS NOT NULL
                   AND ABS(first_ch - lch) > {TOLERANCE_MIN_MICROS}
                   AND {100 // TOLERANCE_PERCENT} * ABS(first_ch - lch) > lch)
                  THEN '{rc.AMOUNT_MISMATCH}'
             WHEN {covered_sql(mode="mode", category="pcat")} AND total_ch > 0
                  THEN '{rc.REIMBURSABLE_FAILURE}'
             ELSE '{rc.MATCH}' END AS cat
    FROM expected
)
-- the result: category, charges, expected charge, and the money over and under it
SELECT request_id, cat, call_id, COALESCE(lcat, '') AS lcat, COALESCE(pcat, '') AS pcat, n,
       CASE WHEN on_p = 1 THEN total_ch END AS total_ch, lch, exp,
       CASE WHEN cat IN {_in(OVER_CATEGORIES)} THEN
            (CASE WHEN first_ch IS NOT NULL AND exp IS NOT NULL AND first_ch > exp THEN first_ch - exp ELSE 0 END)
            + (total_ch - COALESCE(first_ch, 0))
            ELSE 0 END AS over_ch,
       CASE WHEN on_p = 1 AND on_l = 1 AND exp IS NOT NULL AND first_ch IS NOT NULL AND exp > first_ch
            THEN exp - first_ch ELSE 0 END AS under_ch,
       lline
FROM categorised
"""


def _matches_listed_max() -> int:
    """Matching request IDs get an item each up to this many; above, they are only counted."""
    from django.conf import settings

    return int(getattr(settings, "NBAUDIT_RECON_MATCHES_LISTED_MAX", 100_000))


def _match(recon: Reconciliation, stage: _Stage, start, end, clock: _Clock) -> None:
    params = {"start": stage.param(start), "end": stage.param(end), "customer": recon.customer_id}
    result = f"recon_result_{recon.pk}"
    item = ReconciliationItem._meta.db_table
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {result}")
        cur.execute(f"CREATE TEMP TABLE {result} AS {_match_sql(stage)}", params)
        clock.lap("match")
        try:
            cur.execute(
                f"SELECT cat, COUNT(*), SUM(COALESCE(total_ch, 0)), SUM(COALESCE(exp, 0)), SUM(over_ch), "
                f"SUM(under_ch), SUM(COALESCE(lch, 0)) FROM {result} GROUP BY cat")
            by_cat = {row[0]: row[1:] for row in cur.fetchall()}
            cur.execute("SELECT COUNT(*) FROM logs_call WHERE customer_id = %(customer)s "
                        "AND created_at >= %(start)s AND created_at < %(end)s", params)
            calls = cur.fetchone()[0]
            cur.execute("SELECT COUNT(*) FROM logs_ingestconflict WHERE customer_id = %(customer)s "
                        "AND created_at >= %(start)s AND created_at < %(end)s", params)
            conflicts = cur.fetchone()[0]
            clock.lap("totals")
            cur.execute(f"DELETE FROM {item} WHERE reconciliation_id = %s", [recon.pk])
            div = f"{MICRO}.0"
            matches = int(by_cat.get(ReconCategory.MATCH, (0,))[0] or 0)
            recon.matches_listed = matches <= _matches_listed_max()
            only_differences = "" if recon.matches_listed else f"WHERE cat <> '{ReconCategory.MATCH}'"
            cur.execute(
                f"INSERT INTO {item} (reconciliation_id, request_id, category, call_id, local_category, "
                f"platform_category, charges, charged_usd, local_charged_usd, expected_usd, over_usd, "
                f"under_usd, detail, local_line) "
                f"SELECT %s, request_id, cat, call_id, lcat, pcat, n, total_ch / {div}, lch / {div}, "
                f"exp / {div}, over_ch / {div}, under_ch / {div}, '', lline FROM {result} {only_differences}",
                [recon.pk])
            clock.lap("items")
        finally:
            cur.execute(f"DROP TABLE IF EXISTS {result}")

    def usd(micros) -> Decimal:
        return q6(Decimal(int(micros or 0)) / MICRO)

    categories = {code: 0 for code in ReconCategory.values}
    money = {}
    for code, (count, charged, expected, over, under, local) in by_cat.items():
        categories[code] = int(count)
        money[code] = {"charged": str(usd(charged)), "expected": str(usd(expected)),
                       "over": str(usd(over)), "under": str(usd(under)), "local": str(usd(local))}
    over_total = sum(int(by_cat[c][3] or 0) for c in by_cat if c in OVER_CATEGORIES)
    under_total = sum(int(row[4] or 0) for row in by_cat.values())
    unmatched = int(by_cat.get(ReconCategory.MISSING_LOCALLY, (0, 0))[1] or 0)
    recon.categories = categories
    recon.money = money
    recon.platform_rows = int(calls) + int(conflicts)
    recon.overcharged_usd = usd(over_total)
    recon.undercharged_usd = usd(under_total)
    recon.unmatched_charged_usd = usd(unmatched)
    job_finish(job=recon, save=True)
