"""Format C, a customer's local log: one bad row between two good ones, per class of bad value.

What reconciliation sees: the good rows read, the bad one a Rejected with its line and a
reason naming the column; never an exception. Flat CSV and XLSX, and envelopes.
"""
import csv
import datetime as dt
import io
import json

import pytest
from openpyxl import Workbook

from logs.parsers import LocalLogError, LocalRow, Rejected, local_log_read

HEADER = ["request_id", "created_at", "model", "http_status", "finish_reason", "block_reason", "finish_message",
          "prompt_tokens", "output_tokens", "total_tokens", "images", "charged_usd"]


def _row(rid, **cells):
    row = {"request_id": rid, "created_at": "2026-10-10 12:00:00", "model": "gemini-3-pro-image-preview",
           "http_status": "200", "finish_reason": "STOP", "block_reason": "", "finish_message": "",
           "prompt_tokens": "20", "output_tokens": "1120", "total_tokens": "1140", "images": "1",
           "charged_usd": "0.05"}
    row.update(cells)
    return row


def _csv(rows) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode()


def _assert_one_bad(items, word, line=3):
    assert [type(i) for i in items] == [LocalRow, Rejected, LocalRow], items
    assert [i.request_id for i in items if isinstance(i, LocalRow)] == ["good-1", "good-2"]
    assert items[1].line == line
    assert word.lower() in items[1].reason.lower(), items[1].reason


CASES = [
    ("request-id-201", {"request_id": "r" * 201}, "request_id"),
    ("time-year-1", {"created_at": "0001-01-01 00:00:00"}, "created_at"),
    ("time-year-1-offset", {"created_at": "0001-01-01T00:00:00+14:00"}, "created_at"),
    ("time-year-9999", {"created_at": "9999-12-31 23:59:59"}, "created_at"),
    ("time-2019", {"created_at": "2019-06-01 00:00:00"}, "2020"),
    ("time-2099", {"created_at": "2099-06-01 00:00:00"}, "ahead"),
    ("time-seconds-huge", {"created_at": "1" * 25}, "created_at"),
    ("status-99999", {"http_status": "99999"}, "http_status"),
    ("status-42", {"http_status": "42"}, "http_status"),
    ("status-2-64", {"http_status": str(2**64)}, "http_status"),
    ("prompt-3e9", {"prompt_tokens": "3000000000"}, "prompt_tokens"),
    ("prompt-5000-digits", {"prompt_tokens": "9" * 5000}, "prompt_tokens"),
    ("output-negative", {"output_tokens": "-1"}, "output_tokens"),
    ("output-1e400", {"output_tokens": "1e400"}, "output_tokens"),
    ("total-nan", {"total_tokens": "NaN"}, "total_tokens"),
    ("images-infinity", {"images": "Infinity"}, "images"),
    ("charged-1e30", {"charged_usd": "1e30"}, "charged_usd"),
    ("charged-infinity", {"charged_usd": "Infinity"}, "charged_usd"),
    ("charged-nan", {"charged_usd": "NaN"}, "charged_usd"),
    ("charged-negative", {"charged_usd": "-0.01"}, "charged_usd"),
    ("charged-exponent-huge", {"charged_usd": "1e999999999"}, "charged_usd"),
    ("model-201", {"model": "m" * 201}, "model"),
]


@pytest.mark.parametrize("case, cells, word", CASES, ids=[c[0] for c in CASES])
def test_csv_bad_value_costs_only_its_row(case, cells, word):
    items = list(local_log_read(_csv([_row("good-1"), _row("bad-1", **cells), _row("good-2")])))
    _assert_one_bad(items, word)


XLSX_CASES = [
    ("time-year-1", {"created_at": dt.datetime(1, 1, 1)}, "created_at"),
    ("time-year-9999", {"created_at": dt.datetime(9999, 12, 31)}, "created_at"),
    ("status-99999", {"http_status": 99999}, "http_status"),
    ("prompt-float-huge", {"prompt_tokens": 1e300}, "prompt_tokens"),
    ("charged-1e30", {"charged_usd": 1e30}, "charged_usd"),
    ("request-id-float-huge", {"request_id": 1e300}, "request_id"),
]


@pytest.mark.parametrize("case, cells, word", XLSX_CASES, ids=[c[0] for c in XLSX_CASES])
def test_xlsx_bad_value_costs_only_its_row(case, cells, word):
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    for row in (_row("good-1"), _row("bad-1", **cells), _row("good-2")):
        ws.append([row[h] for h in HEADER])
    buf = io.BytesIO()
    wb.save(buf)
    _assert_one_bad(list(local_log_read(buf.getvalue())), word)


def test_envelopes_share_the_checks_of_the_ingest():
    good = {"request_id": "good-1", "created_at": "2026-10-10T12:00:00+08:00", "model": "gemini-3-pro-image-preview",
            "http_status": 200}
    lines = [json.dumps(good), json.dumps({**good, "request_id": "bad-1", "charged_usd": "1e30"}),
             json.dumps({**good, "request_id": "good-2"})]
    _assert_one_bad(list(local_log_read("\n".join(lines).encode(), customer_slug="acme")), "charged_usd", line=2)


def test_a_row_of_other_bytes_after_64_kb_is_rejected():
    rows = [_row(f"good-{i}") for i in range(1, 1001)]
    body = _csv(rows)
    assert len(body) > 65536
    lines = body.splitlines(keepends=True)
    bad = _csv([_row("gbk-1", finish_message="模型价格")]).splitlines(keepends=True)[1]
    bad = bad.replace("模型价格".encode(), "模型价格".encode("gbk"))
    with pytest.raises(UnicodeDecodeError):
        bad.decode("utf-8")
    items = list(local_log_read(b"".join(lines[:900]) + bad + b"".join(lines[900:])))
    rejected = [i for i in items if isinstance(i, Rejected)]
    assert [(r.line, "UTF-8" in r.reason) for r in rejected] == [(901, True)]
    assert sum(isinstance(i, LocalRow) for i in items) == 1000


def test_an_xlsx_that_decompresses_past_the_limit_is_refused(settings):
    from tests.logs.parsers.test_gateway import _bomb

    settings.NBAUDIT_XLSX_MAX_BYTES = 1_000_000
    with pytest.raises(LocalLogError, match="over the limit"):
        list(local_log_read(_bomb(5_000_000)))
