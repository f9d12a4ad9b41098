"""Credentials: stored encrypted or named in the environment, never shown whole, never logged."""
import logging

import pytest

from gateways.models import GatewaySource
from gateways.secrets import dsn_masked, scrub, token_masked
from gateways.services.sync import source_save, source_sync
from tests.gateways import logstore as L

pytestmark = pytest.mark.django_db


def test_a_stored_dsn_is_encrypted_and_shown_masked():
    source, _ = source_save(name="pg", dsn="postgres://reader:hunter2-pw@db.example:5432/newapi")
    raw = GatewaySource.objects.values_list("dsn", flat=True).get(pk=source.pk)
    assert raw.startswith("enc:") and "hunter2-pw" not in raw
    assert source.connection_shown == "postgres://reader:****@db.example:5432/newapi"


def test_a_token_from_the_environment_is_never_stored(monkeypatch):
    monkeypatch.setenv("GW_TOKEN", "sk-from-env-abcdef123456")
    source, _ = source_save(name="api", base_url="https://gw.example", token="env:GW_TOKEN", user_id=1)
    assert GatewaySource.objects.values_list("token", flat=True).get(pk=source.pk) == "env:GW_TOKEN"
    assert "from $GW_TOKEN" in source.connection_shown


def test_a_dsn_from_the_environment_is_read_when_syncing(monkeypatch, sqlite_store):
    sqlite_store.create().insert([L.consume(1)])
    monkeypatch.setenv("GW_DSN", sqlite_store.dsn)
    source, _ = source_save(name="envdb", dsn="env:GW_DSN")
    assert source_sync(source=source).batch.inserted == 1
    monkeypatch.delenv("GW_DSN")
    sync = source_sync(source=source)
    assert sync.error == "the environment variable GW_DSN is not set"


def test_failures_never_log_or_show_the_password(caplog):
    source, _ = source_save(name="down", dsn="mysql://reader:s3cret-pw@127.0.0.1:1/newapi")
    with caplog.at_level(logging.DEBUG):
        sync = source_sync(source=source)
    assert sync.error == "connection refused at 127.0.0.1:1"
    assert "s3cret-pw" not in caplog.text


def test_masks():
    assert token_masked("sk-abcdefghijklmnop") == "****mnop"
    assert token_masked("short") == "****"
    assert dsn_masked("mysql://root@127.0.0.1:3306/x") == "mysql://root@127.0.0.1:3306/x"
    assert scrub("failed for mysql://u:pw@h/x with sk-abcdef", "sk-abcdef") == "failed for mysql://u:****@h/x with ****"
