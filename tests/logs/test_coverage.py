"""coverage_of: does a call count for the reimbursement plan, and why (billing.md rule 1)."""
from types import SimpleNamespace

import pytest

from logs.choices import FAILED_GENERATION, REQUEST_ERROR, Category
from logs.coverage import coverage_of


def call(**kw):
    base = dict(category="no_image", family="pro", model="gemini-3-pro-image-preview",
                billing_mode="per_request", http_status=200)
    base.update(kw)
    return SimpleNamespace(**base)


@pytest.mark.parametrize("category", FAILED_GENERATION)
def test_covered_failed_generations(category):
    covered, why = coverage_of(call(category=category))
    assert covered and why.startswith("Covered") and "HTTP 200" in why


@pytest.mark.parametrize("category", REQUEST_ERROR)
def test_request_errors_not_covered(category):
    covered, why = coverage_of(call(category=category, http_status=503))
    assert not covered and "request error" in why


@pytest.mark.parametrize("kw,word", [
    ({"category": Category.SUCCESS}, "delivered"),
    ({"family": "nb2", "model": "gemini-3.1-flash-image"}, "Nano Banana 2"),
    ({"family": "", "model": "mystery-image"}, "mystery-image"),
    ({"billing_mode": "per_token"}, "per token"),
    ({"billing_mode": ""}, "billing mode is unknown"),
    ({"category": Category.PROMPT_BLOCKED, "http_status": 400}, "HTTP 400"),
])
def test_not_covered_says_why(kw, word):
    covered, why = coverage_of(call(**kw))
    assert not covered and word in why and why.startswith("Not covered")


def test_status_missing_reads_as_200():
    assert coverage_of(call(http_status=None))[0] is True
