"""`manage.py rollups --check / --rebuild`: what differs, in words; exit status 1 on --check."""
import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from logs.models import HourlyRollup
from logs.services.rollups import rollups_rebuild
from tests import factories

pytestmark = pytest.mark.django_db
UTC = dt.timezone.utc


def _run(*args):
    out = StringIO()
    call_command("rollups", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def drifted():
    acme, globex = factories.customer("acme"), factories.customer("globex")
    day = dt.datetime(2026, 10, 3, 2, 0, tzinfo=UTC)  # 10:00 in Beijing, 3 October
    for i in range(6):
        factories.call(acme, created_at=day + dt.timedelta(hours=i))
        factories.call(globex, created_at=day + dt.timedelta(hours=i))
    factories.call(acme, created_at=day + dt.timedelta(days=3))  # 6 October
    rollups_rebuild()
    # acme: one hour's row doubled, as two refreshes at once left it
    row = HourlyRollup.objects.filter(customer=acme, hour=day).get()
    row.pk = None
    row.save()
    return acme, globex


def test_check_reports_and_fails(drifted):
    with pytest.raises(CommandError) as err:
        _run("--check")
    assert err.value.returncode == 1
    assert "acme" in str(err.value) and "globex" not in str(err.value) and "--rebuild" in str(err.value)
    assert HourlyRollup.objects.filter(customer__slug="acme").count() == 8  # nothing changed


def test_check_prints_what_differs(drifted, capsys):
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("rollups", "--check", stdout=out)
    text = out.getvalue()
    assert "acme: 1 rollup rows in 1 hours differ from the calls; rollups count 8 calls, the calls table 7" in text
    assert "2026-10-03 02:00 UTC pro gemini-3-pro-image-preview key=prod-web size=1K success: " \
           "calls 2 in rollups, 1 in calls" in text
    assert "globex: rollups equal the calls (6 calls)" in text


def test_rebuild_repairs_then_check_passes(drifted):
    text = _run("--rebuild", "--customer", "acme")
    assert "acme: recomputed those 1 hours from the calls" in text and "globex" not in text
    assert "acme: rollups equal the calls (7 calls)" in _run("--check")


def test_range_and_customer_narrow_the_check(drifted):
    assert "acme: rollups equal the calls (1 calls)" in _run("--check", "--customer", "acme",
                                                             "--from", "2026-10-04", "--to", "2026-10-06")
    with pytest.raises(CommandError):
        _run("--check", "--customer", "acme", "--from", "2026-10-03", "--to", "2026-10-03")


@pytest.mark.parametrize("args, message", [
    (["--check", "--customer", "nobody"], "no customer with slug 'nobody'"),
    (["--check", "--from", "2026-10-09", "--to", "2026-10-01"], "--from 2026-10-09 is after --to 2026-10-01"),
    (["--check", "--from", "3 Oct"], "YYYY-MM-DD"),
])
def test_bad_arguments_say_why(drifted, args, message):
    with pytest.raises(CommandError, match=message):
        _run(*args)
