"""Format B's short path (`GatewayRows._fast`, for rows of a shape read before) reads every row
to the very outcome the full reading gives: the same Record (fields, line, customer), Skipped or
Rejected with the same reason, whatever the value, the zone (clock changes included) or the
container."""
import datetime as dt
import io
import itertools
import random
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook

from logs.parsers import gateway, iter_gateway_csv, iter_gateway_xlsx

PRO = "gemini-3-pro-image-preview"
NB2 = "gemini-3.1-flash-image-preview"
HEADER = ["时间", "请求ID", "用户", "令牌", "分组", "类型", "模型", "用时", "提示", "补全", "花费", "详情"]
ODD = {  # column -> odd values, good and bad, mixed into plain rows
    0: ["2026-10-03 09:00:00", " 2026-10-03 09:00:01 ", "2026-10-03T09:00:00", "1790000000", "2019-12-31 23:59:59",
        "2099-01-01 00:00:00", "2026-10-03 09:00:60", "2026-10-03 09:00+08", "", "yesterday",
        "2026-11-01 01:30:00", "2026-03-08 02:30:00", "2026-11-01 00:59:59", "2026-10-03 09:00:00.5"],
    1: ["", "  ", "rid with spaces ", "x" * 201, "请求-1", "\udcff"],
    2: ["acme", " acme ", "", "not a slug!", "ａcme"],
    3: ["web", "", "令牌", "t" * 201, "tab\there"],
    4: ["default", "", "g" * 65, "分组"],
    5: ["消费", "错误", "consume", "2", "5.0", "充值", "refund", "", "nonsense"],
    6: [PRO, NB2, "", "gpt-4o", " " + PRO + " ", "m" * 201],
    7: ["12", "", "12.5", "12s", "-1", "999999999", "abc"],
    8: ["10", "", "0010", "1e3", "-5", "99999999999", "１０"],
    9: ["1120", "", "0", "60", "699", "700", "999", "1000", "2.0", "x"],
    10: ["$0.050000", "", "＄0.05", "0.05", "$-1", "$2000000", "NaN", "US$1,000.00"],
    11: ["模型价格 0.05，分组倍率 1", "", "分组倍率 1.2", "group ratio 5000", "status_code=429, busy",
         "status_code=503, The model is overloaded", "status_code=999, odd", "API_KEY_INVALID", "prompt blocked"],
}


def _rows(n: int, seed: int) -> list[list[str]]:
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        row = [f"2026-10-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}", f"rid-{i}",
               rnd.choice(["acme", "globex"]), rnd.choice(["web", "batch"]), "default",
               rnd.choice(["消费", "消费", "错误"]), rnd.choice([PRO, NB2]), str(rnd.randint(5, 70)),
               str(rnd.randint(10, 2000)), rnd.choice(["1120", "1120", "60", ""]), "$0.050000",
               rnd.choice(["模型价格 0.05，分组倍率 1", "status_code=429, busy"])]
        if rnd.random() < 0.4:
            col = rnd.choice(list(ODD))
            row[col] = rnd.choice(ODD[col])
        rows.append(row)
    return rows


def _csv(rows, header=HEADER) -> bytes:
    def cell(v):
        return '"' + v.replace('"', '""') + '"' if any(c in v for c in ',"\n') else v
    text = ",".join(header) + "\n" + "\n".join(",".join(cell(v) for v in r) for r in rows) + "\n"
    return text.encode("utf-8", errors="surrogateescape")


HITS = []


def _read(reader, body: bytes, tz, slug, fast: bool, monkeypatch) -> list:
    real = gateway.GatewayRows._fast
    if fast:
        def counted(self, cells, line):
            record = real(self, cells, line)
            HITS.append(record is not None)
            return record
        monkeypatch.setattr(gateway.GatewayRows, "_fast", counted)
    else:
        monkeypatch.setattr(gateway.GatewayRows, "_fast", lambda self, cells, line: None)
    try:
        out = list(reader(io.BytesIO(body), tz=tz, customer_slug=slug))
    finally:
        monkeypatch.undo()
    return [(type(o).__name__, o.line, getattr(o, "reason", None), getattr(o, "customer_slug", None),
             getattr(o, "fields", None)) for o in out]


@pytest.mark.parametrize("zone, slug, seed", list(itertools.product(
    ["Asia/Shanghai", "America/New_York", "UTC"], [None, "acme"], [1, 2])))
def test_the_short_path_reads_every_row_as_the_full_reading(monkeypatch, zone, slug, seed):
    rows = _rows(600, seed)
    body = _csv(rows + rows[:50])  # shapes seen before, again
    tz = ZoneInfo(zone)
    full = _read(iter_gateway_csv, body, tz, slug, False, monkeypatch)
    HITS.clear()
    short = _read(iter_gateway_csv, body, tz, slug, True, monkeypatch)
    assert short == full
    assert sum(HITS) > len(rows) / 3  # most plain rows took the short path
    kinds = {kind for kind, *_ in full}
    assert kinds == {"Record", "Rejected", "Skipped"}  # the odd values made all three


def test_times_in_the_hours_a_clock_changes_are_read_as_the_full_reading(monkeypatch):
    tz = ZoneInfo("America/New_York")
    start = dt.datetime(2026, 3, 8, 0, 0)
    rows = []
    for i, minutes in enumerate(range(0, 4 * 60, 7)):
        for day in (0, 238):  # 8 March (spring forward) and 1 November (fall back)
            at = (start + dt.timedelta(days=day, minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S")
            rows.append([at, f"rid-{i}-{day}", "acme", "web", "default", "消费", PRO, "12", "10", "1120",
                         "$0.050000", "模型价格 0.05，分组倍率 1"])
    body = _csv(rows)
    full = _read(iter_gateway_csv, body, tz, None, False, monkeypatch)
    assert _read(iter_gateway_csv, body, tz, None, True, monkeypatch) == full
    assert len({f["created_at"] for *_, f in full}) == len(rows)


def test_a_quota_export_and_an_xlsx_are_read_as_the_full_reading(monkeypatch):
    header = [h if h != "花费" else "额度" for h in HEADER]
    rows = _rows(300, 3)
    for i, r in enumerate(rows):
        r[10] = random.Random(i).choice(["25000", "", "25000.0", "-1", "abc", "1,000"])
    tz = ZoneInfo("Asia/Shanghai")
    body = _csv(rows, header)
    assert _read(iter_gateway_csv, body, tz, None, True, monkeypatch) == \
        _read(iter_gateway_csv, body, tz, None, False, monkeypatch)
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    for r in _rows(200, 4):
        ws.append([int(v) if v.isdigit() and i in (7, 8, 9) else v.replace("\udcff", "?")
                   for i, v in enumerate(r)])
    buf = io.BytesIO()
    wb.save(buf)
    xlsx = buf.getvalue()
    assert _read(iter_gateway_xlsx, xlsx, tz, None, True, monkeypatch) == \
        _read(iter_gateway_xlsx, xlsx, tz, None, False, monkeypatch)
