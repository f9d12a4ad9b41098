"""The Overview: charts of calls, failures, spend and latency, from hourly rollups only: the
coarse ones (`CoarseRollup`) unless an exact model or an API key is chosen; staff's "all
customers" from the all-customers ones (`AllCustomersRollup`). Over whole days of the billing
zone drawn per day, their daily sums (`CoarseDailyRollup`, `AllCustomersDailyRollup`).

What the page computes (totals and figures) is cached by `rollups_cached`, keyed by the
rollup query, the zone and the customers' rollup version: a rollup write shows at once.
`overview_warm` computes the default pages ahead (the worker, after a rollup write), so the
first visitor after an ingest is served from the cache too.
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation
from django.views.generic import TemplateView

from logs import charts
from logs.filtersets import RollupFilterSet
from logs.languages import language_code
from logs.models import (
    CoarseChannelRollup,
    CoarseDailyChannelRollup,
    CoarseDailyRollup,
    CoarseRollup,
    HourlyRollup,
    User,
)
from logs.panels import overview_panels
from logs.scoping import current_customer, is_staff, scope_by_customer_field
from logs.selectors.rollups import (
    all_customers_parts,
    overview_sums,
    rollup_facets_for,
    rollups_cached,
)
from logs.timeutil import billing_tz, zone_label
from logs.views.base import FilterStatusMixin

HOURLY_UP_TO_DAYS = 2
# The pages `overview_warm` computes ahead: the default (last 30 days) and the quicker presets.
WARM_RANGES = ("", "today", "7d")


def _plain(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def _figure_dict(fig) -> dict:
    """The figure's data and layout as plotly keeps them, to be serialized only.

    `to_plotly_json()` deep-copies both first (a third of a cold Overview's time went there);
    nothing here changes them, so they are read as they are. The charts pass plain lists, not
    numpy arrays (which `to_plotly_json` would have encoded): json.dumps refuses anything else.
    """
    data, layout = getattr(fig, "_data", None), getattr(fig, "_layout", None)
    if data is None or layout is None or getattr(fig, "_frame_objs", None):
        return fig.to_plotly_json()
    return {"data": data, "layout": layout}


def figure_json(fig) -> str:
    """A figure as JSON safe to put inside a <script type="application/json"> element."""
    text = json.dumps(_figure_dict(fig), default=_plain, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class OverviewView(FilterStatusMixin, TemplateView):
    template_name = "logs/overview.html"

    def get_context_data(self, **kw):
        ctx = super().get_context_data(**kw)
        request = self.request
        customer = current_customer(request)
        models, tokens = rollup_facets_for(user=request.user, customer=customer)
        tz = request.tz
        filterset = RollupFilterSet(request.GET, HourlyRollup.objects.none(), request=request, tz=tz,
                                    today=timezone.localdate(timezone=tz), models=models, tokens=tokens)
        # The coarse rollups unless an exact model or an API key is chosen (the fine ones keep those).
        model = filterset.rollup_model()
        # Staff see the channels: their figures are filed apart from a customer's, whatever the
        # query (a staff user's query for one customer may be the query of its own users).
        staff = is_staff(request.user)
        first, last = filterset.days
        hourly = bool(first and last and (last - first) < dt.timedelta(days=HOURLY_UP_TO_DAYS))
        # Whole days of the billing zone, drawn per day: the daily coarse rollups (cut in that zone).
        daily = model is CoarseRollup and not hourly and str(tz) == str(billing_tz())
        also, channel_parts = (), None
        if staff and customer is None and model is CoarseRollup:
            # every customer at once: staff's all-customers rollups (and the coarse rows of the
            # hours written since they were last summed)
            (rows_qs, *also), channel_parts = all_customers_parts(filterset.filter_queryset, daily=daily)
        else:
            model, channels = ((CoarseDailyRollup, CoarseDailyChannelRollup) if daily
                               else (model, CoarseChannelRollup))
            rows_qs = filterset.filter_queryset(_scoped(request.user, model, customer))
            if staff and model is not HourlyRollup:  # the coarse failures by channel have a table of their own
                channel_parts = [filterset.filter_queryset(_scoped(request.user, channels, customer))]
        parts = (str(tz), str(billing_tz()), hourly, getattr(request, "LANGUAGE_CODE", ""), staff)
        shown = rollups_cached(customer_id=customer.pk if customer is not None else None, qs=rows_qs, parts=parts,
                               compute=lambda: overview_figures(rows_qs, tz=tz, hourly=hourly, staff=staff,
                                                                also=also, channel_parts=channel_parts))
        ctx.update(customer=customer, filterset=filterset, filter_form=filterset.form,
                   first=first, last=last, hourly=hourly, **shown,
                   panels=overview_panels(request, customer=customer))
        return ctx


def _scoped(user, model, customer):
    qs = scope_by_customer_field(user, model.objects.all())
    return qs.filter(customer=customer) if customer is not None else qs


def overview_figures(rows_qs, *, tz, hourly: bool, staff: bool = False, also=(), channel_parts=None) -> dict:
    """The Overview's totals, 429/503 share and figures (as JSON) from filtered rollups (and
    those of `also`, added; failures by channel from `channel_parts` if given: `overview_sums`).

    For staff only, the failures by gateway channel too: customers never see a channel.
    """
    # One rule: days and hours in the user's zone (the heatmap's too), named on the chart.
    sums = overview_sums(rows_qs, tz=tz, hourly=hourly, heat_tz=tz, channels=staff, also=also,
                         channel_parts=channel_parts)
    period_rows, heat_rows, latency_rows = sums["periods"], sums["heat"], sums["latency"]
    figures = {
        "calls": charts.calls_figure(period_rows, hourly=hourly, tz=tz),
        "errors": charts.error_mix_figure(period_rows),
        "share": charts.rate_vs_overload_figure(period_rows),
        "heatmap": charts.failure_heatmap_figure(heat_rows, zone=zone_label(tz or billing_tz())),
        "spend": charts.spend_figure(period_rows, hourly=hourly, tz=tz),
        "latency": charts.latency_figure(latency_rows),
    }
    if staff:
        figures["channels"] = charts.channel_failures_figure(sums["channels"])
    return {
        "totals": charts.totals(period_rows),
        "share": charts.rate_vs_overload(period_rows),
        "figures": {name: figure_json(fig) for name, fig in figures.items()},
    }


def _zone(name: str):
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name) if name else billing_tz()
    except (ZoneInfoNotFoundError, ValueError):
        return billing_tz()


def overview_warm(*, customer_ids, ranges=WARM_RANGES) -> int:
    """Compute and cache the Overview of these customers' users, and staff's "all customers" one,
    for each range preset of `ranges` ("": the default page) with no other filter, once per time
    zone and language their users see them in. Returns the pages computed.

    It runs the page's own code for one user per (customer, zone, language), so the figures are filed under
    the very key that user's next request reads (tenancy included: the key is the scoped query).
    """
    factory = RequestFactory()
    url = reverse("logs:overview")
    active = User.objects.filter(is_active=True)
    users = _first_per(active.filter(customer_id__in=list(customer_ids), is_staff=False)
                       .order_by("customer_id", "time_zone", "language", "pk"), ("customer_id", "time_zone", "language"))
    users += _first_per(active.filter(is_staff=True).order_by("time_zone", "language", "pk"),
                        ("time_zone", "language"))
    done = 0
    for user in users:
        for preset in ranges:
            request = factory.get(url, {"range": preset} if preset else {})
            request.user, request.session = user, {}
            request.tz = _zone(user.time_zone)
            # The user's own language (empty: the browser's, unknown here, so the default one):
            # the figures are cached per language, as the pages ask for them.
            request.LANGUAGE_CODE = language_code(user.language)
            view = OverviewView()
            view.setup(request)
            with timezone.override(request.tz), translation.override(request.LANGUAGE_CODE):
                view.get_context_data()
            done += 1
    return done


def _first_per(qs, fields: tuple) -> list:
    seen, out = set(), []
    for user in qs:
        key = tuple(getattr(user, f) for f in fields)
        if key not in seen:
            seen.add(key)
            out.append(user)
    return out
