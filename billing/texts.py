"""A tally step's stored detail (TallyEvent.detail), shown in the reader's language.

As with a call's reason (logs/classify/reasons.py): the detail is stored as billing.services.tally
writes it, from a few templates; `detail_text` reads one back into its template and values and
renders it through gettext. Free text a person typed (a reason, a reference) stays as typed; a
detail no pattern reads is shown as stored.
"""
from __future__ import annotations

import re

from django.utils.translation import gettext, gettext_noop

from billing.choices import IneligibleReason

PATTERNS = [(re.compile(p, re.S), t) for p, t in [
    (r"spend (?P<spend>\S+), covered (?P<covered>\d+), excluded (?P<excluded>\d+), counted (?P<counted>\d+), "
     r"gross (?P<gross>\S+), factor (?P<factor>\S+); not eligible: (?P<reason>\w+)",
     gettext_noop("spend %(spend)s, covered %(covered)s, excluded %(excluded)s, counted %(counted)s, "
                  "gross %(gross)s, factor %(factor)s; not eligible: %(reason)s")),
    (r"spend (?P<spend>\S+), covered (?P<covered>\d+), excluded (?P<excluded>\d+), counted (?P<counted>\d+), "
     r"gross (?P<gross>\S+), factor (?P<factor>\S+)",
     gettext_noop("spend %(spend)s, covered %(covered)s, excluded %(excluded)s, counted %(counted)s, "
                  "gross %(gross)s, factor %(factor)s")),
    (r"approved", gettext_noop("approved")),
    (r"approved at an adjusted amount \((?P<before>\S+) -> (?P<after>\S+)\): (?P<reason>.*)",
     gettext_noop("approved at an adjusted amount (%(before)s -> %(after)s): %(reason)s")),
    (r"approved: (?P<reason>.*)", gettext_noop("approved: %(reason)s")),
    (r"reference (?P<reference>.*)", gettext_noop("reference %(reference)s")),
]]


def detail_text(detail: str) -> str:
    for pattern, template in PATTERNS:
        match = pattern.fullmatch(detail or "")
        if match:
            params = match.groupdict()
            if "reason" in params and params["reason"] in IneligibleReason.values:
                params["reason"] = str(IneligibleReason(params["reason"]).label)
            return gettext(template) % params if params else gettext(template)
    return detail or ""
