"""The operator commands of logs: arguments read as the rest of the app reads them."""
from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from logs.models import Customer

pytestmark = pytest.mark.django_db


def test_ingest_creates_an_unknown_customer_and_says_so(fixtures_dir, capsys):
    call_command("ingest", str(fixtures_dir / "calls.ndjson"), "--customer", "newco", "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["customers_created"][0] == "newco"
    assert Customer.objects.get(slug="newco").name == "newco"
    call_command("ingest", str(fixtures_dir / "calls.ndjson"), "--customer", "newco", "--json")
    assert "newco" not in json.loads(capsys.readouterr().out)["customers_created"]


def test_ingest_refuses_a_blank_customer(fixtures_dir):
    with pytest.raises(CommandError, match="--customer: a customer needs a slug"):
        call_command("ingest", str(fixtures_dir / "calls.ndjson"), "--customer", " ")
    assert not Customer.objects.exists()


@pytest.mark.parametrize("argv, message", [
    (["customer", "acme", "--enroll-from", "2026-13-01"], "--enroll-from: not a day (YYYY-MM-DD): '2026-13-01'"),
    (["export", "--customer", "acme", "--from", "10/03/2026", "--to", "2026-10-03", "--out", "x.xlsx"],
     "not a day (YYYY-MM-DD): '10/03/2026'"),
    (["export", "--customer", "acme", "--month", "2026-1x", "--out", "x.xlsx"], "not a month (YYYY-MM): '2026-1x'"),
    (["reconcile", "local.csv", "--customer", "acme", "--from", "yesterday"], "not a day (YYYY-MM-DD): 'yesterday'"),
    (["tally", "June"], "not a month (YYYY-MM): 'June'"),
])
def test_bad_days_and_months_name_the_text(argv, message, tmp_path):
    Customer.objects.create(slug="acme")
    (tmp_path / "local.csv").write_text("request_id,created_at\n")
    argv = [str(tmp_path / a) if a == "local.csv" else a for a in argv]
    with pytest.raises(CommandError) as err:
        call_command(*argv)
    assert str(err.value) == message
