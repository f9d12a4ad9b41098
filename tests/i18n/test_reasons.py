"""Stored reasons and tally step details, shown in either language from their parts."""
from __future__ import annotations

import re

import pytest
from django.utils import translation

from billing.texts import detail_text
from logs.classify.reasons import reason_parts, reason_text
from logs.models import Call
from logs.services.ingest import calls_ingest
from tests import factories as f

pytestmark = pytest.mark.django_db
# A technical signal, the same in every language: a field and its value, or an HTTP status.
SIGNAL = re.compile(r"^(upstream )?([\w.]+=\S+|HTTP \d{3}( [A-Z_]+)?|ErrorInfo reason=\w+)$")
SOURCES = ["calls.ndjson", "calls_more_shapes.ndjson", "gateway_export_zh.csv", "gateway_export_en.xlsx",
           "recon_platform_zh.csv"]


@pytest.fixture
def reasons(fixtures_dir) -> set[str]:
    acme = f.customer("acme")
    for name in SOURCES:
        calls_ingest(source=fixtures_dir / name, customer=acme)
    found = set(Call.objects.values_list("reason", flat=True))
    assert len(found) > 15
    return found


def test_every_reason_the_classifier_stores_is_read_back(reasons):
    unread = [r for r in reasons if reason_parts(r) is None and not SIGNAL.match(r)]
    assert unread == []


def test_reasons_in_chinese_keep_their_signals(reasons):
    with translation.override("zh-hans"):
        shown = {r: reason_text(r) for r in reasons}
    for reason, text in shown.items():
        if reason_parts(reason) is not None:
            assert text != reason and re.search(r"[\u4e00-\u9fff]", text), reason
            for number in re.findall(r"\d+", reason):  # the values are kept
                assert number in text, (reason, text)
        else:
            assert text == reason  # finishReason=IMAGE_SAFETY and the like, as they are
    assert reason_text("output tokens 173 < 1000") == "output tokens 173 < 1000"  # English: as stored


def test_a_reason_text_is_rendered_with_its_own_words():
    with translation.override("zh-hans"):
        assert reason_text("output tokens 173 < 1000") == "输出 token 173 < 1000"
        assert reason_text("client error: connection reset") == "客户端错误：connection reset"
        assert reason_text("upstream HTTP 429 RESOURCE_EXHAUSTED") == "上游 HTTP 429 RESOURCE_EXHAUSTED"
        assert reason_text("something new") == "something new"


def test_tally_step_details_in_chinese():
    computed = "spend 1.22, covered 0, excluded 0, counted 0, gross 0.000000, factor 1.0000; not eligible: " \
               "spend_below_threshold"
    with translation.override("zh-hans"):
        assert detail_text(computed) == ("消费 1.22，覆盖 0，排除 0，计入 0，总额 0.000000，折算系数 1.0000；"
                                         "不符合资格：消费未达门槛")
        assert detail_text("approved: 核对无误") == "已审批：核对无误"
        assert detail_text("reference TOPUP-7") == "凭证号 TOPUP-7"
        assert detail_text("a note typed by staff") == "a note typed by staff"
    assert detail_text(computed).endswith("not eligible: Spend below the threshold")
