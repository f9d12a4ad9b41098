"""The filters an export carries, from a request's parameters or a dict (the Logs page's names).

They are parsed by the one filter schema of calls (logs.filters), as on the page and in the API.
"""
from __future__ import annotations

from collections.abc import Mapping

from logs.filters import FILTER_FIELDS, call_filters_json

# The filters an export carries: the same names as the Logs page and the read API.
FILTER_KEYS = FILTER_FIELDS


def export_filters_clean(params: Mapping) -> dict:
    """The export filters of a request's parameters (or a dict), JSON-ready, empty ones left out.

    Raises ValidationError with a message in words for a value that cannot be a filter.
    """
    return call_filters_json(params)
