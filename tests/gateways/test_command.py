"""manage.py gateway: add (db or http), sync (--json), list."""
import pytest
from django.core.management import call_command

from tests.gateways import logstore as L

pytestmark = pytest.mark.django_db


def test_gateway_command_add_sync_json_list(sqlite_store, capsys):
    import json

    sqlite_store.create().insert(L.mixed())
    call_command("gateway", "add", "shop", "--db", sqlite_store.dsn, "--quota-per-unit", "500000")
    capsys.readouterr()
    call_command("gateway", "sync", "shop", "--json")
    out = json.loads(capsys.readouterr().out)
    for key in ("rows", "inserted", "duplicates", "conflicts", "skipped", "rejected", "categories",
                "high_water", "lag_seconds"):
        assert key in out
    assert out["inserted"] == 9 and out["high_water"] == 12
    assert out["lag_seconds"] >= 0
    call_command("gateway", "list")
    listed = capsys.readouterr().out
    assert "shop" in listed and "high water 12" in listed


def test_gateway_command_refusals_in_words(capsys):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--url needs --token and --user-id"):
        call_command("gateway", "add", "x", "--url", "https://gw.example")
    with pytest.raises(CommandError, match="unknown database kind 'oracle'"):
        call_command("gateway", "add", "x", "--db", "oracle://u@h/db")
    with pytest.raises(CommandError, match="no gateway source 'nope'"):
        call_command("gateway", "sync", "nope")
    call_command("gateway", "add", "down", "--db", "postgres://u:pw@127.0.0.1:1/x")
    with pytest.raises(CommandError, match="down: sync failed: connection refused at 127.0.0.1:1"):
        call_command("gateway", "sync", "down")
    call_command("gateway", "add", "api", "--url", "https://gw.example/", "--token", "sk-0123456789abcdef",
                 "--user-id", "1")
    out = capsys.readouterr().out
    assert "created api (http): https://gw.example (user 1, token ****cdef)" in out
    assert "sk-0123456789abcdef" not in out
