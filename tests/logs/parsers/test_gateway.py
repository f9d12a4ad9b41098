"""Format B, the gateway's log export: one bad row between two good ones, per class of bad value.

As a user checks it: the good rows are stored, the bad one is rejected with its line and a
reason naming the column, and the summary accounts for every row. CSV and XLSX; a row of
bytes that are not UTF-8 after the first 64 KB; an XLSX that decompresses past the limit
(a zip bomb, made here) and one with more rows than the limit.
"""
import csv
import datetime as dt
import io
import zipfile

import pytest
from openpyxl import Workbook

from logs.models import Call, Customer
from logs.parsers import InputError
from logs.services.ingest import calls_ingest

pytestmark = pytest.mark.django_db

PRO = "gemini-3-pro-image-preview"
HEADER = ["Time", "Request ID", "User", "Token", "Group", "Type", "Model", "Use Time", "Prompt",
          "Completion", "Cost", "Details"]


def _row(rid, **cells):
    row = {"Time": "2026-10-03 09:00:00", "Request ID": rid, "User": "acme", "Token": "web", "Group": "default",
           "Type": "consume", "Model": PRO, "Use Time": "12", "Prompt": "10", "Completion": "1120",
           "Cost": "$0.050000", "Details": "模型价格 0.05，分组倍率 1"}
    row.update(cells)
    return row


def _csv(rows, header=HEADER) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: v for k, v in row.items() if k in header})
    return buf.getvalue().encode()


def _xlsx(rows, header=HEADER) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append([row.get(h) for h in header])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _assert_one_bad(summary, word, line=3):
    assert summary["inserted"] == 2, summary
    assert set(Call.objects.values_list("request_id", flat=True)) == {"good-1", "good-2"}
    assert [r["line"] for r in summary["rejected"]] == [line], summary["rejected"]
    assert word.lower() in summary["rejected"][0]["reason"].lower(), summary["rejected"][0]["reason"]
    assert summary["rows"] == 3


# (id, cells of the bad row, a word the reason must hold)
CSV_CASES = [
    ("time-year-1", {"Time": "0001-01-01 00:00:00"}, "time"),
    ("time-year-9999", {"Time": "9999-12-31 23:59:59"}, "time"),
    ("time-2019", {"Time": "2019-12-31 23:59:59"}, "2020"),
    ("time-2099", {"Time": "2099-01-01 00:00:00"}, "ahead"),
    ("time-seconds-huge", {"Time": "99999999999999999999"}, "time"),
    ("time-words", {"Time": "soon"}, "time"),
    ("time-empty", {"Time": ""}, "time"),
    ("type-unknown", {"Type": "gift"}, "type"),
    ("type-empty", {"Type": ""}, "type"),
    ("model-empty", {"Model": ""}, "model"),
    ("model-201", {"Model": "m" * 201}, "model"),
    ("prompt-3e9", {"Prompt": "3000000000"}, "prompt tokens"),
    ("prompt-2-63", {"Prompt": str(2**63)}, "prompt tokens"),
    ("prompt-5000-digits", {"Prompt": "9" * 5000}, "prompt tokens"),
    ("prompt-negative", {"Prompt": "-5"}, "prompt tokens"),
    ("prompt-fraction", {"Prompt": "1.5"}, "prompt tokens"),
    ("prompt-1e400", {"Prompt": "1e400"}, "prompt tokens"),
    ("prompt-nan", {"Prompt": "NaN"}, "prompt tokens"),
    ("prompt-words", {"Prompt": "abc"}, "prompt tokens"),
    ("completion-3e9", {"Completion": "3000000000"}, "completion tokens"),
    ("completion-infinity", {"Completion": "Infinity"}, "completion tokens"),
    ("completion-exponent-huge", {"Completion": "1e999999999"}, "completion tokens"),
    ("cost-1e30", {"Cost": "$1e30"}, "cost"),
    ("cost-over-a-million", {"Cost": "$1000000.01"}, "cost"),
    ("cost-negative", {"Cost": "-0.05"}, "cost"),
    ("cost-infinity", {"Cost": "Infinity"}, "cost"),
    ("cost-nan", {"Cost": "NaN"}, "cost"),
    ("cost-exponent-huge", {"Cost": "1e999999999"}, "cost"),
    ("cost-words", {"Cost": "five cents"}, "cost"),
    ("use-time-1e12", {"Use Time": "1000000000000"}, "use time"),
    ("use-time-1e9-seconds", {"Use Time": "1e9"}, "use time"),
    ("use-time-negative", {"Use Time": "-1"}, "use time"),
    ("use-time-infinity", {"Use Time": "Infinity"}, "use time"),
    ("use-time-words", {"Use Time": "long"}, "use time"),
    ("ratio-1001", {"Details": "模型价格 0.05，分组倍率 1001"}, "group ratio"),
    ("ratio-huge", {"Details": "group ratio " + "9" * 40}, "group ratio"),
    ("token-201", {"Token": "t" * 201}, "token"),
    ("group-65", {"Group": "g" * 65}, "group"),
    ("request-id-201", {"Request ID": "r" * 201}, "request id"),
    ("user-65", {"User": "a" * 65}, "user"),
    ("user-markup", {"User": "<b>acme</b>"}, "user"),
    ("user-space", {"User": "acme corp"}, "user"),
]


@pytest.mark.parametrize("case, cells, word", CSV_CASES, ids=[c[0] for c in CSV_CASES])
def test_csv_bad_value_costs_only_its_row(case, cells, word):
    body = _csv([_row("good-1"), _row("bad-1", **cells), _row("good-2")])
    _assert_one_bad(calls_ingest(source=body).summary(), word)


XLSX_CASES = [
    ("time-year-1", {"Time": dt.datetime(1, 1, 1)}, "time"),
    ("time-year-9999", {"Time": dt.datetime(9999, 12, 31, 23, 59, 59)}, "time"),
    ("time-2019", {"Time": dt.datetime(2019, 5, 1)}, "2020"),
    ("time-seconds-huge", {"Time": 10**20}, "time"),
    ("prompt-3e9", {"Prompt": 3_000_000_000}, "prompt tokens"),
    ("prompt-float-huge", {"Prompt": 1e300}, "prompt tokens"),
    ("prompt-fraction", {"Prompt": 2.5}, "prompt tokens"),
    ("completion-negative", {"Completion": -1}, "completion tokens"),
    ("cost-1e30", {"Cost": 1e30}, "cost"),
    ("cost-negative", {"Cost": -0.05}, "cost"),
    ("use-time-1e12", {"Use Time": 1e12}, "use time"),
    ("model-201", {"Model": "m" * 201}, "model"),
    ("user-markup", {"User": "<i>x</i>"}, "user"),
]


@pytest.mark.parametrize("case, cells, word", XLSX_CASES, ids=[c[0] for c in XLSX_CASES])
def test_xlsx_bad_value_costs_only_its_row(case, cells, word):
    body = _xlsx([_row("good-1", **{"Use Time": 12, "Prompt": 10, "Completion": 1120}), _row("bad-1", **cells),
                  _row("good-2", **{"Use Time": 12, "Prompt": 10, "Completion": 1120})])
    _assert_one_bad(calls_ingest(source=body).summary(), word)


@pytest.mark.parametrize("value, word", [("1e30", "quota"), ("-1", "quota"), ("Infinity", "quota"),
                                         (str(500_000 * 1_000_000 + 1), "quota")])
def test_quota_column_bad_values(value, word):
    header = [h if h != "Cost" else "Quota" for h in HEADER]
    rows = [{("Quota" if k == "Cost" else k): v for k, v in _row(rid, Cost=cost).items()}
            for rid, cost in (("good-1", "25000"), ("bad-1", value), ("good-2", "25000"))]
    _assert_one_bad(calls_ingest(source=_csv(rows, header)).summary(), word)


def test_a_named_customer_is_not_checked_against_the_user_column():
    acme = Customer.objects.create(slug="acme")
    body = _csv([_row("good-1", User="<odd user>"), _row("bad-1", Prompt="-1"), _row("good-2")])
    _assert_one_bad(calls_ingest(source=body, customer=acme).summary(), "prompt tokens")


def test_a_row_of_other_bytes_after_64_kb_is_rejected_not_stored_garbled():
    good = [_row(f"good-{i}") for i in range(1, 801)]
    body = _csv(good)
    assert len(body) > 65536
    bad = ("2026-10-03 09:00:00,gbk-1,acme,web,default,consume," + PRO + ",12,10,1120,$0.05,"
           ).encode() + "模型价格 0.05，分组倍率 1".encode("gbk") + b"\n"
    lines = body.splitlines(keepends=True)
    body = b"".join(lines[:700]) + bad + b"".join(lines[700:])
    s = calls_ingest(source=body).summary()
    assert s["inserted"] == 800
    assert [r["line"] for r in s["rejected"]] == [701]
    assert "UTF-8" in s["rejected"][0]["reason"]
    assert not Call.objects.filter(request_id="gbk-1").exists()
    assert not Call.objects.filter(error_text__contains="\ufffd").exists()


def test_other_bytes_in_the_first_64_kb_reject_only_their_row():
    body = _csv([_row("good-1"), _row("bad-1"), _row("good-2")])
    body = body.replace("分组倍率".encode(), "分组倍率".encode("gbk"), 2)  # rows 2 and 3
    body = body.replace("分组倍率".encode("gbk"), "分组倍率".encode(), 1)  # row 2 is UTF-8 again
    s = calls_ingest(source=body).summary()
    _assert_one_bad(s, "UTF-8")


def test_a_csv_in_another_encoding_whole_is_refused():
    body = ",".join(["时间", "类型", "模型"]).encode("gbk") + b"\n2026-10-03 09:00:00,1,m\n"
    with pytest.raises(InputError, match="not UTF-8"):
        calls_ingest(source=body)


def _bomb(sheet_bytes: int) -> bytes:
    """An XLSX whose sheet XML decompresses to `sheet_bytes` (mostly one repeated row)."""
    good = _xlsx([_row("good-1")])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                head, _, tail = data.partition(b"</sheetData>")
                filler = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
                data = head + filler * (sheet_bytes // len(filler)) + b"</sheetData>" + tail
            dst.writestr(info.filename, data)
    return out.getvalue()


def test_an_xlsx_that_decompresses_past_the_limit_is_refused_with_the_reason(settings):
    settings.NBAUDIT_XLSX_MAX_BYTES = 1_000_000
    body = _bomb(20_000_000)
    assert len(body) < 200_000  # a small file...
    with pytest.raises(InputError, match="over the limit of 1,000,000.*NBAUDIT_XLSX_MAX_BYTES"):
        calls_ingest(source=body)  # ...refused before its 20 MB sheet is read
    assert not Call.objects.exists()


def test_an_xlsx_that_compresses_like_a_bomb_is_refused_at_the_default_limits():
    body = _bomb(40_000_000)  # 40 MB of sheet in a file of a few hundred KB
    with pytest.raises(InputError, match="times its size.*NBAUDIT_XLSX_MAX_RATIO"):
        calls_ingest(source=body)
    assert not Call.objects.exists()


def test_rows_past_the_xlsx_row_limit_are_rejected_with_the_reason(settings):
    settings.NBAUDIT_XLSX_MAX_ROWS = 4  # the header and 3 rows
    body = _xlsx([_row(f"r-{i}") for i in range(1, 7)])
    s = calls_ingest(source=body).summary()
    assert s["inserted"] == 3
    assert s["rejected"] == [{"line": 5, "reason": "the sheet is over the limit of 4 rows "
                                                  "(NBAUDIT_XLSX_MAX_ROWS): this row and the rest are not read"}]


def test_a_damaged_xlsx_is_refused_in_words():
    body = _xlsx([_row("good-1")])
    with pytest.raises(InputError, match="XLSX"):
        calls_ingest(source=body[: len(body) // 2])
