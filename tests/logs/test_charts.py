"""The Overview's chart functions: rollup rows in, figures out; no HTTP, no database."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from logs import charts
from logs.models import LATENCY_BUCKETS_MS

SH = ZoneInfo("Asia/Shanghai")


def row(day, category, calls, images=0, charged="0"):
    return {"period": dt.datetime(2026, 10, day, tzinfo=SH), "category": category, "calls": calls,
            "images": images, "charged_usd": Decimal(charged)}


ROWS = [
    row(1, "success", 8, images=8, charged="0.40"), row(1, "no_image", 2, charged="0.10"),
    row(2, "success", 3, images=3, charged="0.15"), row(2, "rate_limited", 6),
    row(2, "overloaded", 1),
]


def test_calls_figure_stacks_categories_and_draws_failure_rate():
    fig = charts.calls_figure(ROWS)
    bars = {t.name: list(t.y) for t in fig.data if t.type == "bar"}
    assert bars["Success"] == [8, 3] and bars["No image"] == [2, 0] and bars["Rate limited (429)"] == [0, 6]
    line = [t for t in fig.data if t.type == "scatter"][0]
    assert list(line.y) == [20.0, 70.0] and line.yaxis == "y2"
    assert fig.layout.barmode == "stack"
    assert list(fig.data[0].x) == [dt.date(2026, 10, 1), dt.date(2026, 10, 2)]


def test_hourly_periods_shown_in_page_zone():
    rows = [{"period": dt.datetime(2026, 10, 1, 16, tzinfo=dt.timezone.utc), "category": "success",
             "calls": 1, "images": 1, "charged_usd": 0}]
    fig = charts.calls_figure(rows, hourly=True, tz=SH)
    assert list(fig.data[0].x) == [dt.datetime(2026, 10, 2, 0, 0)]


def test_totals_and_cost_per_delivered_image():
    t = charts.totals(ROWS)
    assert t["calls"] == 20 and t["failed"] == 9 and t["images"] == 11
    assert t["spend_usd"] == Decimal("0.65")
    assert t["cost_per_image_usd"] == Decimal("0.65") / 11


def test_spend_series_per_day():
    s = charts.spend_series(ROWS)
    assert [x["spend_usd"] for x in s] == [Decimal("0.50"), Decimal("0.15")]
    assert s[0]["cost_per_image_usd"] == Decimal("0.50") / 8 and s[1]["cost_per_image_usd"] == Decimal("0.05")
    fig = charts.spend_figure(ROWS)
    assert [t.type for t in fig.data] == ["bar", "scatter"]


def test_error_mix_largest_first():
    assert charts.error_mix(ROWS) == {"rate_limited": 6, "no_image": 2, "overloaded": 1}
    fig = charts.error_mix_figure(ROWS)
    assert list(fig.data[0].x) == [1, 2, 6]  # drawn bottom-up


@pytest.mark.parametrize("n429,n503,words", [
    (6, 1, "client sends requests too fast"),
    (1, 6, "upstream model is overloaded"),
    (5, 5, "both alike"),
    (0, 0, "No 429"),
])
def test_429_against_503_sentence(n429, n503, words):
    rows = [row(1, "rate_limited", n429), row(1, "overloaded", n503)]
    info = charts.rate_vs_overload(rows)
    assert words in info["sentence"]
    if n429 + n503:
        assert info["share_429"] == n429 / (n429 + n503)


def test_heatmap_failure_rate_by_hour_and_weekday():
    rows = [{"dow": 1, "hod": 9, "calls": 4, "failed": 1}, {"dow": 7, "hod": 23, "calls": 2, "failed": 2}]
    fig = charts.failure_heatmap_figure(rows)
    z = fig.data[0].z
    assert z[9][0] == 25.0 and z[23][6] == 100.0 and z[0][0] is None
    assert list(fig.data[0].x)[0] == "Mon" and fig.data[0].y[23] == "23:00"


def test_percentiles_from_buckets():
    counts = [0] * len(LATENCY_BUCKETS_MS)
    counts[0] = 50   # < 1 s
    counts[1] = 50   # 1-2 s
    assert charts.percentile_from_buckets(counts, 0.5) == 1000
    assert charts.percentile_from_buckets(counts, 0.95) == 1900
    open_end = [0] * len(LATENCY_BUCKETS_MS)
    open_end[-1] = 3
    assert charts.percentile_from_buckets(open_end, 0.5) == LATENCY_BUCKETS_MS[-2]
    assert charts.percentile_from_buckets([0] * len(LATENCY_BUCKETS_MS), 0.5) is None


def test_latency_by_size_ordered():
    def b(i, n):
        c = [0] * len(LATENCY_BUCKETS_MS)
        c[i] = n
        return c
    rows = [{"image_size": "4K", "buckets": b(8, 10)}, {"image_size": "1K", "buckets": b(3, 10)},
            {"image_size": "1K", "buckets": b(3, 10)}]
    out = charts.latency_by_size(rows)
    assert [o["image_size"] for o in out] == ["1K", "4K"] and out[0]["calls"] == 20
    fig = charts.latency_figure(rows)
    assert [t.name for t in fig.data] == ["p50", "p95"]


def test_empty_figures_say_so():
    for fig in (charts.calls_figure([]), charts.error_mix_figure([]), charts.spend_figure([]),
                charts.latency_figure([]), charts.failure_heatmap_figure([])):
        assert fig.layout.annotations and "No" in fig.layout.annotations[0].text


def test_every_figure_is_valid_plotly():
    """The page builds figures without plotly's validation (speed): check them here."""
    import plotly.graph_objects as go

    heat = [{"dow": 3, "hod": 4, "calls": 5, "failed": 1}]
    lat = [{"image_size": "1K", "buckets": [1] * len(LATENCY_BUCKETS_MS)}]
    figs = [charts.calls_figure(ROWS), charts.calls_figure(ROWS, hourly=True, tz=SH),
            charts.error_mix_figure(ROWS), charts.rate_vs_overload_figure(ROWS),
            charts.failure_heatmap_figure(heat), charts.spend_figure(ROWS), charts.latency_figure(lat),
            charts.calls_figure([]), charts.rate_vs_overload_figure([])]
    for fig in figs:
        go.Figure(fig.to_dict())  # raises ValueError on any invalid property


CHANNEL_ROWS = [
    {"channel_id": 12, "category": "overloaded", "calls": 4},
    {"channel_id": 3, "category": "overloaded", "calls": 1},
    {"channel_id": 3, "category": "prompt_blocked", "calls": 2},
    {"channel_id": None, "category": "rate_limited", "calls": 5},
    {"channel_id": 3, "category": "success", "calls": 9},  # not a failure: not drawn
]


def test_failures_by_channel_in_channel_order_no_channel_last():
    assert charts.failures_by_channel(CHANNEL_ROWS) == {
        "channel 3": {"overloaded": 1, "prompt_blocked": 2},
        "channel 12": {"overloaded": 4},
        "no channel": {"rate_limited": 5},
    }


def test_channel_figure_stacks_failed_generations_then_request_errors():
    fig = charts.channel_failures_figure(CHANNEL_ROWS)
    assert fig.layout.barmode == "stack"
    assert [t.name for t in fig.data] == ["Prompt blocked", "Rate limited (429)", "Overloaded (503)"]
    assert list(fig.data[2].x) == ["channel 3", "channel 12", "no channel"]
    assert list(fig.data[2].y) == [1, 4, 0]
    go_fig = charts.channel_failures_figure([])
    assert go_fig.layout.annotations and "No failed calls" in go_fig.layout.annotations[0].text
    import plotly.graph_objects as go

    go.Figure(fig.to_dict())  # valid plotly (the page skips validation)


def test_the_page_serializes_each_figure_as_plotly_itself_would():
    """figure_json reads the figure without plotly's deep copy: the JSON is the same as from
    `to_plotly_json()`, for every Overview figure, and the figure is left as it was."""
    import json

    from logs.views.overview import _plain, figure_json

    latency = [{"image_size": "1K", "buckets": [0, 3, 5] + [0] * (len(LATENCY_BUCKETS_MS) - 3)}]
    heat = [{"dow": 1, "hod": 9, "calls": 10, "failed": 2}]
    figures = [charts.calls_figure(ROWS), charts.error_mix_figure(ROWS), charts.rate_vs_overload_figure(ROWS),
               charts.failure_heatmap_figure(heat, zone="Asia/Shanghai, UTC+8"), charts.spend_figure(ROWS),
               charts.latency_figure(latency),
               charts.channel_failures_figure([{"channel_id": 3, "category": "rate_limited", "calls": 4}])]
    for fig in figures:
        before = fig.to_plotly_json()
        expected = json.dumps(before, default=_plain, separators=(",", ":"))
        expected = expected.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        assert figure_json(fig) == expected
        assert fig.to_plotly_json() == before
