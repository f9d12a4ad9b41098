"""Billing's panels on logs' Overview (registered in BillingConfig.ready through logs.panels).

- A customer's Overview (a customer's user, or staff who picked one): the month-to-date credit
  estimate ("if the month ended now").
- Staff on all customers: the customers of the month ranked by failed calls, spend and
  estimated credit, each linked.
"""
from __future__ import annotations

from django.template.loader import render_to_string

from billing.services.estimate import credit_estimate, customers_ranked
from logs.scoping import is_staff

RANKED_ROWS = 20


def estimate_panel(request, customer) -> str:
    if customer is None:
        return ""
    est = credit_estimate(customer=customer)
    return render_to_string("billing/_estimate.html", {"est": est, "staff": is_staff(request.user)},
                            request=request)


def ranked_panel(request, customer) -> str:
    if customer is not None or not is_staff(request.user):
        return ""
    rows = customers_ranked()
    return render_to_string("billing/_customers_ranked.html",
                            {"rows": rows[:RANKED_ROWS], "more": max(len(rows) - RANKED_ROWS, 0),
                             "month": rows[0].estimate.month if rows else None}, request=request)


def register() -> None:
    from logs.panels import overview_panel_register

    overview_panel_register("billing.estimate", estimate_panel)
    overview_panel_register("billing.ranked", ranked_panel)
