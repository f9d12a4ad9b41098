"""A Chinese export: the gateway console's column names, read back by nbaudit's own import."""
from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import translation
from django.utils.translation import gettext
from python_calamine import CalamineWorkbook

from logs.labels import label
from logs.models import Call
from logs.services.exports import export_headers
from logs.services.ingest import calls_ingest
from tests import factories as f

pytestmark = pytest.mark.django_db

# formats.md, section B: the gateway's own Chinese headers an export of calls must carry.
GATEWAY_HEADERS = ["时间", "请求ID", "用户", "令牌", "类型", "模型", "提示", "补全", "花费", "详情"]


def _ingest(path, **kw) -> dict:
    out = StringIO()
    call_command("ingest", str(path), "--json", stdout=out, **kw)
    return json.loads(out.getvalue())


@pytest.fixture
def acme_calls(fixtures_dir):
    acme = f.customer("acme")
    calls_ingest(source=fixtures_dir / "calls.ndjson", customer=acme)
    calls_ingest(source=fixtures_dir / "gateway_export_zh.csv", customer=acme)
    return acme


def _export(tmp_path, *, lang=None) -> tuple[object, dict]:
    calls = Call.objects.filter(customer__slug="acme")
    first = min(c.created_at for c in calls).astimezone(f.UTC8).date()
    last = max(c.created_at for c in calls).astimezone(f.UTC8).date()
    out = tmp_path / f"export-{lang or 'default'}.xlsx"
    args = ["--customer", "acme", "--from", first.isoformat(), "--to", last.isoformat(), "--out", str(out)]
    call_command("export", *args, *(["--lang", lang] if lang else []), stdout=StringIO())
    wb = CalamineWorkbook.from_path(str(out))
    return out, {name: wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names}


def test_chinese_export_has_the_gateway_headers_and_a_chinese_summary(acme_calls, tmp_path):
    _, sheets = _export(tmp_path, lang="zh-hans")
    assert list(sheets) == ["调用", "汇总"]
    header = sheets["调用"][0]
    assert header == export_headers(language="zh-hans")
    for name in GATEWAY_HEADERS:
        assert name in header, name
    rows = sheets["调用"][1:]
    assert len(rows) == Call.objects.filter(customer__slug="acme").count()
    types = {r[header.index("类型")] for r in rows}
    assert types <= {"消费", "错误"} and "错误" in types
    labels = [r[0] for r in sheets["汇总"] if r and r[0]]
    assert "客户" in labels and "首日" in labels and "全部调用" in labels
    # reasons and categories are shown in Chinese, and the category code column keeps the codes
    assert any("输出 token" in str(r[header.index("原因")]) for r in rows)
    codes = {c.category for c in Call.objects.all()}
    with translation.override("zh-hans"):
        code_header = gettext("Category code")
        chinese_labels = {label("category", c) for c in codes}
    assert code_header != "Category code"  # translated too
    assert {r[header.index(code_header)] for r in rows} == codes
    assert {r[header.index("类别")] for r in rows} == chinese_labels


def test_english_stays_the_default(acme_calls, tmp_path):
    _, sheets = _export(tmp_path)
    assert list(sheets) == ["Calls", "Summary"]
    assert sheets["Calls"][0] == export_headers(language="en")
    assert sheets["Calls"][0][0] == "Time (Asia/Shanghai)"


def test_a_chinese_export_ingested_again_is_a_duplicate_of_every_call(acme_calls, tmp_path):
    before = Call.objects.count()
    out, sheets = _export(tmp_path, lang="zh-hans")
    summary = _ingest(out)
    n = len(sheets["调用"]) - 1
    assert summary["rows"] == n and summary["duplicates"] == n
    assert summary["inserted"] == 0 and summary["conflicts"] == 0 and not summary["rejected"]
    assert Call.objects.count() == before
