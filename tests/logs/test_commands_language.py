"""The commands' human output is in the environment's language: NBAUDIT_LANG (en | zh-hans), else
the POSIX locale (LC_ALL, LC_MESSAGES, LANG: zh_* gives Chinese), else English. --json is not
translated, and neither are codes."""
from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import translation

from logs.management.output import command_language
from tests.billing.tallies.helpers import enrolled

pytestmark = pytest.mark.django_db

LOCALE_VARS = ("NBAUDIT_LANG", "LC_ALL", "LC_MESSAGES", "LANG")


@pytest.fixture
def env(monkeypatch):
    """No language in the environment (whatever the shell running the tests says)."""
    for var in LOCALE_VARS:
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


@pytest.mark.parametrize("environ, expected", [
    ({}, "en"),
    ({"NBAUDIT_LANG": "zh-hans"}, "zh-hans"),
    ({"NBAUDIT_LANG": "en", "LANG": "zh_CN.UTF-8"}, "en"),  # NBAUDIT_LANG first
    ({"NBAUDIT_LANG": "klingon", "LANG": "zh_CN.UTF-8"}, "zh-hans"),  # not a language: the locale decides
    ({"LANG": "zh_CN.UTF-8"}, "zh-hans"),
    ({"LANG": "zh_TW.UTF-8"}, "zh-hans"),
    ({"LC_ALL": "C.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),  # POSIX: LC_ALL wins
    ({"LC_MESSAGES": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh-hans"),
    ({"LANG": "de_DE.UTF-8"}, "en"),
])
def test_the_language_is_the_environments(environ, expected):
    assert command_language(environ) == expected


def _ingest(fixtures_dir, capsys, *args) -> str:
    call_command("ingest", str(fixtures_dir / "calls.ndjson"), "--customer", "acme", *args)
    return capsys.readouterr().out


def test_ingest_speaks_english_without_a_language(env, fixtures_dir, capsys):
    out = _ingest(fixtures_dir, capsys)
    first = out.splitlines()[0]
    assert " rows: " in first and " inserted, " in first and " skipped (not calls), " in first
    assert "customers created: acme" in out


def test_ingest_speaks_chinese_with_nbaudit_lang(env, fixtures_dir, capsys):
    env.setenv("NBAUDIT_LANG", "zh-hans")
    out = _ingest(fixtures_dir, capsys)
    first = out.splitlines()[0]
    assert "行：新增" in first and "跳过" in first and "inserted" not in first
    assert "新建客户：acme" in out
    # the language of the command only: the process keeps its own
    assert translation.get_language() != "zh-hans"


def test_ingest_speaks_chinese_with_a_chinese_locale(env, fixtures_dir, capsys):
    env.setenv("LANG", "zh_CN.UTF-8")
    assert "行：新增" in _ingest(fixtures_dir, capsys)


def test_json_is_not_translated(env, fixtures_dir, capsys):
    env.setenv("NBAUDIT_LANG", "zh-hans")
    summary = json.loads(_ingest(fixtures_dir, capsys, "--json"))
    assert {"rows", "inserted", "duplicates", "rejected"} <= set(summary)


def _tally(*args) -> str:
    out = StringIO()
    call_command("tally", "2026-06", *args, stdout=out)
    return out.getvalue()


def test_tally_in_either_language(env):
    enrolled("acme")
    english = _tally()
    assert english.split()[:3] == ["customer", "month", "eligible"] and "spend_below_threshold" in english
    env.setenv("NBAUDIT_LANG", "zh-hans")
    chinese = _tally()
    head = chinese.splitlines()[0]
    assert head.split()[:3] == ["客户", "月份", "符合资格"] and "customer" not in head
    assert "spend_below_threshold" in chinese and "acme" in chinese  # codes and data stay as they are
    assert json.loads(_tally("--json"))[0]["reason"] == "spend_below_threshold"


def test_an_empty_tally_month_in_chinese(env):
    env.setenv("NBAUDIT_LANG", "zh-hans")
    assert "2026-06 没有加入补偿计划的客户。" in _tally()
    env.setenv("NBAUDIT_LANG", "en")
    assert "No customer is enrolled for 2026-06." in _tally()
