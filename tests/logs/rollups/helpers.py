"""Inputs and checks shared by the rollup tests: gateway exports spread over hours, and
"the rollups equal a fresh rebuild from the calls" (the coarse ones the projection of the hourly ones)."""
from __future__ import annotations

import datetime as dt

from logs.models import CoarseChannelRollup, CoarseRollup, Customer, HourlyRollup
from logs.selectors.rollups import (
    CHANNEL_KEY,
    COARSE_KEY,
    ROLLUP_KEY,
    ROLLUP_VALUES,
    all_customers_differences,
    coarse_differences,
    rollups_differences,
)
from logs.services.rollups import rollups_rebuild

HEADER = "时间,请求ID,用户,令牌,分组,类型,模型,用时,提示,补全,花费,详情\n"
PRO, NB2 = "gemini-3-pro-image-preview", "gemini-3.1-flash-image-preview"
START = dt.datetime(2026, 10, 3, 8, 0)  # naive Beijing time, as exports write it


def export_rows(n: int, *, prefix: str = "r", user: str = "acme", start: dt.datetime = START,
                step_s: int = 97, offset: int = 0) -> list[str]:
    """n export rows (one call each): two models, three keys, some 429/503 errors, over several hours."""
    rows = []
    for j in range(offset, offset + n):
        at = (start + dt.timedelta(seconds=step_s * j)).strftime("%Y-%m-%d %H:%M:%S")
        token = ("web", "batch", "mobile")[j % 3]
        model = PRO if j % 4 else NB2
        use_time = str(5 + (j * 7) % 70)
        if j % 11 == 5:
            rows.append(f'{at},{prefix}-{j:05d},{user},{token},default,错误,{model},{use_time},0,0,$0.000000,'
                        f'"status_code={429 if j % 2 else 503}, busy"')
        else:
            cost = "$0.050000" if model == PRO else "$0.067482"
            rows.append(f"{at},{prefix}-{j:05d},{user},{token},default,消费,{model},{use_time},"
                        f"{10 + j % 90},1120,{cost},模型价格 0.05，分组倍率 1")
    return rows


def export(rows: list[str]) -> bytes:
    return (HEADER + "\n".join(rows) + "\n").encode()


def snapshot(customer_id: int) -> list[tuple]:
    return sorted(
        tuple(str(v) for v in row)
        for row in HourlyRollup.objects.filter(customer_id=customer_id).values_list(*ROLLUP_KEY, *ROLLUP_VALUES)
    )


def coarse_snapshot(customer_id: int) -> list[tuple]:
    """The customer's coarse rows, then its failures by channel (marked "channel")."""
    return sorted(
        tuple(str(v) for v in row)
        for row in CoarseRollup.objects.filter(customer_id=customer_id).values_list(*COARSE_KEY, *ROLLUP_VALUES)
    ) + sorted(
        ("channel", *(str(v) for v in row))
        for row in CoarseChannelRollup.objects.filter(customer_id=customer_id).values_list(*CHANNEL_KEY, "calls")
    )


def assert_exact(slug: str = "acme") -> int:
    """The customer's rollups equal its calls, its coarse rollups the projection of its hourly
    ones (one row per coarse key), staff's all-customers ones the sums of the coarse ones (in the
    hours no mark holds), and a fresh rebuild writes the very same rows of both.

    Returns the calls the rollups count."""
    customer = Customer.objects.get(slug=slug)
    diffs, totals = rollups_differences(customer_id=customer.pk)
    assert [d.describe() for d in diffs] == []
    assert totals["rollups"] == totals["calls"]
    assert [d.describe() for d in coarse_differences(customer_id=customer.pk)] == []
    assert [d.describe() for d in all_customers_differences()] == []
    coarse = coarse_snapshot(customer.pk)
    assert len({row[:len(COARSE_KEY) + 1] for row in coarse}) == len(coarse)  # one row per key
    assert sum(int(row[len(COARSE_KEY)]) for row in coarse if row[0] != "channel") == totals["calls"]
    before = snapshot(customer.pk)
    rollups_rebuild(customer_id=customer.pk)
    assert snapshot(customer.pk) == before
    assert coarse_snapshot(customer.pk) == coarse
    return totals["rollups"]
