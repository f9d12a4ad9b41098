"""Reads of reconciliations: the figures of a finished one (the command's --json, the report)."""
from __future__ import annotations

from billing.choices import ReconCategory
from billing.models import Reconciliation
from logs.money import q6


def reconciliation_summary(*, reconciliation: Reconciliation) -> dict:
    """The figures of a finished reconciliation, as the command's --json prints them."""
    r = reconciliation

    def amount(value):
        return str(q6(value)) if value is not None else None

    return {
        "customer": r.customer.slug,
        "from": r.date_from.isoformat() if r.date_from else None,
        "to": r.date_to.isoformat() if r.date_to else None,
        "local_rows": r.local_rows,
        "platform_rows": r.platform_rows,
        "categories": {code: int(r.categories.get(code, 0)) for code in ReconCategory.values},
        "overcharged_usd": amount(r.overcharged_usd),
        "undercharged_usd": amount(r.undercharged_usd),
        "unmatched_charged_usd": amount(r.unmatched_charged_usd),
        "outside_period": r.outside_period,
        "rejected": list(r.rejected),
    }
