"""Retention's hold from billing: a month's calls are kept until its tallies are settled.

Registered in logs.services.retention.HOLDS by billing's app config (logs does not import
billing). A month from the plan's start is held back while an eligible tally of it is a draft
or approved but not credited, or while an enrolled customer with calls in it has no tally yet
(the month-end run has not made it). A rejected or credited tally no longer holds its month:
it keeps its own copy of the calls that counted.
"""
from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils.functional import lazy
from django.utils.translation import gettext as _

from billing.choices import TallyStatus
from billing.models import Tally
from logs.models import Call, Customer
from logs.timeutil import month_range, next_month


def _reasons_text(parts: tuple) -> str:
    """The reasons in the active language: each part is (code, {param: value}), codes as below."""
    words = []
    for code, params in parts:
        if code == "tally_open":
            words.append(_("the tally of %(customer)s is %(status)s, not credited yet") % {
                "customer": params["customer"], "status": str(TallyStatus(params["status"]).label).lower()})
        elif code == "no_tally":
            words.append(_("%(customer)s is enrolled and has no tally of the month yet") % params)
    return _("; ").join(words)


def tally_hold(month: dt.date):
    """Why the month is kept, or None: a lazy sentence (codes and params inside, no language: the
    storage facts cache it), worded in the reader's language when str()ed."""
    if month < settings.NBAUDIT_PLAN_START:
        return None
    open_ = (Tally.objects.filter(month=month, eligible=True)
             .exclude(status__in=[TallyStatus.CREDITED, TallyStatus.REJECTED])
             .select_related("customer").order_by("customer__slug"))
    parts = [("tally_open", {"customer": t.customer.slug, "status": str(t.status)}) for t in open_]
    start, end = month_range(month)
    tallied = Tally.objects.filter(month=month).values("customer_id")
    untallied = (Customer.objects.filter(enrolled_from__lt=next_month(month)).exclude(pk__in=tallied)
                 .order_by("slug"))
    for customer in untallied:
        if Call.objects.filter(customer=customer, created_at__gte=start, created_at__lt=end).exists():
            parts.append(("no_tally", {"customer": customer.slug}))
    return lazy(_reasons_text, str)(tuple(parts)) if parts else None
