"""Does a call count for the failed-generation reimbursement plan? (billing.md, rule 1)

Covered: a per-request Nano Banana Pro call that returned HTTP 200 and failed to generate
(one of FAILED_GENERATION). Whether a covered call is credited is the month's tally's
business (eligibility, repeated prompts, staff exclusions), not this function's.

Pure: reads attributes of the call only (a Call, or anything with the same attributes).
"""
from __future__ import annotations

from logs.choices import FAILED_GENERATION, REQUEST_ERROR, BillingMode, Category, Family


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def coverage_of(call) -> tuple[bool, str]:
    """(covered, why) for one call, the reason in words a customer can read."""
    category = str(call.category)
    status = call.http_status
    if category == Category.SUCCESS:
        return False, "Not covered: an image was delivered, so there is nothing to reimburse."
    if category in REQUEST_ERROR:
        code = f"HTTP {status}" if status else "no HTTP status"
        return False, (f"Not covered: a request error ({_label(Category, category)}, {code}) "
                       "is not charged by the gateway, so there is nothing to reimburse.")
    if category not in FAILED_GENERATION:
        return False, f"Not covered: unknown category {category!r}."
    if call.family != Family.PRO:
        what = _label(Family, call.family) if call.family else f"the unknown model {call.model!r}"
        return False, f"Not covered: only Nano Banana Pro calls are covered; this call was to {what}."
    if call.billing_mode != BillingMode.PER_REQUEST:
        if call.billing_mode == BillingMode.PER_TOKEN:
            return False, ("Not covered: billed per token, where a failed generation costs next to "
                           "nothing; only per-request calls are covered.")
        return False, "Not covered: the billing mode is unknown (no catalog price at the call's time)."
    # Decision: a call logged without a status (a gateway consume row) counts as HTTP 200,
    # as logs.pricing.is_2xx reads it.
    if status is not None and status != 200:
        return False, (f"Not covered: the call returned HTTP {status}, not 200; the gateway "
                       "charges nothing for that.")
    return True, (f"Covered: a per-request Nano Banana Pro call that returned HTTP 200 and failed "
                  f"to generate ({_label(Category, category)}). Whether it is credited is decided "
                  "by the month's tally (eligibility, repeated prompts).")
