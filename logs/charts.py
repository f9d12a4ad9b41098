"""The Overview's charts: one pure function per chart, rollup rows in, plotly figure out.

Rows come from `logs.selectors.rollups`; nothing here touches the database, so tests call
these functions directly. Money stays Decimal until it is drawn.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import plotly.graph_objects as go
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from logs.choices import FAILED_GENERATION, REQUEST_ERROR, Category
from logs.models import LATENCY_BUCKETS_MS

CATEGORY_COLORS = {
    Category.SUCCESS: "#16a34a",
    Category.PROMPT_BLOCKED: "#f59e0b",
    Category.NO_CHARGE: "#fbbf24",
    Category.IMAGE_BLOCKED: "#ea580c",
    Category.NO_IMAGE: "#fb923c",
    Category.TEXT_REFUSAL: "#d97706",
    Category.EMPTY_OUTPUT: "#fdba74",
    Category.RATE_LIMITED: "#dc2626",
    Category.OVERLOADED: "#9333ea",
    Category.SERVER_ERROR: "#be123c",
    Category.TIMEOUT: "#6366f1",
    Category.BAD_REQUEST: "#64748b",
    Category.AUTH_ERROR: "#0f766e",
    Category.OTHER_ERROR: "#94a3b8",
}
CATEGORY_ORDER = [Category.SUCCESS, *FAILED_GENERATION, *REQUEST_ERROR]
DAYS = [gettext_noop("Mon"), gettext_noop("Tue"), gettext_noop("Wed"), gettext_noop("Thu"), gettext_noop("Fri"),
        gettext_noop("Sat"), gettext_noop("Sun")]
FONT = dict(family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size=12, color="#1f2430")


def _figure(traces=(), layout=None) -> go.Figure:
    """A figure from plain dicts, skipping plotly's per-property validation (it costs
    ~100 ms a page); tests validate every figure instead (tests/test_charts.py)."""
    return go.Figure(data=list(traces), layout=layout or {}, _validate=False)


AXIS = dict(gridcolor="#eef1f5", zeroline=False, linecolor="#d5d9e0", ticks="", automargin=True)


def _layout(fig, **kw) -> go.Figure:
    """The house style around `fig` (a list of trace dicts, or an empty figure's annotation dict)."""
    annotation = None
    if isinstance(fig, dict):
        annotation, fig = fig, []
    layout = dict(paper_bgcolor="#fff", plot_bgcolor="#fff", font=FONT, margin=dict(l=56, r=56, t=16, b=40), height=320,
                  legend=dict(orientation="h", y=-0.18, font=dict(size=11)), hovermode="x unified")
    layout.update(kw)
    for axis in ("xaxis", "yaxis"):
        layout[axis] = {**AXIS, **layout.get(axis, {})}
    if annotation is not None:
        layout["annotations"] = [annotation]
        layout["xaxis"]["visible"] = layout["yaxis"]["visible"] = False
    return _figure(fig, layout)


def _date_axis(*, hourly: bool = False) -> dict:
    """A time axis; in Chinese its ticks read 11月5日 (plotly's own are English: "Nov 5")."""
    axis = dict(type="date")
    if translation.get_language() == "zh-hans":
        axis.update(tickformat="%H:%M\n%-m月%-d日" if hourly else "%-m月%-d日\n%Y年",
                    hoverformat="%Y年%-m月%-d日 %H:%M" if hourly else "%Y年%-m月%-d日")
    return axis


def _label(value) -> str:
    try:
        return str(Category(value).label)
    except ValueError:
        return str(value)


def _x(period, *, hourly: bool, tz):
    if isinstance(period, dt.datetime):
        local = period.astimezone(tz) if tz and period.tzinfo else period
        return local.replace(tzinfo=None) if hourly else local.date()
    return period


def _empty(fig, text: str = "") -> dict:
    return dict(text=text or gettext("No calls in this range"), showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5,
                font=dict(size=14, color="#6b7280"))


def totals(period_rows: list[dict]) -> dict:
    """Calls, failed calls, failure rate, spend, delivered images, cost per delivered image."""
    calls = sum(r["calls"] for r in period_rows)
    failed = sum(r["calls"] for r in period_rows if r["category"] != Category.SUCCESS)
    spend = sum((Decimal(r["charged_usd"]) for r in period_rows), Decimal(0))
    images = sum(r["images"] for r in period_rows if r["category"] == Category.SUCCESS)
    return {
        "calls": calls, "failed": failed,
        "failure_rate": (failed / calls) if calls else None,
        "spend_usd": spend, "images": images,
        "cost_per_image_usd": (spend / images) if images else None,
    }


def calls_figure(rows: list[dict], *, hourly: bool = False, tz=None) -> go.Figure:
    """Calls per day (or hour) stacked by category, with the failure rate as a line."""
    fig = []
    if not rows:
        return _layout(_empty(fig))
    by = defaultdict(lambda: defaultdict(int))
    for r in rows:
        by[_x(r["period"], hourly=hourly, tz=tz)][r["category"]] += r["calls"]
    xs = sorted(by)
    present = {c for per in by.values() for c in per}
    for cat in [c for c in CATEGORY_ORDER if c in present] + sorted(present - set(CATEGORY_ORDER)):
        fig.append(dict(type="bar", x=xs, y=[by[x].get(cat, 0) for x in xs], name=_label(cat),
                        marker=dict(color=CATEGORY_COLORS.get(cat, "#94a3b8"))))
    rates = []
    for x in xs:
        total = sum(by[x].values())
        failed = total - by[x].get(Category.SUCCESS, 0)
        rates.append(round(100 * failed / total, 2) if total else None)
    fig.append(dict(type="scatter", x=xs, y=rates, name=gettext("Failure rate (%)"), yaxis="y2", mode="lines+markers",
                    line=dict(color="#111827", width=2), marker=dict(size=5)))
    return _layout(fig, barmode="stack", xaxis=_date_axis(hourly=hourly),
            yaxis=dict(title=gettext("calls"), rangemode="tozero"),
            yaxis2=dict(title=gettext("failure rate %"), overlaying="y", side="right", rangemode="tozero",
                        range=[0, max([r for r in rates if r is not None] + [1]) * 1.1],
                        showgrid=False))


def error_mix(rows: list[dict]) -> dict[str, int]:
    """Failed calls per category, largest first."""
    mix: dict[str, int] = defaultdict(int)
    for r in rows:
        if r["category"] != Category.SUCCESS and r["calls"]:
            mix[r["category"]] += r["calls"]
    return dict(sorted(mix.items(), key=lambda kv: (-kv[1], kv[0])))


def error_mix_figure(rows: list[dict]) -> go.Figure:
    """The failures by category (horizontal bars)."""
    fig = []
    mix = error_mix(rows)
    if not mix:
        return _layout(_empty(fig, gettext("No failed calls in this range")))
    cats = list(reversed(list(mix)))
    fig.append(dict(type="bar", y=[_label(c) for c in cats], x=[mix[c] for c in cats], orientation="h",
                    marker=dict(color=[CATEGORY_COLORS.get(c, "#94a3b8") for c in cats]),
                    text=[f"{mix[c]:,}" for c in cats], textposition="auto", name=gettext("failed calls")))
    return _layout(fig, showlegend=False, hovermode="closest", margin=dict(l=150, r=24, t=16, b=40),
            xaxis=dict(title=gettext("failed calls")))


def rate_vs_overload(rows: list[dict]) -> dict:
    """429 (rate limited) against 503 (overloaded): counts, share of 429 and a plain sentence."""
    n429 = sum(r["calls"] for r in rows if r["category"] == Category.RATE_LIMITED)
    n503 = sum(r["calls"] for r in rows if r["category"] == Category.OVERLOADED)
    both = n429 + n503
    if not both:
        sentence = gettext("No 429 (rate limited) or 503 (overloaded) errors in this range.")
        share = None
    else:
        share = n429 / both
        pct429, pct503 = round(100 * share), 100 - round(100 * share)
        head = gettext("Of %(both)s 429 and 503 errors, %(pct429)s%% were 429 and %(pct503)s%% were 503: ") % {
            "both": f"{both:,}", "pct429": pct429, "pct503": pct503}
        if share > 0.6:
            sentence = head + gettext("mostly 429, so the client sends requests too fast; slow it down or spread "
                                      "the load.")
        elif share < 0.4:
            sentence = head + gettext("mostly 503, so the upstream model is overloaded; retry later with backoff.")
        else:
            sentence = head + gettext("both alike: the client sends fast and the upstream is busy too.")
    return {"n429": n429, "n503": n503, "share_429": share, "sentence": sentence}


def rate_vs_overload_figure(rows: list[dict]) -> go.Figure:
    info = rate_vs_overload(rows)
    fig = []
    if not (info["n429"] or info["n503"]):
        return _layout(_empty(fig, gettext("No 429 or 503 errors")), height=220)
    fig.append(dict(type="pie", labels=[gettext("429 rate limited"), gettext("503 overloaded")], values=[info["n429"], info["n503"]],
                marker=dict(colors=[CATEGORY_COLORS[Category.RATE_LIMITED],
                                    CATEGORY_COLORS[Category.OVERLOADED]]),
                hole=0.55, sort=False, textinfo="percent"))
    return _layout(fig, height=220, hovermode="closest", margin=dict(l=16, r=16, t=8, b=8),
                   legend=dict(orientation="v", x=1, y=0.5))


def failure_heatmap_figure(rows: list[dict], *, zone: str = "") -> go.Figure:
    """Failure rate by hour of day (rows) against day of week; `zone` names the zone the hours are in."""
    fig = []
    if not any(r["calls"] for r in rows):
        return _layout(_empty(fig), height=360)
    calls = [[0] * 7 for _ in range(24)]
    failed = [[0] * 7 for _ in range(24)]
    for r in rows:
        calls[r["hod"]][r["dow"] - 1] += r["calls"]
        failed[r["hod"]][r["dow"] - 1] += r["failed"]
    z = [[round(100 * failed[h][d] / calls[h][d], 1) if calls[h][d] else None for d in range(7)]
         for h in range(24)]
    of = gettext("%(failed)s of %(calls)s")
    text = [[of % {"failed": f"{failed[h][d]:,}", "calls": f"{calls[h][d]:,}"} for d in range(7)] for h in range(24)]
    fig.append(dict(type="heatmap", 
        z=z, x=[gettext(d) for d in DAYS], y=[f"{h:02d}:00" for h in range(24)], text=text, colorscale=[[0, "#fff7ec"], [0.25, "#fdd49e"], [0.5, "#fc8d59"], [0.75, "#d7301f"], [1, "#7f0000"]],
        zmin=0, colorbar=dict(title=dict(text=gettext("failed %")), thickness=12),
        hovertemplate=gettext("%{x} %{y}: %{z}% failed (%{text})") + "<extra></extra>", hoverongaps=False,
    ))
    return _layout(fig, height=480, hovermode="closest", margin=dict(l=56, r=24, t=16, b=40),
                   yaxis=dict(autorange="reversed", dtick=2,
                              title=dict(text=gettext("hour (%(zone)s)") % {"zone": zone} if zone else gettext("hour"))))


def spend_series(rows: list[dict], *, hourly: bool = False, tz=None) -> list[dict]:
    """Per period: spend (all charges) and delivered images, cost per delivered image."""
    spend: dict = defaultdict(Decimal)
    images: dict = defaultdict(int)
    for r in rows:
        x = _x(r["period"], hourly=hourly, tz=tz)
        spend[x] += Decimal(r["charged_usd"])
        if r["category"] == Category.SUCCESS:
            images[x] += r["images"]
        else:
            images.setdefault(x, 0)
    return [{"period": x, "spend_usd": spend[x], "images": images[x],
             "cost_per_image_usd": (spend[x] / images[x]) if images[x] else None}
            for x in sorted(spend)]


def spend_figure(rows: list[dict], *, hourly: bool = False, tz=None) -> go.Figure:
    """Spend per day (bars) and the effective cost per delivered image (line)."""
    fig = []
    series = spend_series(rows, hourly=hourly, tz=tz)
    if not series:
        return _layout(_empty(fig))
    xs = [s["period"] for s in series]
    fig.append(dict(type="bar", x=xs, y=[float(s["spend_usd"]) for s in series], name=gettext("Spend (US$)"),
                    marker=dict(color="#2f6fde"), hovertemplate="US$%{y:,.2f}"))
    fig.append(dict(type="scatter", x=xs, y=[float(s["cost_per_image_usd"]) if s["cost_per_image_usd"] is not None
                             else None for s in series],
                    name=gettext("Cost per delivered image (US$)"), yaxis="y2", mode="lines+markers",
                    line=dict(color="#c2410c", width=2), hovertemplate="US$%{y:,.6~f}"))
    return _layout(fig, xaxis=_date_axis(hourly=hourly),
                   yaxis=dict(title=gettext("US$"), rangemode="tozero", tickprefix="US$"),
                   yaxis2=dict(title=gettext("US$ per image"), overlaying="y", side="right", rangemode="tozero",
                               tickprefix="US$", showgrid=False))


def percentile_from_buckets(counts: list[int], q: float) -> float | None:
    """The q-th quantile (0..1) in ms, interpolated inside its latency bucket.

    The last bucket is open: a quantile there reads as its lower bound.
    """
    total = sum(counts)
    if not total:
        return None
    target = q * total
    seen, lower = 0, 0
    for count, upper in zip(counts, LATENCY_BUCKETS_MS):
        if count and seen + count >= target:
            if upper is None:
                return float(lower)
            return lower + (upper - lower) * (target - seen) / count
        seen += count
        lower = upper if upper is not None else lower
    return float(lower)


SIZE_ORDER = {"512": 0, "1K": 1, "2K": 2, "4K": 3, "": 9}


def latency_by_size(rows: list[dict]) -> list[dict]:
    merged: dict[str, list[int]] = {}
    for r in rows:
        acc = merged.setdefault(r["image_size"] or "", [0] * len(LATENCY_BUCKETS_MS))
        for i, v in enumerate(r["buckets"]):
            acc[i] += v
    out = []
    for size in sorted(merged, key=lambda s: (SIZE_ORDER.get(s, 5), s)):
        counts = merged[size]
        out.append({"image_size": size or gettext("unknown"), "calls": sum(counts),
                    "p50_ms": percentile_from_buckets(counts, 0.5),
                    "p95_ms": percentile_from_buckets(counts, 0.95)})
    return [o for o in out if o["calls"]]


def latency_figure(rows: list[dict]) -> go.Figure:
    """Latency p50 and p95 (seconds) of delivered calls, by image size."""
    fig = []
    data = latency_by_size(rows)
    if not data:
        return _layout(_empty(fig, gettext("No latency recorded in this range")))
    sizes = [d["image_size"] for d in data]
    for key, name, color in (("p50_ms", "p50", "#60a5fa"), ("p95_ms", "p95", "#1e3a8a")):
        fig.append(dict(type="bar", x=sizes, y=[round(d[key] / 1000, 1) for d in data], name=name,
                        marker=dict(color=color), text=[f"{d[key] / 1000:.1f}s" for d in data],
                        textposition="outside", cliponaxis=False))
    return _layout(fig, barmode="group", hovermode="closest", yaxis=dict(title=gettext("seconds"), rangemode="tozero"),
            xaxis=dict(title=gettext("image size"), type="category"))


def channel_label(channel_id) -> str:
    return gettext("no channel") if channel_id is None else gettext("channel %(n)s") % {"n": channel_id}


def failures_by_channel(rows: list[dict]) -> dict:
    """Failed calls per channel and category, channels in number order ("no channel" last)."""
    by: dict = defaultdict(lambda: defaultdict(int))
    for r in rows:
        if r["category"] != Category.SUCCESS and r["calls"]:
            by[r["channel_id"]][r["category"]] += r["calls"]
    order = sorted(by, key=lambda c: (c is None, c or 0))
    return {channel_label(c): dict(by[c]) for c in order}


def channel_failures_figure(rows: list[dict]) -> go.Figure:
    """Failed calls per gateway channel, stacked by category: failed generations, then request errors."""
    fig = []
    data = failures_by_channel(rows)
    if not data:
        return _layout(_empty(fig, gettext("No failed calls in this range")))
    labels = list(data)
    present = {c for per in data.values() for c in per}
    for cat in [c for c in CATEGORY_ORDER if c in present] + sorted(present - set(CATEGORY_ORDER)):
        fig.append(dict(type="bar", x=labels, y=[data[lb].get(cat, 0) for lb in labels], name=_label(cat),
                        marker=dict(color=CATEGORY_COLORS.get(cat, "#94a3b8"))))
    return _layout(fig, barmode="stack", hovermode="x unified",
                   xaxis=dict(type="category", title=gettext("gateway channel")),
                   yaxis=dict(title=gettext("failed calls"), rangemode="tozero"))
