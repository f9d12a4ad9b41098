"""Reading the inputs of formats.md into call records: one module per format over shared pieces.

- `base`: the outcome of a row (`Record`, `Skipped`, `Rejected`), the refusal of a whole input
  (`InputError`), opening a source and decoding its text;
- `values`: the value readers (time, integer, HTTP status, amount, quota, ratio, text, slug)
  and the checks of what cannot be true, the one place every format and way in reads values;
- `tabular`: CSV records over physical lines; XLSX sheets within size and row limits;
- `detect`: which format an input is;
- `envelopes` (format A), `gateway` (format B), `local` (format C, for reconciliation).

Each reader yields, for every input row, one of `Record` (a call, classified, with the
fields of `logs.models.Call`), `Skipped` (a row that is not a call) or `Rejected` (a bad
row, with its line and the reason). Nothing is dropped silently.

Line numbers are the physical line where a record starts, the header being line 1 (NDJSON
has no header: its first line is 1; a JSON array counts envelopes from 1).
"""
from logs.parsers.base import InputError, Record, Rejected, RowError, Skipped, open_source
from logs.parsers.detect import detect
from logs.parsers.envelopes import elide_images, envelope_record, iter_envelopes
from logs.parsers.gateway import (
    KIND_HELP,
    GatewayRows,
    gateway_columns,
    iter_gateway_csv,
    iter_gateway_xlsx,
)
from logs.parsers.local import LocalLogError, LocalRow, local_log_read
from logs.parsers.values import (
    parse_amount,
    parse_int,
    parse_quota,
    parse_ratio,
    parse_seconds_ms,
    parse_slug,
    parse_status,
    parse_text,
    parse_time,
)

__all__ = [
    "KIND_HELP",
    "GatewayRows",
    "InputError",
    "LocalLogError",
    "LocalRow",
    "Record",
    "Rejected",
    "RowError",
    "Skipped",
    "detect",
    "elide_images",
    "envelope_record",
    "gateway_columns",
    "iter_envelopes",
    "iter_gateway_csv",
    "iter_gateway_xlsx",
    "local_log_read",
    "open_source",
    "parse_amount",
    "parse_int",
    "parse_quota",
    "parse_ratio",
    "parse_seconds_ms",
    "parse_slug",
    "parse_status",
    "parse_text",
    "parse_time",
]
