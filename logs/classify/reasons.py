"""A stored reason, shown in the reader's language: rendered again from its parts.

Decision (issue 12): `Call.reason` keeps the classifier's signal as written today, an
English-shaped text that is also interface (the API, exports and commands carry it, and every
stored call has one). It is built from a small, closed set of templates in `logs.classify`
(`output tokens {n} < {threshold}`, `client error: {text}`, ...) around technical signals that
are the same in every language (`finishReason=IMAGE_SAFETY`, `HTTP 429 RESOURCE_EXHAUSTED`).
`reason_text` reads a stored reason back into (template, params) with the patterns below and
renders the template through gettext: no new column, no migration of millions of rows, and
calls stored before this change show in either language too. Technical signals are kept as
they are (they name fields of Google's and OpenAI's responses); their connecting words are
translated. A reason no pattern reads is shown as stored. A test runs the classifier over the
fixtures and checks that every reason it produces is read here.
"""
from __future__ import annotations

import re

from django.utils.translation import gettext, gettext_noop

# (pattern over the whole stored reason, template with %(name)s for the pattern's groups).
# A group named `inner` is itself a reason (an upstream's), rendered recursively.
PATTERNS: list[tuple[re.Pattern, str]] = [(re.compile(p, re.S), t) for p, t in [
    (r"image delivered", gettext_noop("image delivered")),
    (r"data:image URL in a text part", gettext_noop("data:image URL in a text part")),
    (r"data:image URL in output_text", gettext_noop("data:image URL in output_text")),
    (r"image URL in markdown", gettext_noop("image URL in markdown")),
    (r"image URL as the whole reply", gettext_noop("image URL as the whole reply")),
    (r"image_generation_call result", gettext_noop("image_generation_call result")),
    (r"Images API data\[\]\.(?P<key>\w+)", gettext_noop("Images API data[].%(key)s")),
    (r"text only, no image", gettext_noop("text only, no image")),
    (r"no image, no text", gettext_noop("no image, no text")),
    (r"no image, no output tokens", gettext_noop("no image, no output tokens")),
    (r"non-image model, no error", gettext_noop("non-image model, no error")),
    (r"consume row, non-image model", gettext_noop("consume row, non-image model")),
    (r"response shape not recognised", gettext_noop("response shape not recognised")),
    (r"error text without a status", gettext_noop("error text without a status")),
    (r"no response", gettext_noop("no response")),
    (r"finishMessage: You will not be charged", gettext_noop("finishMessage: You will not be charged")),
    (r"output tokens empty", gettext_noop("output tokens empty")),
    (r"output tokens (?P<n>-?\d+) < (?P<threshold>\d+)", gettext_noop("output tokens %(n)s < %(threshold)s")),
    (r"output tokens (?P<n>-?\d+) >= (?P<threshold>\d+)", gettext_noop("output tokens %(n)s >= %(threshold)s")),
    (r"output tokens (?P<n>-?\d+), no image", gettext_noop("output tokens %(n)s, no image")),
    (r"output tokens (?P<n>-?\d+)", gettext_noop("output tokens %(n)s")),
    (r"images (?P<n>\d+)", gettext_noop("images %(n)s")),
    (r"client error: (?P<text>.*)", gettext_noop("client error: %(text)s")),
    (r"error text: (?P<text>.*)", gettext_noop("error text: %(text)s")),
    (r"details: (?P<text>.*)", gettext_noop("details: %(text)s")),
    (r"log type (?P<type>.*) is not a call", gettext_noop("log type %(type)s is not a call")),
    (r"upstream (?P<inner>.*)", gettext_noop("upstream %(inner)s")),
]]


def reason_parts(reason: str) -> tuple[str, dict] | None:
    """(template, params) of a stored reason, or None when it is a signal kept as written."""
    for pattern, template in PATTERNS:
        match = pattern.fullmatch(reason or "")
        if match:
            return template, match.groupdict()
    return None


def reason_text(reason: str) -> str:
    """The stored reason in the active language (`finishReason=...` and the like as they are)."""
    parts = reason_parts(reason)
    if parts is None:
        return reason or ""
    template, params = parts
    if "inner" in params:
        params = {**params, "inner": reason_text(params["inner"])}
    return gettext(template) % params if params else gettext(template)
