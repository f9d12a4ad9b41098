"""`manage.py export`: the same export, synchronously, from the command line."""
import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from python_calamine import CalamineWorkbook

from tests import factories as f

pytestmark = pytest.mark.django_db


def _ids(path):
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Calls").to_python()
    return {r[rows[0].index("Request ID")] for r in rows[1:]}


def test_month_export(tmp_path, capsys):
    acme = f.customer("acme")
    f.call(acme, request_id="oct-first", created_at=dt.datetime(2026, 10, 1, 0, 0, tzinfo=f.UTC8))
    f.call(acme, request_id="oct-last", created_at=dt.datetime(2026, 10, 31, 23, 59, 59, tzinfo=f.UTC8))
    f.call(acme, request_id="nov", created_at=dt.datetime(2026, 11, 1, 0, 0, tzinfo=f.UTC8))
    f.call(f.customer("globex"), request_id="theirs", created_at=dt.datetime(2026, 10, 5, tzinfo=f.UTC8))
    out = tmp_path / "oct.xlsx"
    call_command("export", "--customer", "acme", "--month", "2026-10", "--out", str(out))
    printed = capsys.readouterr().out
    assert printed.startswith("2 rows") and str(out) in printed
    assert _ids(out) == {"oct-first", "oct-last"}


def test_days_and_filters(tmp_path, capsys):
    acme = f.customer("acme")
    day = dt.datetime(2026, 10, 3, 10, 0, tzinfo=f.UTC8)
    f.call(acme, request_id="ok", created_at=day)
    f.call(acme, request_id="429", created_at=day, category="rate_limited", http_status=429)
    f.call(acme, request_id="nb2-429", created_at=day, category="rate_limited", http_status=429,
           model="gemini-3.1-flash-image-preview")
    out = tmp_path / "x.xlsx"
    call_command("export", "--customer", "acme", "--from", "2026-10-03", "--to", "2026-10-03",
                 "--category", "rate_limited", "--model", "pro", "--out", str(out))
    assert capsys.readouterr().out.startswith("1 rows")
    assert _ids(out) == {"429"}


@pytest.mark.parametrize("args, message", [
    (["--customer", "nobody", "--month", "2026-10"], "no customer"),
    (["--customer", "acme", "--month", "2026-13"], "not a month"),
    (["--customer", "acme", "--from", "2026-10-01"], "give --month"),
    (["--customer", "acme", "--from", "2026-10-05", "--to", "2026-10-01"], "after"),
    (["--customer", "acme", "--month", "2026-10", "--category", "nonsense"], "unknown category"),
])
def test_bad_arguments_say_why(tmp_path, args, message):
    f.customer("acme")
    with pytest.raises(CommandError, match=message):
        call_command("export", *args, "--out", str(tmp_path / "x.xlsx"))
    assert not (tmp_path / "x.xlsx").exists()
