"""Does a call count for the failed-generation reimbursement plan? (billing.md, rule 1)

Covered: a per-request Nano Banana Pro call that returned HTTP 200 and failed to generate
(one of FAILED_GENERATION). Whether a covered call is credited is the month's tally's
business (eligibility, repeated prompts, staff exclusions), not this function's.

The rule is written once here, three ways that must agree: `COVERED` (a `Q` over calls, for
the tally), `covered_sql` (a SQL condition, for the reconciliation's matching query) and
`coverage_of` (one call, with the reason in words, for the call page and the API).
`coverage_of` reads attributes of the call only (a Call, or anything with the same attributes).
"""
from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from logs.choices import FAILED_GENERATION, REQUEST_ERROR, BillingMode, Category, Family

# A call logged without a status (a gateway consume row) counts as HTTP 200.
COVERED_STATUS = 200
COVERED = (
    (Q(http_status__isnull=True) | Q(http_status=COVERED_STATUS))
    & Q(billing_mode=BillingMode.PER_REQUEST, family=Family.PRO,
        category__in=[str(c) for c in FAILED_GENERATION])
)


def covered_sql(*, status: str = "http_status", mode: str = "billing_mode", family: str = "family",
                category: str = "category") -> str:
    """The rule as a SQL condition over the named columns (expressions of trusted code only)."""
    cats = ", ".join(f"'{c}'" for c in FAILED_GENERATION)
    return (f"({status} IS NULL OR {status} = {COVERED_STATUS}) AND {mode} = '{BillingMode.PER_REQUEST}'"
            f" AND {family} = '{Family.PRO}' AND {category} IN ({cats})")


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def coverage_of(call) -> tuple[bool, str]:
    """(covered, why) for one call, the reason in words a customer can read (the active language)."""
    category = str(call.category)
    status = call.http_status
    if category == Category.SUCCESS:
        return False, _("Not covered: an image was delivered, so there is nothing to reimburse.")
    if category in REQUEST_ERROR:
        code = f"HTTP {status}" if status else _("no HTTP status")
        return False, _("Not covered: a request error (%(category)s, %(code)s) is not charged by the gateway, "
                        "so there is nothing to reimburse.") % {"category": _label(Category, category), "code": code}
    if category not in FAILED_GENERATION:
        return False, _("Not covered: unknown category %(category)r.") % {"category": category}
    if call.family != Family.PRO:
        what = (_label(Family, call.family) if call.family
                else _("the unknown model %(model)r") % {"model": call.model})
        return False, _("Not covered: only Nano Banana Pro calls are covered; this call was to %(what)s.") % {
            "what": what}
    if call.billing_mode != BillingMode.PER_REQUEST:
        if call.billing_mode == BillingMode.PER_TOKEN:
            return False, _("Not covered: billed per token, where a failed generation costs next to "
                            "nothing; only per-request calls are covered.")
        return False, _("Not covered: the billing mode is unknown (no catalog price at the call's time).")
    if status is not None and status != COVERED_STATUS:
        return False, _("Not covered: the call returned HTTP %(status)s, not 200; the gateway "
                        "charges nothing for that.") % {"status": status}
    return True, _("Covered: a per-request Nano Banana Pro call that returned HTTP 200 and failed "
                   "to generate (%(category)s). Whether it is credited is decided "
                   "by the month's tally (eligibility, repeated prompts).") % {"category": _label(Category, category)}
