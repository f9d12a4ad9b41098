"""Tests of logs.classify: the rules of taxonomy.md (the domain spec).

Table-driven: the fixtures first (every envelope of calls.ndjson, the rows of the
Chinese gateway export, the local reconciliation log), then cases of our own for each
rule and each response shape, then property tests on arbitrary JSON.
"""
from __future__ import annotations

import csv
import json

import pytest
from hypothesis import HealthCheck, given, settings as hyp_settings, strategies as st

from logs.choices import Category
from logs.classify import (
    Facts,
    Verdict,
    category_for_status,
    classify_call,
    classify_error_text,
    classify_export_row,
    classify_local_row,
    read_response,
)
from tests import FIXTURES

CATEGORIES = {str(choice.value) for choice in Category}
PRO = "gemini-3-pro-image-preview"
NB2 = "gemini-3.1-flash-image"
TEXT_MODEL = "gemini-2.5-flash"
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
NO_CHARGE_MESSAGE = (
    "Unable to show the generated image. The model could not generate the image based on "
    "the prompt provided. You will not be charged for this request. Try rephrasing the prompt."
)


# ---------------------------------------------------------------------------
# Builders of responses
# ---------------------------------------------------------------------------

def image(mime="image/png", thought=None, snake=False):
    if snake:
        part = {"inline_data": {"mime_type": mime, "data": PNG}}
    else:
        part = {"inlineData": {"mimeType": mime, "data": PNG}}
    if thought is not None:
        part["thought"] = thought
    return part


def text(words, thought=None):
    part = {"text": words}
    if thought is not None:
        part["thought"] = thought
    return part


def candidate(parts=None, finish="STOP", message=None, index=0):
    cand = {"index": index}
    if parts is not None:
        cand["content"] = {"parts": parts, "role": "model"}
    if finish is not None:
        cand["finishReason"] = finish
    if message is not None:
        cand["finishMessage"] = message
    return cand


def gemini(parts=None, finish="STOP", message=None, block=None, usage=None):
    response = {"candidates": [candidate(parts, finish, message)]}
    if block is not None:
        response["promptFeedback"] = {"blockReason": block}
    if usage is not None:
        response["usageMetadata"] = usage
    return response


def chat(content=None, finish="stop", images=None, usage=None):
    message = {"role": "assistant", "content": content}
    if images is not None:
        message["images"] = images
    response = {
        "object": "chat.completion",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
    }
    if usage is not None:
        response["usage"] = usage
    return response


def error_body(code=None, status=None, message=None, **extra):
    error = {key: value for key, value in
             (("code", code), ("status", status), ("message", message)) if value is not None}
    error.update(extra)
    return {"error": error}


# ---------------------------------------------------------------------------
# Fixtures: calls.ndjson, gateway_export_zh.csv, recon_local.csv
# ---------------------------------------------------------------------------

def _envelopes(name="calls.ndjson"):
    with open(FIXTURES / name, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                envelope = json.loads(line)
                yield pytest.param(envelope, id=envelope["request_id"])


# calls_more_shapes.ndjson: the shapes of taxonomy.md, "More real shapes".
@pytest.mark.parametrize("envelope", list(_envelopes()) + list(_envelopes("calls_more_shapes.ndjson")))
def test_fixture_envelope(envelope):
    verdict, facts = classify_call(
        model=envelope["model"],
        http_status=envelope.get("http_status"),
        response=envelope.get("response"),
        client_error=envelope.get("error"),
    )
    assert verdict.category == envelope["expected_category"], verdict.reason
    assert facts.drafts == envelope.get("expected_drafts", 0)
    assert verdict.reason


LOG_TYPES = {"消费": "consume", "错误": "error"}
BAD_LINES = {16, 17}


def _export_rows():
    expected = json.loads((FIXTURES / "expected.json").read_text())["gateway_export_zh.csv"]["by_request_id"]
    with open(FIXTURES / "gateway_export_zh.csv", encoding="utf-8-sig", newline="") as handle:
        for line_number, row in enumerate(csv.DictReader(handle), start=2):
            kind = LOG_TYPES.get(row["类型"].strip())
            if kind is None or line_number in BAD_LINES:
                continue
            tokens = row["补全"].strip()
            yield pytest.param(
                kind, row["模型"], int(tokens) if tokens else None, row["详情"],
                expected[row["请求ID"]], id=f"line{line_number}-{row['请求ID']}",
            )


@pytest.mark.parametrize("log_type,model,output_tokens,details,expected", list(_export_rows()))
def test_fixture_gateway_export(log_type, model, output_tokens, details, expected):
    verdict = classify_export_row(log_type=log_type, model=model, output_tokens=output_tokens,
                                  details=details)
    assert verdict.category == expected, verdict.reason


def test_fixture_gateway_export_covers_every_call_row():
    assert len(list(_export_rows())) == 14  # 18 rows - 2 non-call rows - 2 bad rows


LOCAL_EXPECTED = {
    "rc-01": "success", "rc-02": "text_refusal", "rc-03": "overloaded", "rc-05": "success",
    "rc-06": "rate_limited", "rc-07": "no_charge", "rc-08": "success", "rc-09": "success",
}


def _local_rows():
    with open(FIXTURES / "recon_local.csv", encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            yield pytest.param(row, id=row["request_id"])


def _int_or_none(value):
    return int(value) if value.strip() else None


@pytest.mark.parametrize("row", list(_local_rows()))
def test_fixture_local_row(row):
    verdict = classify_local_row(
        model=row["model"],
        http_status=_int_or_none(row["http_status"]),
        finish_reason=row["finish_reason"],
        block_reason=row["block_reason"],
        finish_message=row["finish_message"],
        output_tokens=_int_or_none(row["output_tokens"]),
        images=_int_or_none(row["images"]),
    )
    assert verdict.category == LOCAL_EXPECTED[row["request_id"]], verdict.reason


# ---------------------------------------------------------------------------
# Raw responses: one case per rule and shape
# ---------------------------------------------------------------------------

def stream_chunk(parts=None, finish=None, message=None, index=0, usage=None, block=None):
    chunk = {"candidates": [candidate(parts, finish, message, index)]}
    if usage is not None:
        chunk["usageMetadata"] = usage
    if block is not None:
        chunk["promptFeedback"] = {"blockReason": block}
    return chunk


def delta_chunk(content=None, finish=None, index=0):
    return {"object": "chat.completion.chunk",
            "choices": [{"index": index, "delta": {"content": content}, "finish_reason": finish}]}


SAFETY_REASONS = ["IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "SAFETY",
                  "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION"]
NO_IMAGE_REASONS = ["NO_IMAGE", "IMAGE_OTHER", "OTHER", "MAX_TOKENS", "LANGUAGE",
                    "MALFORMED_FUNCTION_CALL", "MISSING_THOUGHT_SIGNATURE",
                    "FINISH_REASON_UNSPECIFIED", "SOME_FUTURE_REASON"]

# (id, model, http_status, response, client_error, category, reason or None, drafts)
CALL_CASES = [
    # Rule 2: a delivered image.
    ("png-stop", PRO, 200, gemini([image()]), None, "success", "image delivered", 0),
    ("jpeg-no-finish", NB2, 200, gemini([image("image/jpeg")], finish=None), None, "success", None, 0),
    ("webp-uppercase-mime", PRO, 200, gemini([image("IMAGE/WEBP")]), None, "success", None, 0),
    ("image-whatever-finish", PRO, 200, gemini([image()], finish="IMAGE_SAFETY"), None, "success", None, 0),
    ("image-beats-block", PRO, 200, gemini([image()], block="SAFETY"), None, "success", None, 0),
    ("image-beats-no-charge", PRO, 200, gemini([image()], message=NO_CHARGE_MESSAGE), None, "success", None, 0),
    ("snake-case-inline-data", PRO, 200, gemini([image(snake=True)]), None, "success", None, 0),
    ("image-with-text", PRO, 200, gemini([text("Here it is"), image()]), None, "success", None, 0),
    ("pdf-is-not-image", PRO, 200, gemini([image("application/pdf")]), None, "empty_output", None, 0),
    ("inline-without-mime", PRO, 200, gemini([{"inlineData": {"data": PNG}}]), None, "empty_output", None, 0),
    ("three-unflagged-images", PRO, 200, gemini([image(), image(), image()]), None, "success", None, 2),
    # Thought parts.
    ("thought-image-and-final", PRO, 200,
     gemini([text("planning", thought=True), image(thought=True), image()]), None, "success", None, 1),
    ("two-thought-images-and-final", PRO, 200,
     gemini([image(thought=True), image(thought=True), image()]), None, "success", None, 2),
    ("thought-image-only", PRO, 200, gemini([image(thought=True)]), None, "empty_output", None, 1),
    ("thought-image-then-safety", PRO, 200,
     gemini([image(thought=True)], finish="IMAGE_SAFETY"), None, "image_blocked", None, 1),
    ("thought-image-then-no-charge", PRO, 200,
     gemini([image(thought=True)], finish="NO_IMAGE", message=NO_CHARGE_MESSAGE), None, "no_charge", None, 1),
    ("thought-text-only", PRO, 200, gemini([text("thinking", thought=True)]), None, "empty_output", None, 0),
    ("thought-text-and-answer", PRO, 200,
     gemini([text("thinking", thought=True), text("I can't help.")]), None, "text_refusal", None, 0),
    ("thought-flag-as-string", PRO, 200, gemini([image(thought="true")]), None, "empty_output", None, 1),
    ("thought-false-flags", PRO, 200,
     gemini([image(thought=False), image(thought=False)]), None, "success", None, 0),
    # Rule 3: prompt blocked.
    ("block-no-candidates", PRO, 200, {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}}, None,
     "prompt_blocked", "promptFeedback.blockReason=PROHIBITED_CONTENT", 0),
    ("block-empty-candidates", PRO, 200, {"candidates": [], "promptFeedback": {"blockReason": "OTHER"}},
     None, "prompt_blocked", None, 0),
    ("block-beats-no-charge", PRO, 200,
     gemini(None, "NO_IMAGE", NO_CHARGE_MESSAGE, block="SAFETY"), None, "prompt_blocked", None, 0),
    ("block-snake-case", PRO, 200, {"prompt_feedback": {"block_reason": "BLOCKLIST"}}, None,
     "prompt_blocked", None, 0),
    ("block-unspecified-empty", PRO, 200, {"promptFeedback": {"blockReason": "BLOCK_REASON_UNSPECIFIED"}},
     None, "empty_output", None, 0),
    ("block-unspecified-text", PRO, 200,
     gemini([text("No.")], block="BLOCK_REASON_UNSPECIFIED"), None, "text_refusal", None, 0),
    ("block-empty-string", PRO, 200, {"promptFeedback": {"blockReason": ""}}, None, "empty_output", None, 0),
    # Rule 4: no charge.
    ("no-charge-no-image", PRO, 200, gemini(None, "NO_IMAGE", NO_CHARGE_MESSAGE), None,
     "no_charge", "finishMessage: You will not be charged", 0),
    ("no-charge-any-case", NB2, 200, gemini(None, "IMAGE_OTHER", "you WILL NOT be CHARGED."), None,
     "no_charge", None, 0),
    ("no-charge-beats-safety", PRO, 200, gemini(None, "IMAGE_SAFETY", NO_CHARGE_MESSAGE), None,
     "no_charge", None, 0),
    ("no-charge-words-in-text-part", PRO, 200, gemini([text("You will not be charged for this request.")]),
     None, "text_refusal", None, 0),
    ("no-charge-words-in-error", PRO, 500,
     error_body(500, "INTERNAL", "Failed. You will not be charged for this request."), None,
     "server_error", None, 0),
    ("no-charge-words-in-text-error", PRO, None, "You will not be charged for this request.", None,
     "other_error", None, 0),
    ("finish-message-other-words", PRO, 200, gemini(None, "IMAGE_OTHER", "Try again later."), None,
     "no_image", None, 0),
    # Rule 5: image blocked.
    *[(f"blocked-{reason}", PRO, 200, gemini(None, reason), None, "image_blocked",
       f"finishReason={reason}", 0) for reason in SAFETY_REASONS],
    ("blocked-with-text", PRO, 200, gemini([text("I can't show that.")], "SAFETY"), None,
     "image_blocked", None, 0),
    ("blocked-second-candidate", PRO, 200,
     {"candidates": [candidate(None, "STOP", index=0), candidate(None, "IMAGE_SAFETY", index=1)]}, None,
     "image_blocked", None, 0),
    ("blocked-lowercase", PRO, 200, gemini(None, "image_safety"), None, "image_blocked", None, 0),
    ("openai-content-filter", PRO, 200, chat(None, "content_filter"), None,
     "image_blocked", "finish_reason=content_filter", 0),
    # Rule 6: no image.
    *[(f"no-image-{reason}", PRO, 200, gemini(None, reason), None, "no_image",
       f"finishReason={reason}", 0) for reason in NO_IMAGE_REASONS],
    ("max-tokens-with-text", PRO, 200, gemini([text("Let me describe...")], "MAX_TOKENS"), None,
     "no_image", None, 0),
    ("malformed-empty-content", PRO, 200,
     {"candidates": [{"content": {}, "finishReason": "MALFORMED_FUNCTION_CALL"}]}, None, "no_image", None, 0),
    ("openai-length-decides-nothing", PRO, 200, chat("A long answer", "length"), None,
     "text_refusal", None, 0),
    ("openai-tool-calls-decides-nothing", PRO, 200, chat(None, "tool_calls"), None, "empty_output", None, 0),
    # Rule 7: text refusal.
    ("text-stop", PRO, 200, gemini([text("I'm unable to help with this task.")]), None,
     "text_refusal", "text only, no image", 0),
    ("text-no-finish", PRO, 200, gemini([text("No.")], finish=None), None, "text_refusal", None, 0),
    ("openai-text", PRO, 200, chat("I can't help with that."), None, "text_refusal", None, 0),
    # taxonomy.md "More real shapes": a markdown image with an http(s) address is an image;
    # an address inside a sentence stays text.
    ("openai-http-markdown-image", PRO, 200, chat("![img](https://example.com/a.png)"), None,
     "success", "image URL in markdown", 0),
    ("openai-http-link-in-a-sentence-is-text", PRO, 200,
     chat("I can't draw that; the policy is at https://example.com/policy.html for reference."), None,
     "text_refusal", None, 0),
    ("openai-content-list-text", PRO, 200, chat([{"type": "text", "text": "Sorry."}]), None,
     "text_refusal", None, 0),
    # Rule 8: empty output, every content shape.
    ("content-empty-dict", PRO, 200, {"candidates": [{"content": {}, "finishReason": "STOP"}]}, None,
     "empty_output", "no image, no text", 0),
    ("content-role-only", PRO, 200, {"candidates": [{"content": {"role": "model"}, "finishReason": "STOP"}]},
     None, "empty_output", None, 0),
    ("content-parts-null", PRO, 200, {"candidates": [{"content": {"parts": None}, "finishReason": "STOP"}]},
     None, "empty_output", None, 0),
    ("content-parts-empty", PRO, 200, {"candidates": [{"content": {"parts": []}, "finishReason": "STOP"}]},
     None, "empty_output", None, 0),
    ("content-absent", PRO, 200, {"candidates": [{"finishReason": "STOP"}]}, None, "empty_output", None, 0),
    ("content-absent-no-finish", PRO, 200, {"candidates": [{}]}, None, "empty_output", None, 0),
    ("whitespace-text", PRO, 200, gemini([text("  \n")]), None, "empty_output", None, 0),
    ("empty-text-part", PRO, 200, gemini([text("")]), None, "empty_output", None, 0),
    ("candidates-empty", PRO, 200, {"candidates": []}, None, "empty_output", None, 0),
    ("empty-object", PRO, 200, {}, None, "empty_output", None, 0),
    ("empty-array", PRO, 200, [], None, "empty_output", None, 0),
    ("openai-content-null", PRO, 200, chat(None), None, "empty_output", None, 0),
    ("openai-content-empty", PRO, 200, chat(""), None, "empty_output", None, 0),
    # OpenAI-compatible images.
    ("openai-markdown-image", PRO, 200, chat(f"![image](data:image/png;base64,{PNG})"), None,
     "success", "image delivered", 0),
    ("openai-markdown-image-in-text", PRO, 200,
     chat(f"Here you go:\n\n![img](data:image/jpeg;base64,{PNG})\n\nEnjoy"), None, "success", None, 0),
    ("openai-two-markdown-images", PRO, 200,
     chat(f"![a](data:image/png;base64,{PNG}) ![b](data:image/png;base64,{PNG})"), None, "success", None, 1),
    ("openai-bare-data-url", PRO, 200, chat(f"data:image/webp;base64,{PNG}"), None, "success", None, 0),
    ("openai-content-list-image-url", PRO, 200,
     chat([{"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}]), None,
     "success", None, 0),
    ("openai-message-images", PRO, 200,
     chat("", images=[{"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}]), None,
     "success", None, 0),
    ("openai-message-images-two", PRO, 200,
     chat(None, images=[{"image_url": {"url": "https://x/a.png"}}, {"image_url": {"url": "https://x/b.png"}}]),
     None, "success", None, 1),
    ("openai-image-beats-content-filter", PRO, 200,
     chat(f"![i](data:image/png;base64,{PNG})", "content_filter"), None, "success", None, 0),
    # Streamed arrays.
    ("stream-image-then-empty-stop", PRO, 200,
     [stream_chunk([image("image/jpeg")]), stream_chunk([text("")], "STOP")], None, "success", None, 0),
    ("stream-thought-image-then-final", PRO, 200,
     [stream_chunk([text("plan", thought=True)]), stream_chunk([image(thought=True)]),
      stream_chunk([image()]), stream_chunk([text("")], "STOP")], None, "success", None, 1),
    ("stream-unflagged-images-across-chunks", PRO, 200,
     [stream_chunk([image()]), stream_chunk([image()], "STOP")], None, "success", None, 1),
    ("stream-text-then-safety", PRO, 200,
     [stream_chunk([text("Sure, ")]), stream_chunk([text("drawing")]), stream_chunk(None, "IMAGE_SAFETY")],
     None, "image_blocked", None, 0),
    ("stream-text-then-stop", PRO, 200,
     [stream_chunk([text("I can't ")]), stream_chunk([text("help.")], "STOP")], None, "text_refusal", None, 0),
    ("stream-block-in-first-chunk", PRO, 200,
     [stream_chunk(None, block="PROHIBITED_CONTENT"), stream_chunk(None, "STOP")], None,
     "prompt_blocked", None, 0),
    ("stream-block-not-undone", PRO, 200,
     [stream_chunk(None, block="OTHER"), stream_chunk(None, block="BLOCK_REASON_UNSPECIFIED")], None,
     "prompt_blocked", None, 0),
    ("stream-finish-message-holds", NB2, 200,
     [stream_chunk(None, "NO_IMAGE", NO_CHARGE_MESSAGE), stream_chunk([text("")])], None, "no_charge", None, 0),
    ("stream-last-finish-reason-holds", PRO, 200,
     [stream_chunk([text("a")], "OTHER"), stream_chunk([text("b")], "STOP")], None, "text_refusal", None, 0),
    ("stream-error-chunk-decides", PRO, 200,
     [stream_chunk([text("partial")]), error_body(503, "UNAVAILABLE", "The model is overloaded.")], None,
     "overloaded", None, 0),
    ("stream-error-chunk-after-image", PRO, 200,
     [stream_chunk([image()]), error_body(500, "INTERNAL")], None, "server_error", None, 0),
    ("stream-candidate-index-one-image", PRO, 200,
     [stream_chunk([text("x")], index=0), stream_chunk([image()], "STOP", index=1)], None, "success", None, 0),
    ("stream-openai-deltas-image", PRO, 200,
     [delta_chunk("![img](data:image/png;"), delta_chunk(f"base64,{PNG})"), delta_chunk(None, "stop")],
     None, "success", None, 0),
    ("stream-openai-deltas-text", PRO, 200,
     [delta_chunk("I can't"), delta_chunk(" help"), delta_chunk(None, "stop")], None, "text_refusal", None, 0),
    # Non-image models: rule 1 holds, otherwise success.
    ("text-model-text", TEXT_MODEL, 200, gemini([text("Hello")]), None, "success", None, 0),
    ("text-model-empty", TEXT_MODEL, 200, {}, None, "success", None, 0),
    ("text-model-safety", TEXT_MODEL, 200, gemini(None, "SAFETY"), None, "success", None, 0),
    ("text-model-no-status", TEXT_MODEL, None, chat("Hi"), None, "success", None, 0),
    ("text-model-429", TEXT_MODEL, 429, error_body(429, "RESOURCE_EXHAUSTED"), None, "rate_limited", None, 0),
    ("text-model-text-error", TEXT_MODEL, None, "503 UNAVAILABLE", None, "overloaded", None, 0),
    ("any-model-named-image", "my-image-model", 200, gemini([text("No")]), None, "text_refusal", None, 0),
    ("models-prefix", "models/gemini-3-pro-image-preview", 200, gemini([text("No")]), None,
     "text_refusal", None, 0),
    ("unknown-model-reads-as-image", None, 200, gemini([text("No")]), None, "text_refusal", None, 0),
    # Rule 1 with a structured error.
    ("status-beats-image", PRO, 502, gemini([image()]), None, "server_error", "HTTP 502", 0),
    ("error-code-stands-in-for-200", PRO, 200, error_body(429, "RESOURCE_EXHAUSTED"), None,
     "rate_limited", "HTTP 429 RESOURCE_EXHAUSTED", 0),
    ("error-code-stands-in-for-0", PRO, 0, error_body(503, "UNAVAILABLE"), None, "overloaded", None, 0),
    ("error-code-as-string", PRO, None, error_body("429"), None, "rate_limited", None, 0),
    ("envelope-status-as-string", PRO, "503", None, None, "overloaded", None, 0),
    ("envelope-status-beats-error-code", PRO, 500, error_body(429, "RESOURCE_EXHAUSTED"), None,
     "server_error", None, 0),
    ("error-409-other", PRO, 409, error_body(409, "ABORTED"), None, "other_error", "HTTP 409 ABORTED", 0),
    ("error-status-only", PRO, None, error_body(status="UNAVAILABLE"), None, "overloaded",
     "error.status=UNAVAILABLE", 0),
    ("error-status-lowercase", PRO, None, error_body(status="resource_exhausted"), None, "rate_limited", None, 0),
    ("error-message-only-overloaded", PRO, None, error_body(message="The model is overloaded."), None,
     "overloaded", None, 0),
    ("error-message-only-unknown", PRO, None, error_body(message="Something odd."), None, "other_error", None, 0),
    ("error-empty-dict", PRO, None, {"error": {}}, None, "other_error", None, 0),
    ("error-non-http-code", PRO, None, error_body(10001, message="bad thing"), None, "other_error", None, 0),
    ("error-as-text", PRO, None, {"error": "upstream request timed out"}, None, "timeout", None, 0),
    ("error-as-unknown-text", PRO, None, {"error": "something bad"}, None, "other_error", None, 0),
    ("error-null-is-not-error", PRO, 200, {"error": None, **gemini([image()])}, None, "success", None, 0),
    # Rule 1 exceptions.
    ("openai-prompt-blocked-400", PRO, 400,
     {"error": {"message": "request blocked by Gemini API: PROHIBITED_CONTENT", "type": "prompt_blocked",
                "param": "", "code": "prompt_blocked"}}, None, "prompt_blocked", "error.code=prompt_blocked", 0),
    ("openai-prompt-blocked-no-status", PRO, None, {"error": {"code": "prompt_blocked", "message": "x"}}, None,
     "prompt_blocked", None, 0),
    ("openai-prompt-blocked-type-only", PRO, 400, {"error": {"type": "prompt_blocked", "message": "x"}}, None,
     "prompt_blocked", "error.type=prompt_blocked", 0),
    ("api-key-invalid", NB2, 400,
     error_body(400, "INVALID_ARGUMENT", "API key not valid.",
                details=[{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}]),
     None, "auth_error", "ErrorInfo reason=API_KEY_INVALID", 0),
    ("region-refusal-is-bad-request", PRO, 400,
     error_body(400, "FAILED_PRECONDITION", "User location is not supported for the API use."), None,
     "bad_request", None, 0),
    # Rule 1 with an error given as text.
    ("text-429-repr", PRO, None,
     "429 RESOURCE_EXHAUSTED. {'error': {'code': 429, 'message': 'Resource exhausted', 'status': 'RESOURCE_EXHAUSTED'}}",
     None, "rate_limited", "HTTP 429 RESOURCE_EXHAUSTED", 0),
    ("text-got-status", PRO, None,
     'got status: UNAVAILABLE. {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}',
     None, "overloaded", None, 0),
    ("text-got-status-word-only", PRO, None, "got status: UNAVAILABLE.", None, "overloaded",
     "error text: UNAVAILABLE", 0),
    ("text-html-502", PRO, None,
     "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>"
     "</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>", None, "server_error", "HTTP 502", 0),
    ("text-html-504", PRO, None,
     "<!DOCTYPE html><html><head><title>504 Gateway Time-out</title></head><body>504</body></html>", None,
     "timeout", None, 0),
    ("text-html-with-envelope-status", PRO, 502, "<html><body>Bad Gateway</body></html>", None,
     "server_error", None, 0),
    ("text-prompt-blocked-sdk", PRO, None,
     "Error code: 400 - {'error': {'message': 'request blocked by Gemini API: PROHIBITED_CONTENT', "
     "'type': 'prompt_blocked', 'code': 'prompt_blocked'}}", None, "prompt_blocked", None, 0),
    ("text-api-key-invalid", PRO, None,
     "400 INVALID_ARGUMENT. {'error': {'code': 400, 'details': [{'reason': 'API_KEY_INVALID'}]}}", None,
     "auth_error", None, 0),
    ("text-double-encoded-error", PRO, None,
     json.dumps(json.dumps(error_body(503, "UNAVAILABLE", "The model is overloaded."))), None,
     "overloaded", None, 0),
    ("text-json-encoded-error", PRO, None, json.dumps(error_body(429, "RESOURCE_EXHAUSTED")), None,
     "rate_limited", None, 0),
    ("text-json-encoded-success", PRO, 200, json.dumps(gemini([image()])), None, "success", None, 0),
    ("text-empty", PRO, None, "", None, "other_error", None, 0),
    ("text-connection-reset", PRO, None, "connection reset by peer", None, "other_error", None, 0),
    ("text-python-list-repr", PRO, None, "[Errno 104] Connection reset by peer", None, "other_error", None, 0),
    # No response at all.
    ("client-timeout", PRO, 0, None, "timeout", "timeout", "client error: timeout", 0),
    ("client-read-timeout", PRO, None, None, "httpx.ReadTimeout: The read operation timed out", "timeout",
     None, 0),
    ("client-timed-out", PRO, None, None, "Request timed out", "timeout", None, 0),
    ("client-connection-reset", PRO, None, None, "connection reset", "other_error",
     "client error: connection reset", 0),
    ("client-error-says-503", PRO, None, None, "HTTP 503", "other_error", None, 0),
    ("no-response-nothing", PRO, None, None, None, "other_error", "no response", 0),
    ("no-response-with-status", PRO, 503, None, None, "overloaded", None, 0),
    ("no-response-status-beats-client-error", PRO, 429, None, "timeout", "rate_limited", None, 0),
    ("no-response-200-empty", PRO, 200, None, None, "empty_output", None, 0),
    ("no-response-200-text-model", TEXT_MODEL, 200, None, None, "success", None, 0),
    ("no-response-200-client-timeout", PRO, 200, None, "timed out reading body", "timeout", None, 0),
    ("body-beats-client-error", PRO, None, error_body(503, "UNAVAILABLE"), "timeout", "overloaded", None, 0),
]


@pytest.mark.parametrize(
    "model,http_status,response,client_error,category,reason,drafts",
    [pytest.param(*case[1:], id=case[0]) for case in CALL_CASES],
)
def test_classify_call(model, http_status, response, client_error, category, reason, drafts):
    verdict, facts = classify_call(model=model, http_status=http_status, response=response,
                                   client_error=client_error)
    assert verdict.category == category, verdict.reason
    if reason is not None:
        assert verdict.reason == reason
    assert facts.drafts == drafts
    assert facts == read_response(response, http_status=http_status, client_error=client_error)


def test_call_case_ids_are_unique():
    ids = [case[0] for case in CALL_CASES]
    assert len(ids) == len(set(ids))


# ---------------------------------------------------------------------------
# Status codes and error text
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("code,category", [
    (400, "bad_request"), (401, "auth_error"), (402, "auth_error"), (403, "auth_error"),
    (404, "bad_request"), (405, "other_error"), (409, "other_error"), (413, "other_error"),
    (418, "other_error"), (429, "rate_limited"), (499, "timeout"), (500, "server_error"),
    (501, "server_error"), (502, "server_error"), (503, "overloaded"), (504, "timeout"),
    (505, "server_error"), (520, "server_error"), (599, "server_error"), (302, "other_error"),
    (200, "other_error"),
])
def test_category_for_status(code, category):
    assert category_for_status(code) == category


@pytest.mark.parametrize("code,category", [(429, "rate_limited"), (499, "timeout"), (402, "auth_error"),
                                           (502, "server_error"), (503, "overloaded"), (404, "bad_request")])
def test_envelope_status_decides(code, category):
    verdict, facts = classify_call(model=PRO, http_status=code, response={"error": {"message": "x"}})
    assert (verdict.category, verdict.reason, facts.http_status) == (category, f"HTTP {code}", code)


@pytest.mark.parametrize("word,category", [
    ("RESOURCE_EXHAUSTED", "rate_limited"), ("UNAVAILABLE", "overloaded"), ("INTERNAL", "server_error"),
    ("DEADLINE_EXCEEDED", "timeout"), ("CANCELLED", "timeout"), ("INVALID_ARGUMENT", "bad_request"),
    ("FAILED_PRECONDITION", "bad_request"), ("NOT_FOUND", "bad_request"),
    ("PERMISSION_DENIED", "auth_error"), ("UNAUTHENTICATED", "auth_error"),
])
def test_error_status_word(word, category):
    verdict, _ = classify_call(model=PRO, response={"error": {"status": word, "message": "..."}})
    assert verdict == Verdict(category, f"error.status={word}")
    assert classify_error_text(f"upstream said {word}").category == category


@pytest.mark.parametrize("text,category,reason", [
    ("429 RESOURCE_EXHAUSTED. {'error': {'code': 429}}", "rate_limited", "HTTP 429 RESOURCE_EXHAUSTED"),
    ('got status: UNAVAILABLE. {"error": {"code": 503}}', "overloaded", "HTTP 503 UNAVAILABLE"),
    ("<html><head><title>502 Bad Gateway</title></head></html>", "server_error", "HTTP 502"),
    ("status_code=429", "rate_limited", "HTTP 429"),
    ("status_code=429, RESOURCE_EXHAUSTED: You exceeded your current quota", "rate_limited",
     "HTTP 429 RESOURCE_EXHAUSTED"),
    ("status_code=503, The model is overloaded. Please try again later.", "overloaded", "HTTP 503 OVERLOADED"),
    ("bad_response_status_code: 500 INTERNAL", "server_error", "HTTP 500 INTERNAL"),
    ("HTTP 503", "overloaded", "HTTP 503"),
    ("HTTP/1.1 500 Internal Server Error", "server_error", "HTTP 500 INTERNAL"),
    ("Error code: 402 - payment required", "auth_error", "HTTP 402"),
    ("'status': 401", "auth_error", "HTTP 401"),
    ('"code":"404"', "bad_request", "HTTP 404"),
    ("status 499 client closed request", "timeout", "HTTP 499"),
    ("504 Gateway Timeout", "timeout", "HTTP 504 TIMEOUT"),
    ("  403 Forbidden", "auth_error", "HTTP 403"),
    ("Request timed out", "timeout", "error text: TIMED OUT"),
    ("请求超时 (timeout) after 300s", "timeout", "error text: TIMEOUT"),
    ("ReadTimeout", "timeout", "error text: TIMEOUT"),
    ("The model is overloaded. Please try again later.", "overloaded", "error text: OVERLOADED"),
    ("DEADLINE_EXCEEDED then UNAVAILABLE", "timeout", "error text: DEADLINE_EXCEEDED"),
    ("Service Unavailable", "overloaded", "error text: UNAVAILABLE"),
    ("upstream error 500", "other_error", "error text without a status"),
    ("code 4290", "other_error", "error text without a status"),
    ("took 450 ms", "other_error", "error text without a status"),
    ("connection reset by peer", "other_error", "error text without a status"),
    ("", "other_error", "error text without a status"),
])
def test_classify_error_text(text, category, reason):
    assert classify_error_text(text) == Verdict(category, reason)


def test_status_code_comes_before_status_word():
    assert classify_error_text("UNAVAILABLE status: 429").category == "rate_limited"


# ---------------------------------------------------------------------------
# Log export rows
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("log_type,model,tokens,details,category,reason", [
    ("consume", PRO, 1120, "", "success", "output tokens 1120 >= 1000"),
    ("consume", PRO, 1000, "", "success", "output tokens 1000 >= 1000"),
    ("consume", PRO, 999, "", "text_refusal", "output tokens 999 < 1000"),
    ("consume", PRO, 173, "", "text_refusal", "output tokens 173 < 1000"),
    ("consume", PRO, 1, "", "text_refusal", "output tokens 1 < 1000"),
    ("consume", PRO, 0, "", "empty_output", "output tokens 0"),
    ("consume", PRO, None, "", "empty_output", "output tokens empty"),
    ("consume", NB2, 747, "", "success", "output tokens 747 >= 700"),
    ("consume", NB2, 700, "", "success", "output tokens 700 >= 700"),
    ("consume", NB2, 699, "", "text_refusal", "output tokens 699 < 700"),
    ("consume", "gemini-3.1-flash-lite-image-preview", 747, "", "success", "output tokens 747 >= 700"),
    ("consume", "gemini-2.5-flash-image", 1290, "", "success", "output tokens 1290 >= 1000"),
    ("consume", "gemini-2.5-flash-image", 800, "", "text_refusal", "output tokens 800 < 1000"),
    ("consume", "some-image-model", 999, "", "text_refusal", "output tokens 999 < 1000"),
    ("consume", TEXT_MODEL, 0, "", "success", "consume row, non-image model"),
    ("consume", TEXT_MODEL, None, "", "success", "consume row, non-image model"),
    ("error", PRO, 0, "request blocked by Gemini API: PROHIBITED_CONTENT", "prompt_blocked",
     "details: blocked by Gemini"),
    ("error", PRO, 0, "status_code=400, prompt_blocked", "prompt_blocked", "details: prompt_blocked"),
    ("error", PRO, 0, "status_code=429, RESOURCE_EXHAUSTED: You exceeded your current quota",
     "rate_limited", "HTTP 429 RESOURCE_EXHAUSTED"),
    ("error", PRO, 0, "bad_response_status_code: 500 INTERNAL", "server_error", "HTTP 500 INTERNAL"),
    ("error", PRO, 0, "请求超时 (timeout) after 300s", "timeout", "error text: TIMEOUT"),
    ("error", PRO, 0, "API key not valid (API_KEY_INVALID)", "auth_error", "details: API_KEY_INVALID"),
    ("error", PRO, 0, "", "other_error", "error text without a status"),
    ("error", PRO, 0, "something broke", "other_error", "error text without a status"),
    ("error", TEXT_MODEL, 0, "status_code=503", "overloaded", "HTTP 503"),
])
def test_classify_export_row(log_type, model, tokens, details, category, reason):
    verdict = classify_export_row(log_type=log_type, model=model, output_tokens=tokens, details=details)
    assert verdict == Verdict(category, reason)


def test_export_row_threshold_setting(settings):
    settings.NBAUDIT_REFUSAL_THRESHOLDS = {"pro": 1200}
    verdict = classify_export_row(log_type="consume", model=PRO, output_tokens=1120)
    assert verdict == Verdict("text_refusal", "output tokens 1120 < 1200")


def test_export_row_of_another_type_is_not_a_call():
    assert classify_export_row(log_type="topup", model=None, output_tokens=None).category == "other_error"


# ---------------------------------------------------------------------------
# Flat local rows
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("row,category", [
    (dict(http_status=200, finish_reason="STOP", output_tokens=1120, images=1), "success"),
    (dict(http_status=200, finish_reason="STOP", output_tokens=173, images=0), "text_refusal"),
    (dict(http_status=200, finish_reason="STOP", output_tokens=1120, images=None), "success"),
    (dict(http_status=200, finish_reason="STOP", output_tokens=173, images=None), "text_refusal"),
    (dict(http_status=200, output_tokens=0, images=0), "empty_output"),
    (dict(), "empty_output"),
    (dict(http_status=0, output_tokens=None), "empty_output"),
    (dict(http_status=503), "overloaded"),
    (dict(http_status="429"), "rate_limited"),
    (dict(http_status=504, images=1), "timeout"),
    (dict(block_reason="PROHIBITED_CONTENT"), "prompt_blocked"),
    (dict(block_reason="BLOCK_REASON_UNSPECIFIED", output_tokens=0), "empty_output"),
    (dict(finish_reason="IMAGE_OTHER", finish_message=NO_CHARGE_MESSAGE), "no_charge"),
    (dict(finish_reason="IMAGE_SAFETY", output_tokens=0), "image_blocked"),
    (dict(finish_reason="content_filter"), "image_blocked"),
    (dict(finish_reason="MALFORMED_FUNCTION_CALL"), "no_image"),
    (dict(finish_reason="NO_IMAGE", output_tokens=12), "no_image"),
    (dict(finish_reason="length", output_tokens=173, images=0), "text_refusal"),
    (dict(finish_reason="stop", output_tokens=0, images=0), "empty_output"),
    (dict(model=TEXT_MODEL, http_status=200, output_tokens=0), "success"),
    (dict(model=TEXT_MODEL, http_status=500), "server_error"),
    (dict(images="2"), "success"),
])
def test_classify_local_row(row, category):
    row.setdefault("model", PRO)
    assert classify_local_row(**row).category == category


def test_local_row_reasons():
    assert classify_local_row(model=PRO, http_status=503).reason == "HTTP 503"
    assert classify_local_row(model=PRO, block_reason="SAFETY").reason == "block_reason=SAFETY"
    assert classify_local_row(model=PRO, output_tokens=173, images=0).reason == "output tokens 173, no image"


# ---------------------------------------------------------------------------
# Facts read off a response
# ---------------------------------------------------------------------------

def test_facts_of_a_delivered_image_with_thoughts():
    response = gemini(
        [text("plan", thought=True), image("image/jpeg", thought=True), image("image/jpeg")],
        usage={"promptTokenCount": 24, "candidatesTokenCount": 1219, "thoughtsTokenCount": 167,
               "totalTokenCount": 1410,
               "candidatesTokensDetails": [{"modality": "TEXT", "tokenCount": 99},
                                           {"modality": "IMAGE", "tokenCount": 1120}]},
    )
    assert read_response(response, http_status=200) == Facts(
        http_status=200, finish_reason="STOP", block_reason="", finish_message="", error_text="",
        prompt_tokens=24, output_tokens=1219, thoughts_tokens=167, total_tokens=1410, image_tokens=1120,
        images=1, drafts=1, has_text=False,
    )


def test_facts_of_a_refusal_without_candidates_token_count():
    facts = read_response(gemini(None, "IMAGE_SAFETY", "No.", usage={
        "promptTokenCount": "1119", "thoughtsTokenCount": 240.0, "totalTokenCount": 1359}))
    assert (facts.prompt_tokens, facts.output_tokens, facts.thoughts_tokens, facts.total_tokens) == (
        1119, None, 240, 1359)
    assert (facts.finish_reason, facts.finish_message, facts.images, facts.image_tokens) == (
        "IMAGE_SAFETY", "No.", 0, None)


def test_facts_of_a_stream_keep_the_last_usage_and_finish_reason():
    facts = read_response([
        stream_chunk([image()], usage={"promptTokenCount": 8, "thoughtsTokenCount": 244}),
        stream_chunk([text("")], "STOP", usage={"promptTokenCount": 8, "candidatesTokenCount": 1219,
                                                 "thoughtsTokenCount": 167, "totalTokenCount": 1394}),
        stream_chunk(None, block=None),
    ])
    assert (facts.finish_reason, facts.thoughts_tokens, facts.output_tokens, facts.images) == (
        "STOP", 167, 1219, 1)


def test_facts_of_a_prompt_block():
    facts = read_response({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
                           "usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 9}})
    assert (facts.block_reason, facts.prompt_tokens, facts.total_tokens, facts.output_tokens) == (
        "PROHIBITED_CONTENT", 9, 9, None)


def test_facts_of_an_openai_response():
    facts = read_response(chat(f"Sure ![i](data:image/png;base64,{PNG})", usage={
        "prompt_tokens": 20, "completion_tokens": 1290, "total_tokens": 1310,
        "completion_tokens_details": {"reasoning_tokens": 50, "image_tokens": 1120}}))
    assert (facts.prompt_tokens, facts.output_tokens, facts.total_tokens, facts.thoughts_tokens,
            facts.image_tokens) == (20, 1290, 1310, 50, 1120)
    assert (facts.images, facts.has_text, facts.finish_reason) == (1, True, "stop")
    assert read_response(chat(f"![i](data:image/png;base64,{PNG})")).has_text is False


def test_facts_of_errors():
    assert read_response(error_body(429, "RESOURCE_EXHAUSTED", "quota")).error_text == "RESOURCE_EXHAUSTED: quota"
    assert read_response(error_body(429, "RESOURCE_EXHAUSTED"), http_status=200).http_status == 429
    assert read_response(error_body(429), http_status=503).http_status == 503
    assert read_response("503 UNAVAILABLE. {...}").http_status == 503
    assert read_response("503 UNAVAILABLE", http_status=502).http_status == 502
    assert read_response(None, http_status=0, client_error="timeout") == Facts(
        http_status=None, finish_reason="", block_reason="", finish_message="", error_text="timeout",
        prompt_tokens=None, output_tokens=None, thoughts_tokens=None, total_tokens=None, image_tokens=None,
        images=0, drafts=0, has_text=False)
    assert len(read_response("x" * 5000).error_text) == 2000
    assert read_response({"error": "boom"}).error_text == "boom"


def test_verdict_category_is_a_plain_string():
    verdict, _ = classify_call(model=PRO, response=gemini([image()]))
    assert type(verdict.category) is str
    assert json.dumps(verdict.category) == '"success"'


# ---------------------------------------------------------------------------
# Arbitrary JSON never raises
# ---------------------------------------------------------------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**20, max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
    st.sampled_from(["STOP", "IMAGE_SAFETY", "NO_IMAGE", "image/png", "data:image/png;base64,AA",
                     "You will not be charged", "429", "prompt_blocked", "API_KEY_INVALID",
                     "BLOCK_REASON_UNSPECIFIED", "content_filter", "true", "<html>", "timed out"]),
)
any_json = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(max_size=8), children, max_size=4)),
    max_leaves=25,
)
KEYS = ["candidates", "content", "parts", "inlineData", "inline_data", "mimeType", "mime_type", "data",
        "text", "thought", "finishReason", "finishMessage", "index", "error", "code", "status", "message",
        "details", "reason", "type", "promptFeedback", "blockReason", "usageMetadata", "promptTokenCount",
        "candidatesTokenCount", "thoughtsTokenCount", "totalTokenCount", "candidatesTokensDetails",
        "modality", "tokenCount", "choices", "message", "delta", "images", "image_url", "url",
        "finish_reason", "usage", "completion_tokens", "completion_tokens_details"]
shaped_json = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.sampled_from(KEYS), children, max_size=5)),
    max_leaves=40,
)
responses = st.one_of(any_json, shaped_json, shaped_json.map(json.dumps),
                      shaped_json.map(lambda value: json.dumps(json.dumps(value))))


def _check(verdict, facts):
    assert isinstance(verdict, Verdict) and verdict.category in CATEGORIES and verdict.reason
    assert isinstance(facts, Facts)
    assert isinstance(facts.images, int) and facts.images >= 0
    assert isinstance(facts.drafts, int) and facts.drafts >= 0
    assert isinstance(facts.has_text, bool)
    for name in ("finish_reason", "block_reason", "finish_message", "error_text"):
        assert isinstance(getattr(facts, name), str)
    assert len(facts.error_text) <= 2000
    for name in ("http_status", "prompt_tokens", "output_tokens", "thoughts_tokens", "total_tokens",
                 "image_tokens"):
        assert getattr(facts, name) is None or type(getattr(facts, name)) is int


@hyp_settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(response=responses,
       model=st.one_of(st.none(), st.sampled_from([PRO, NB2, TEXT_MODEL, "x-image", ""]), st.text(max_size=10)),
       http_status=st.one_of(st.none(), st.sampled_from([0, 200, 204, 400, 429, 499, 503, 600, -1]), scalars),
       client_error=st.one_of(st.none(), st.text(max_size=20), st.sampled_from(["timeout", "reset"]), scalars))
def test_arbitrary_json_never_raises(response, model, http_status, client_error):
    _check(*classify_call(model=model, http_status=http_status, response=response, client_error=client_error))


@hyp_settings(max_examples=200, deadline=None)
@given(chunks=st.lists(shaped_json, max_size=4))
def test_arbitrary_stream_never_raises(chunks):
    _check(*classify_call(model=PRO, http_status=200, response=chunks))


@hyp_settings(max_examples=200, deadline=None)
@given(text_=st.text(max_size=200))
def test_arbitrary_error_text_never_raises(text_):
    assert classify_error_text(text_).category in CATEGORIES
    _check(*classify_call(model=PRO, response=text_))


@hyp_settings(max_examples=200, deadline=None)
@given(values=st.fixed_dictionaries({
    "model": st.one_of(st.none(), st.sampled_from([PRO, NB2, TEXT_MODEL])),
    "http_status": scalars, "finish_reason": scalars, "block_reason": scalars,
    "finish_message": scalars, "output_tokens": scalars, "images": scalars,
}), log_type=st.one_of(st.sampled_from(["consume", "error", "topup"]), scalars), details=scalars)
def test_arbitrary_rows_never_raise(values, log_type, details):
    assert classify_local_row(**values).category in CATEGORIES
    verdict = classify_export_row(log_type=log_type, model=values["model"], output_tokens=values["output_tokens"],
                                  details=details)
    assert verdict.category in CATEGORIES and verdict.reason
