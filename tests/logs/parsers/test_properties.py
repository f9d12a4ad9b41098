"""Property tests over every parser entry point, and `calls_ingest` on small inputs.

Whatever the input: a reader yields only Record / Skipped / Rejected (or refuses the whole
input with InputError), never another exception; and every Record it yields holds values a
call can store (formats.md, "Values that parse but cannot be true"). The number of examples
is bounded so the suite stays fast (NBAUDIT_PROPERTY_EXAMPLES=2000 runs a longer search by
hand); no deadline (no timing in tests).
"""
import csv
import datetime as dt
import io
import json
import os
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings, strategies as st
from openpyxl import Workbook

from logs.models import Call
from logs.parsers import (
    InputError,
    LocalRow,
    Record,
    Rejected,
    Skipped,
    detect,
    envelope_record,
    iter_envelopes,
    iter_gateway_csv,
    iter_gateway_xlsx,
    local_log_read,
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
from logs.parsers.base import RowError
from logs.parsers.values import EARLIEST, INT_MAX, MAX_AMOUNT, MAX_RATIO, SLUG, TEXT_LIMITS
from logs.services.ingest import calls_ingest
from logs.timeutil import billing_tz

EXAMPLES = int(os.environ.get("NBAUDIT_PROPERTY_EXAMPLES", "60"))
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
FEW = settings(PROPERTY, max_examples=max(EXAMPLES // 4, 10))  # XLSX and database examples cost more

# --- what a stored call may hold ---------------------------------------------------------------


def _valid_text(s):
    s.encode("utf-8")  # raises on a lone surrogate
    return True


def _depth(obj, level=1):
    if isinstance(obj, dict):
        return max([_depth(v, level + 1) for v in obj.values()], default=level)
    if isinstance(obj, list):
        return max([_depth(v, level + 1) for v in obj], default=level)
    return level - 1


def assert_storable(fields):
    for name, limit in TEXT_LIMITS.items():
        value = fields.get(name)
        if value is not None:
            assert isinstance(value, str) and len(value) <= limit and _valid_text(value), name
    assert fields["model"] and fields["request_id"]
    assert EARLIEST <= fields["created_at"] <= timezone.now() + dt.timedelta(days=1, minutes=1)
    for name in ("prompt_tokens", "output_tokens", "thoughts_tokens", "total_tokens", "image_tokens", "latency_ms"):
        value = fields.get(name)
        assert value is None or (type(value) is int and 0 <= value <= INT_MAX), (name, value)
    for name in ("images", "drafts"):
        assert 0 <= (fields.get(name) or 0) <= 32767
    status = fields.get("http_status")
    assert status is None or status == 0 or 100 <= status <= 599, status
    charged = fields.get("charged_usd")
    assert charged is None or (charged.is_finite() and 0 <= charged <= MAX_AMOUNT
                               and charged.as_tuple().exponent >= -6), charged
    ratio = fields.get("group_ratio")
    assert ratio is None or (ratio.is_finite() and 0 <= ratio <= MAX_RATIO), ratio
    for name in ("error_text", "finish_message", "finish_reason", "block_reason", "prompt", "reason"):
        assert _valid_text(fields.get(name) or "")
    if fields.get("response") is not None:
        text = json.dumps(fields["response"], allow_nan=False)  # raises on NaN / Infinity
        assert _valid_text(text) and _depth(fields["response"]) <= 101


def assert_outcomes(items, kinds=(Record, Skipped, Rejected)):
    for item in items:
        assert isinstance(item, kinds), item
        if isinstance(item, Record):
            assert_storable(item.fields)
        elif isinstance(item, (Skipped, Rejected)):
            assert isinstance(item.line, int) and item.line >= 1 and item.reason


def read_all(reader, *args, **kw):
    try:
        return list(reader(*args, **kw))
    except InputError:
        return []


# --- strategies --------------------------------------------------------------------------------

odd_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", "NaN", "nan", "Infinity", "-Infinity", "1e30", "1e400", "1e999999999", "-1",
                     "0", "3000000000", str(2**63), str(2**64), "9" * 5000, "$0.05", "＄0.05", "US$1,000.00",
                     "0001-01-01 00:00:00", "9999-12-31 23:59:59", "9999-12-31T23:59:59-14:00",
                     "2026-10-03 09:00:00", "2026-10-03T09:00:00+08:00", "1790000000", "\ud800", "a\udcff",
                     "x" * 300, "<b>x</b>", "分组倍率 1001", "group ratio 1e30", "sNaN", "1.5", "0x10"]),
)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=True),
    st.decimals(allow_nan=True), odd_text,
)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                         st.floats(allow_nan=False, allow_infinity=False), odd_text)
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)

ENVELOPE_KEYS = ["request_id", "created_at", "customer", "model", "token_name", "route", "http_status", "latency_ms",
                 "image_size", "charged_usd", "quota", "group_ratio", "prompt", "response", "error"]
GOOD = {"request_id": "p-1", "created_at": "2026-10-03T09:00:00+08:00", "customer": "acme",
        "model": "gemini-3-pro-image-preview", "http_status": 200}
responses = st.one_of(
    json_values,
    st.fixed_dictionaries({"usageMetadata": st.dictionaries(
        st.sampled_from(["promptTokenCount", "candidatesTokenCount", "totalTokenCount", "thoughtsTokenCount"]),
        json_scalars, max_size=3)}),
    st.fixed_dictionaries({"error": st.dictionaries(st.sampled_from(["code", "status", "message"]), json_scalars,
                                                    max_size=3)}),
)
envelopes = st.builds(
    lambda changes, response: {**GOOD, **changes, **({"response": response} if response is not None else {})},
    st.dictionaries(st.sampled_from(ENVELOPE_KEYS), json_values, max_size=4),
    st.one_of(st.none(), responses),
)
RAW_TOKENS = ["NaN", "Infinity", "-Infinity", "1e400", "9" * 5000, '"\\ud800"', "[" * 200 + "]" * 200,
              "[" * 1500 + "]" * 1500, '{"a":' * 120 + "1" + "}" * 120]


@st.composite
def ndjson_bodies(draw):
    lines = []
    for env in draw(st.lists(envelopes, max_size=5)):
        line = json.dumps(env)
        if draw(st.booleans()):  # a raw JSON token no json.dumps writes, in place of a value
            key = draw(st.sampled_from(ENVELOPE_KEYS))
            line = json.dumps({**env, key: "@@"}).replace('"@@"', draw(st.sampled_from(RAW_TOKENS)))
        lines.append(line)
    if draw(st.booleans()):
        return ("[" + ",".join(lines) + "]").encode()
    body = "\n".join(lines).encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        body += draw(st.binary(max_size=20))
    return body


GATEWAY_HEADER = ["时间", "请求ID", "用户", "令牌", "分组", "类型", "模型", "用时", "提示", "补全", "花费", "详情"]
GOOD_ROW = ["2026-10-03 09:00:00", "g-1", "acme", "web", "default", "消费", "gemini-3-pro-image-preview", "12",
            "10", "1120", "$0.05", "模型价格 0.05，分组倍率 1"]


@st.composite
def gateway_rows(draw):
    row = list(GOOD_ROW)
    for index in draw(st.lists(st.integers(0, len(row) - 1), max_size=4)):
        row[index] = draw(odd_text)
    return row


def _csv_body(header, rows, junk=b""):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8", "surrogatepass") + junk  # a lone surrogate: bytes not UTF-8


LOCAL_HEADER = ["request_id", "created_at", "model", "http_status", "finish_reason", "block_reason",
                "finish_message", "prompt_tokens", "output_tokens", "total_tokens", "images", "charged_usd"]
LOCAL_ROW = ["l-1", "2026-10-10 12:00:00", "gemini-3-pro-image-preview", "200", "STOP", "", "", "20", "1120",
             "1140", "1", "0.05"]


@st.composite
def local_rows(draw):
    row = list(LOCAL_ROW)
    for index in draw(st.lists(st.integers(0, len(row) - 1), max_size=4)):
        row[index] = draw(odd_text)
    return row


xlsx_cells = st.one_of(st.none(), st.integers(min_value=-(2**62), max_value=2**62),
                       st.floats(allow_nan=False, allow_infinity=False),
                       st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)),
                       st.sampled_from(["NaN", "1e30", "-1", "x" * 300, "<b>x</b>", "9999-12-31 23:59:59", ""]))


def _xlsx_body(header, good, rows_changes):
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for changes in rows_changes:
        row = list(good)
        for index, value in changes.items():
            row[index] = value
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- the value readers -------------------------------------------------------------------------

@PROPERTY
@given(scalars)
def test_value_readers_return_a_value_in_range_or_say_why(value):
    tz = billing_tz()
    readers = [
        (lambda v: parse_int(v, "n"), lambda n: n is None or 0 <= n <= INT_MAX),
        (lambda v: parse_status(v), lambda n: n is None or n == 0 or 100 <= n <= 599),
        (lambda v: parse_seconds_ms(v, "s"), lambda n: n is None or 0 <= n <= INT_MAX),
        (lambda v: parse_amount(v, "a"), lambda d: d is None or 0 <= d <= MAX_AMOUNT),
        (lambda v: parse_quota(v, "q"), lambda d: d is None or 0 <= d <= MAX_AMOUNT),
        (lambda v: parse_ratio(v), lambda d: d is None or 0 <= d <= MAX_RATIO),
        (lambda v: parse_time(v, tz), lambda t: EARLIEST <= t <= timezone.now() + dt.timedelta(days=1)),
        (lambda v: parse_text(v, "t", 200), lambda s: len(s) <= 200 and _valid_text(s)),
        (lambda v: parse_slug(v), lambda s: s == "" or SLUG.fullmatch(s)),
    ]
    for read, fits in readers:
        try:
            result = read(value)
        except RowError as exc:
            assert str(exc)
            continue
        assert fits(result), (value, result)
        if isinstance(result, Decimal):
            assert result.is_finite()


# --- format A ----------------------------------------------------------------------------------

@PROPERTY
@given(envelopes)
def test_envelope_record_is_a_storable_record_or_a_reason(env):
    try:
        record = envelope_record(env, line=1, tz=billing_tz(), customer_slug=None)
    except RowError as exc:
        assert str(exc)
        return
    assert_storable(record.fields)


@PROPERTY
@given(ndjson_bodies())
def test_iter_envelopes_never_raises_but_refuses(body):
    assert_outcomes(read_all(iter_envelopes, io.BytesIO(body), tz=billing_tz(), customer_slug=None),
                    (Record, Rejected))


@PROPERTY
@given(st.binary(max_size=200))
def test_detect_and_readers_on_any_bytes(body):
    try:
        detect(body)
    except InputError:
        pass
    assert_outcomes(read_all(iter_envelopes, io.BytesIO(body), tz=billing_tz(), customer_slug=None))
    assert_outcomes(read_all(iter_gateway_csv, io.BytesIO(body), tz=billing_tz(), customer_slug=None))
    assert_outcomes(read_all(local_log_read, body), (LocalRow, Rejected))


# --- format B ----------------------------------------------------------------------------------

@PROPERTY
@given(st.lists(gateway_rows(), max_size=6), st.binary(max_size=12))
def test_iter_gateway_csv_never_raises_but_refuses(rows, junk):
    body = _csv_body(GATEWAY_HEADER, rows, junk)
    items = read_all(iter_gateway_csv, io.BytesIO(body), tz=billing_tz(), customer_slug=None)
    assert_outcomes(items)
    assert len(items) >= len([r for r in rows if any(c.strip() for c in r)]) - 1  # no row lost silently


@FEW
@given(st.lists(st.dictionaries(st.integers(0, len(GOOD_ROW) - 1), xlsx_cells, max_size=4), max_size=4))
def test_iter_gateway_xlsx_never_raises_but_refuses(rows_changes):
    body = _xlsx_body(GATEWAY_HEADER, GOOD_ROW, rows_changes)
    assert_outcomes(read_all(iter_gateway_xlsx, io.BytesIO(body), tz=billing_tz(), customer_slug=None))


# --- format C ----------------------------------------------------------------------------------

def _assert_local(items):
    for item in items:
        assert isinstance(item, (LocalRow, Rejected)), item
        if isinstance(item, LocalRow):
            assert 0 < len(item.request_id) <= 200 and _valid_text(item.request_id)
            assert EARLIEST <= item.created_at <= timezone.now() + dt.timedelta(days=1, minutes=1)
            assert item.charged_usd is None or 0 <= item.charged_usd <= MAX_AMOUNT


local_bodies = st.one_of(
    st.builds(lambda rows, junk: _csv_body(LOCAL_HEADER, rows, junk),
              st.lists(local_rows(), max_size=6), st.binary(max_size=12)),
    ndjson_bodies(),
)


@PROPERTY
@given(local_bodies)
def test_local_log_csv_and_envelopes_never_raise_but_refuse(body):
    _assert_local(read_all(local_log_read, body, customer_slug="acme"))


@FEW
@given(st.lists(st.dictionaries(st.integers(0, len(LOCAL_ROW) - 1), xlsx_cells, max_size=4), max_size=4))
def test_local_log_xlsx_never_raises_but_refuses(rows_changes):
    _assert_local(read_all(local_log_read, _xlsx_body(LOCAL_HEADER, LOCAL_ROW, rows_changes)))


# --- calls_ingest on small inputs --------------------------------------------------------------

def _ingest_and_read_back(body):
    try:
        summary = calls_ingest(source=body).summary()
    except InputError:
        return
    assert summary["rows"] == (summary["inserted"] + summary["duplicates"] + summary["conflicts"]
                               + summary["skipped"] + len(summary["rejected"]))
    for call in Call.objects.all():  # what the pages, tallies and exports read back
        assert_storable({f.name: getattr(call, f.name) for f in Call._meta.concrete_fields})


@pytest.mark.django_db
@FEW
@given(st.one_of(ndjson_bodies(), st.builds(lambda rows: _csv_body(GATEWAY_HEADER, rows),
                                            st.lists(gateway_rows(), max_size=5))))
def test_calls_ingest_stores_only_what_can_be_read_back(body):
    """Envelopes or a gateway export: every row accounted for; every stored call reads back storable."""
    try:
        summary = calls_ingest(source=body).summary()
    except InputError:
        return
    assert summary["rows"] == (summary["inserted"] + summary["duplicates"] + summary["conflicts"]
                               + summary["skipped"] + len(summary["rejected"]))
    for call in Call.objects.all():  # what the pages, tallies and exports read back
        assert_storable({f.name: getattr(call, f.name) for f in Call._meta.concrete_fields})
