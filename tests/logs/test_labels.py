"""One label source per kind of code (logs.labels): what pages, tables and exports show a person."""
import pytest
from django.template import Context, Template

from logs.labels import LABEL_KINDS, label, labels, model_label


@pytest.mark.parametrize("kind, code, shown", [
    ("category", "empty_output", "Empty output"),
    ("family", "pro", "Nano Banana Pro"),
    ("billing_mode", "per_request", "Per request"),
    ("ineligible_reason", "spend_below_threshold", "Spend below the threshold"),  # billing's, registered
    ("recon_category", "amount_mismatch", "Amount mismatch"),
    ("tally_status", "draft", "Draft"),
])
def test_a_code_reads_as_its_label(kind, code, shown):
    assert label(kind, code) == shown
    assert Template('{% load labels %}{{ c|label:k }}').render(Context({"c": code, "k": kind})) == shown


def test_an_unknown_code_is_shown_as_it_is_and_empty_stays_empty():
    assert label("category", "brand_new") == "brand_new"
    assert label("family", "") == "" and label("family", None) == ""


def test_an_unknown_kind_is_an_error_not_a_silent_code():
    with pytest.raises(KeyError):
        label("no-such-kind", "x")


def test_a_model_filter_value_names_the_family_or_keeps_the_model_id():
    assert model_label("pro") == "Nano Banana Pro"
    assert model_label("gemini-3-pro-image-preview") == "gemini-3-pro-image-preview"


def test_every_code_of_every_kind_has_words_of_its_own():
    for kind in LABEL_KINDS:
        for code, text in labels(kind).items():
            assert text and text != code, (kind, code)
