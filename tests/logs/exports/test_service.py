"""The export file, read back with an independent reader (python-calamine), against the database."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from python_calamine import CalamineWorkbook

from logs.choices import Category
from logs.models import Call, ExportJob
from logs.services.exports import export_filters_clean, export_headers, export_write
from logs.timeutil import billing_tz
from tests import factories as f

pytestmark = pytest.mark.django_db
UTC8 = f.UTC8


def _job(cust, owner, date_from=dt.date(2026, 10, 1), date_to=dt.date(2026, 10, 31), **filters):
    """An unsaved job, as the command builds it (a saved one also records progress)."""
    return ExportJob(owner=owner, customer=cust, date_from=date_from, date_to=date_to,
                     filters=export_filters_clean(filters))


def _read(path):
    wb = CalamineWorkbook.from_path(str(path))
    return wb, {name: wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names}


def _as_datetime(value):
    """Calamine gives a date for a datetime cell at midnight: both are real Excel dates."""
    assert isinstance(value, dt.date), f"not an Excel date: {value!r}"
    if not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time.min)
    return value


def _calls_rows(sheets):
    """Header and every call row over Calls, Calls (2), ... in order."""
    names = [n for n in sheets if n == "Calls" or n.startswith("Calls (")]
    header = sheets[names[0]][0]
    rows = []
    for n in names:
        assert sheets[n][0] == header
        rows.extend(sheets[n][1:])
    return header, rows


def test_every_call_in_range_once_with_values_and_types(acme, alice, tmp_path):
    other = f.customer("globex")
    inside = [
        f.call(acme, created_at=dt.datetime(2026, 10, 1, 0, 0, 0, tzinfo=UTC8)),  # first instant
        f.call(acme, created_at=dt.datetime(2026, 10, 15, 9, 30, 5, tzinfo=UTC8),
               category=Category.RATE_LIMITED, http_status=429, charged_usd=Decimal("0"),
               expected_usd=Decimal("0"), reason="HTTP 429 RESOURCE_EXHAUSTED", token_name="batch"),
        f.call(acme, created_at=dt.datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC8),  # last second
               category=Category.IMAGE_BLOCKED, charged_usd=Decimal("0.134000"),
               expected_usd=Decimal("0.134000"), reason="finishReason=IMAGE_SAFETY",
               model="gemini-3.1-flash-image-preview"),
    ]
    # Same instant, different ids: keyset paging must keep both.
    same_t = dt.datetime(2026, 10, 20, 12, 0, tzinfo=UTC8)
    inside += [f.call(acme, created_at=same_t, charged_usd=Decimal("0.05")) for _ in range(3)]
    f.call(acme, created_at=dt.datetime(2026, 9, 30, 23, 59, 59, tzinfo=UTC8))   # day before
    f.call(acme, created_at=dt.datetime(2026, 11, 1, 0, 0, 0, tzinfo=UTC8))      # day after
    f.call(other, created_at=dt.datetime(2026, 10, 15, 12, 0, tzinfo=UTC8))      # another customer

    out = tmp_path / "out.xlsx"
    result = export_write(job=_job(acme, alice), out_path=out, batch=2)
    assert result["rows"] == len(inside)
    wb, sheets = _read(out)
    assert wb.sheet_names[0] == "Calls"
    assert "Summary" in wb.sheet_names
    header, rows = _calls_rows(sheets)
    assert header == export_headers()
    assert "Request ID" in header
    col = {h: i for i, h in enumerate(header)}
    got_ids = [r[col["Request ID"]] for r in rows]
    assert sorted(got_ids) == sorted(c.request_id for c in inside)
    assert len(set(got_ids)) == len(got_ids)

    db = {c.request_id: c for c in Call.objects.filter(pk__in=[c.pk for c in inside])}
    tz = billing_tz()
    for r in rows:
        call = db[r[col["Request ID"]]]
        when = _as_datetime(r[0])
        assert when == call.created_at.astimezone(tz).replace(tzinfo=None)
        assert r[col["Customer"]] == call.customer.display_name  # a name people read, not the slug
        assert r[col["Model"]] == call.model
        assert r[col["Category code"]] == call.category  # the code, for tools
        assert r[col["Category"]] == Category(call.category).label  # the label, for people
        assert r[col["Reason"]] == call.reason
        assert r[col["Failed"]] is (call.category != Category.SUCCESS)
        assert r[col["HTTP status"]] == call.http_status
        assert r[col["Output tokens"]] == call.output_tokens
        charged = r[col["Charged (USD)"]]
        assert isinstance(charged, float)
        assert Decimal(str(charged)) == call.charged_usd
        assert Decimal(str(r[col["Expected (USD)"]])) == call.expected_usd
    # Oldest first.
    times = [_as_datetime(r[0]) for r in rows]
    assert times == sorted(times)


def test_summary_counts_and_totals(acme, alice, tmp_path):
    calls = [f.call(acme, charged_usd=Decimal("0.05")) for _ in range(3)]
    calls += [f.call(acme, category=Category.OVERLOADED, http_status=503, charged_usd=Decimal("0.01"),
                     model="gemini-3.1-flash-image-preview")]
    out = tmp_path / "s.xlsx"
    export_write(job=_job(acme, alice, category=["success", "overloaded"]), out_path=out)
    _, sheets = _read(out)
    summary = sheets["Summary"]
    first = {r[0]: r[1:] for r in summary if r and r[0]}
    assert first["Customer"][0] == acme.display_name
    assert _as_datetime(first["First day"][0]) == dt.datetime(2026, 10, 1)
    assert _as_datetime(first["Last day"][0]) == dt.datetime(2026, 10, 31)
    assert first["Filter: category"][0] == "Success, Overloaded (503)"
    total_charged = sum(c.charged_usd for c in calls)
    assert first["All calls"][0] == len(calls)
    assert Decimal(str(first["All calls"][1])) == total_charged
    assert first["Failed calls"][0] == 1
    # by category: the label people read, the code beside it
    assert first["Success"][0] == 3 and first["Success"][3] == "success"
    assert first["Overloaded (503)"][0] == 1 and first["Overloaded (503)"][3] == "overloaded"
    assert first["gemini-3-pro-image-preview"][0] == 3


def test_filters_as_on_the_logs_page(acme, alice, tmp_path):
    f.call(acme, request_id="ok-1")
    f.call(acme, request_id="bad-1", category=Category.RATE_LIMITED, http_status=429, token_name="batch")
    f.call(acme, request_id="bad-2", category=Category.SERVER_ERROR, http_status=500)
    f.call(acme, request_id="nb2-1", model="gemini-3.1-flash-image-preview")
    cases = [
        ({"failed": "1"}, {"bad-1", "bad-2"}),
        ({"category": ["rate_limited"]}, {"bad-1"}),
        ({"model": "nb2"}, {"nb2-1"}),
        ({"model": "gemini-3.1-flash-image-preview"}, {"nb2-1"}),
        ({"token_name": "batch"}, {"bad-1"}),
        ({"http_status": "500"}, {"bad-2"}),
        ({"request_id": "ok-1"}, {"ok-1"}),
    ]
    for i, (filters, expect) in enumerate(cases):
        out = tmp_path / f"f{i}.xlsx"
        export_write(job=_job(acme, alice, **filters), out_path=out)
        _, sheets = _read(out)
        header, rows = _calls_rows(sheets)
        assert {r[header.index("Request ID")] for r in rows} == expect, filters


def test_formula_like_text_stays_text(acme, alice, tmp_path):
    nasty = {
        "token_name": "=HYPERLINK(\"http://evil.example\",\"click\")",
        "error_text": "+cmd|' /C calc'!A0",
        "finish_message": "-2+3",
        "reason": "@SUM(1,2)",
    }
    f.call(acme, request_id="=1+1", category=Category.OTHER_ERROR, **nasty)
    f.call(acme, request_id="#N/A", finish_reason="#DIV/0!")
    out = tmp_path / "x.xlsx"
    export_write(job=_job(acme, alice), out_path=out)
    wb, sheets = _read(out)
    header, rows = _calls_rows(sheets)
    col = {h: i for i, h in enumerate(header)}
    row = next(r for r in rows if r[col["Request ID"]] == "=1+1")
    assert row[col["API key"]] == nasty["token_name"]
    assert row[col["Error"]] == nasty["error_text"]
    assert row[col["Finish message"]] == nasty["finish_message"]
    assert row[col["Reason"]] == nasty["reason"]
    row2 = next(r for r in rows if r[col["Request ID"]] == "#N/A")
    assert row2[col["Finish reason"]] == "#DIV/0!"
    # And no cell of the file holds a formula.
    import zipfile

    with zipfile.ZipFile(out) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                xml = z.read(name).decode()
                assert "<f>" not in xml and "<f " not in xml
                assert 't="e"' not in xml


def test_sheets_split_at_the_row_limit(acme, alice, tmp_path, settings):
    settings.NBAUDIT_EXPORT_MAX_ROWS = 3
    base = dt.datetime(2026, 10, 5, 8, 0, tzinfo=UTC8)
    calls = [f.call(acme, created_at=base + dt.timedelta(minutes=i)) for i in range(8)]
    out = tmp_path / "split.xlsx"
    result = export_write(job=_job(acme, alice), out_path=out, batch=5)
    assert result["sheets"] == ["Calls", "Calls (2)", "Calls (3)"]
    wb, sheets = _read(out)
    assert wb.sheet_names == ["Calls", "Calls (2)", "Calls (3)", "Summary"]
    assert [len(sheets[n]) - 1 for n in result["sheets"]] == [3, 3, 2]
    _, rows = _calls_rows(sheets)
    assert [r[1] for r in rows] == [c.request_id for c in calls]


def test_a_customer_user_never_exports_another_customer(acme, alice, tmp_path):
    other = f.customer("globex")
    f.call(other, request_id="theirs")
    f.call(acme, request_id="mine")
    # Even a job row naming the other customer (not creatable through the service) stays scoped.
    out = tmp_path / "scoped.xlsx"
    export_write(job=_job(other, alice), out_path=out)
    _, sheets = _read(out)
    _, rows = _calls_rows(sheets)
    assert [r[1] for r in rows] == []


def test_staff_export_of_every_customer(tmp_path):
    staff = f.user("root", staff=True)
    a, b = f.customer("acme"), f.customer("globex")
    f.call(a, request_id="a1")
    f.call(b, request_id="b1")
    out = tmp_path / "all.xlsx"
    export_write(job=_job(None, staff), out_path=out)
    _, sheets = _read(out)
    header, rows = _calls_rows(sheets)
    assert {(r[header.index("Customer")], r[1]) for r in rows} == {(a.display_name, "a1"), (b.display_name, "b1")}


def test_progress_reported_and_empty_range(acme, alice, tmp_path):
    seen = []
    out = tmp_path / "empty.xlsx"
    result = export_write(job=_job(acme, alice), out_path=out, progress=lambda d, t: seen.append((d, t)))
    assert result["rows"] == 0
    assert seen[0] == (0, 0) and seen[-1] == (0, 0)
    _, sheets = _read(out)
    header, rows = _calls_rows(sheets)
    assert header == export_headers() and rows == []


def test_no_partial_file_when_writing_fails(acme, alice, tmp_path):
    for _ in range(5):
        f.call(acme)
    out = tmp_path / "fail" / "x.xlsx"

    def boom(done, total):
        if done:
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        export_write(job=_job(acme, alice), out_path=out, progress=boom, progress_seconds=0)
    assert list((tmp_path / "fail").iterdir()) == []
