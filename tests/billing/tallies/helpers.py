"""Builders for the tally tests: a customer-month with covered failures and a given spend."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from logs.fingerprint import prompt_fingerprint
from tests import factories as f

UTC8 = dt.timezone(dt.timedelta(hours=8))
JUNE = dt.date(2026, 6, 1)


def at(y, m, d, hh=12, mm=0, ss=0) -> dt.datetime:
    """A wall-clock time in UTC+8."""
    return dt.datetime(y, m, d, hh, mm, ss, tzinfo=UTC8)


def failure(customer, *, when=None, category="no_image", charged="0.05", prompt=None, **kw):
    """A per-request Pro call that returned 200 and failed to generate: covered by the plan."""
    kw.setdefault("http_status", 200)
    return f.call(customer, created_at=when or at(2026, 6, 10), category=category, charged_usd=charged,
                  prompt=prompt or "", prompt_fingerprint=prompt_fingerprint(prompt), images=0,
                  billing_mode="per_request", **kw)


def spend(customer, amount, *, when=None, model="gemini-3.1-flash-image"):
    """A delivered call (not covered) carrying `amount` of spend."""
    return f.call(customer, created_at=when or at(2026, 6, 5), model=model, category="success",
                  charged_usd=Decimal(amount), billing_mode="per_token")


def enrolled(slug="acme", *, since=dt.date(2026, 5, 1), factor="1", **kw):
    return f.customer(slug, enrolled_from=since, topup_factor=Decimal(factor), **kw)
