"""A gateway `logs` row (New API or One API, from the database or the admin API) -> a call record.

The row is format B's row with typed cells, so it goes through format B's own reader
(`logs.parsers.GatewayRows`: type, time, tokens, quota, details text, classification), and
only what the log store adds is done here: the request ID (`other.request_id`, else
`<source>:<row id>`), the channel, One API's latency in milliseconds, and a quota unit other
than 500,000.
"""
from __future__ import annotations

import json
from decimal import Decimal
from zoneinfo import ZoneInfo

from logs.money import QUOTA_PER_USD
from logs.parsers import GatewayRows, Record, Rejected

# The log row's columns nbaudit reads (`ip` is personal data: never read).
COLUMNS = ("id", "user_id", "username", "created_at", "type", "content", "token_name", "model_name",
           "quota", "prompt_tokens", "completion_tokens", "use_time", "request_time", "channel_id",
           "group", "other")
# Format B's cells, in this order.
_CELLS = ("time", "type", "model", "user", "prompt", "completion", "quota", "use_time", "details",
          "token", "request_id", "group")
_COLS = {key: i for i, key in enumerate(_CELLS)}
_CALL_TYPES = {2, 5, "2", "5"}


def flavor_of(columns) -> str:
    """new-api (use_time, other) or one-api (request_time, no other)."""
    cols = set(columns)
    return "one-api" if "request_time" in cols and "use_time" not in cols else "new-api"


class RowMapper:
    """Maps log rows of one source (dicts keyed by COLUMNS; missing keys are absent columns)."""

    def __init__(self, *, source_name: str, quota_per_unit: int, tz: ZoneInfo):
        self.source_name = source_name
        self.rows = GatewayRows(_COLS, tz=tz, customer_slug=None)
        self.scale = None if int(quota_per_unit) == int(QUOTA_PER_USD) else QUOTA_PER_USD / Decimal(quota_per_unit)

    def map(self, row: dict) -> Record | Rejected | object:
        row_id = row["id"]
        request_id = None
        if row.get("type") in _CALL_TYPES:
            other = row.get("other")
            if other not in (None, ""):
                try:
                    other = json.loads(other) if isinstance(other, (str, bytes)) else other
                except (ValueError, TypeError) as exc:
                    return Rejected(row_id, f"`other` is not readable JSON ({exc.__class__.__name__}); "
                                            f"the row was not stored")
                if not isinstance(other, dict):
                    return Rejected(row_id, "`other` is not a JSON object; the row was not stored")
                rid = other.get("request_id")
                if isinstance(rid, (str, int)) and not isinstance(rid, bool) and str(rid).strip():
                    request_id = str(rid).strip()
                    if len(request_id) > 200:
                        return Rejected(row_id, "other.request_id is longer than 200 characters")
        if request_id is None:
            request_id = f"{self.source_name}:{row_id}"
        quota = row.get("quota")
        if self.scale is not None and isinstance(quota, (int, Decimal)) and not isinstance(quota, bool):
            quota = str(Decimal(quota) * self.scale)
        use_time = row.get("use_time")
        if use_time is None and row.get("request_time") is not None:
            use_time = str(Decimal(row["request_time"]).scaleb(-3))
        cells = [row.get("created_at"), row.get("type"), row.get("model_name"), row.get("username"),
                 row.get("prompt_tokens"), row.get("completion_tokens"), quota, use_time,
                 row.get("content"), row.get("token_name"), request_id, row.get("group")]
        item = self.rows.row(cells, row_id)
        if isinstance(item, Record):
            channel = row.get("channel_id")
            item.fields["channel_id"] = channel if isinstance(channel, int) and channel > 0 else None
        return item
