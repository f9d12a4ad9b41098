"""Tests of logs.classify on the shapes of taxonomy.md, "More real shapes".

Agent event lists, OpenAI Responses and Images API bodies, streamed OpenAI chunks,
data: and http(s) image URLs in text, bodies of no known shape, SDK exception texts and
relays that wrap the upstream's answer. The bodies are real captures from public
repositories, issue threads and API pages (each case says where it came from), with
the base64 trimmed and the structure kept. Property tests over every entry point come
last. (The envelopes of calls_more_shapes.ndjson are checked in test_classify.py, with
those of calls.ndjson.)
"""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings as hyp_settings, strategies as st

from logs.classify import (
    Facts,
    Verdict,
    classify_call,
    classify_error_text,
    classify_export_row,
    classify_local_row,
    read_response,
)
from tests import FIXTURES
from tests.logs.test_classify import CATEGORIES, NO_CHARGE_MESSAGE, PRO, TEXT_MODEL

NB2 = "gemini-3.1-flash-image-preview"
LEGACY = "gemini-2.5-flash-image"
B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


# ---------------------------------------------------------------------------
# The fixture: calls_more_shapes.ndjson (each envelope's expected category is checked
# with calls.ndjson's in test_classify.py)
# ---------------------------------------------------------------------------

def test_fixture_covers_every_new_shape():
    lines = (FIXTURES / "calls_more_shapes.ndjson").read_text(encoding="utf-8").splitlines()
    shapes = {read_response(json.loads(line).get("response")).shape for line in lines if line.strip()}
    assert shapes >= {"events", "responses", "images", "gemini", "chat", "unknown", "text", "error"}


# ---------------------------------------------------------------------------
# Real bodies, one case each
# ---------------------------------------------------------------------------

# Google ADK `/run` answer with the image (anoochit/flutter_clay_doll, clay_doll_agent/README.md).
ADK_RUN_IMAGE = [{
    "modelVersion": "gemini-2.5-flash-image",
    "content": {"parts": [{"inlineData": {"data": B64, "mimeType": "image/png"}}], "role": "model"},
    "finishReason": "STOP",
    "usageMetadata": {
        "candidatesTokenCount": 1290,
        "candidatesTokensDetails": [{"modality": "IMAGE", "tokenCount": 1290}],
        "promptTokenCount": 615,
        "promptTokensDetails": [{"modality": "IMAGE", "tokenCount": 516}, {"modality": "TEXT", "tokenCount": 99}],
        "totalTokenCount": 1905,
        "trafficType": "ON_DEMAND",
    },
    "invocationId": "e-ab0ce779-adbe-4fdf-a1bc-028e28bf1a1b",
    "author": "root_agent",
    "actions": {"stateDelta": {}, "artifactDelta": {}, "requestedAuthConfigs": {},
                "requestedToolConfirmations": {}},
    "id": "1e612104-45b1-4acf-8e42-41b0e73d0457",
    "timestamp": 1764395949.983426,
}]
# An ADK `/run` answer that is text only (Ruqyai/a2a-adk, api_agent/Readme.md), sent to an
# image model.
ADK_RUN_TEXT = [{
    "modelVersion": "gemini-2.5-flash",
    "content": {"parts": [{"text": "Hello! How can I help you today?"}], "role": "model"},
    "finishReason": "STOP",
    "usageMetadata": {"candidatesTokenCount": 9, "promptTokenCount": 40, "totalTokenCount": 49},
    "invocationId": "e-5b7c", "author": "use_api_agent", "actions": {"stateDelta": {}, "artifactDelta": {}},
    "id": "c41d", "timestamp": 1764423431.1,
}]


def adk_error_event(error_code, error_message=None, finish_reason=None):
    """An ADK event for a Gemini answer without parts: LlmResponse.create writes the
    candidate's finish reason and finish message as errorCode and errorMessage (and newer
    versions also finishReason); a prompt block writes blockReason (google/adk-python,
    src/google/adk/models/llm_response.py)."""
    event = {"errorCode": error_code, "invocationId": "e-01", "author": "painter",
             "actions": {"stateDelta": {}, "artifactDelta": {}}, "id": "ev-1", "timestamp": 1764400000.0,
             "usageMetadata": {"promptTokenCount": 1119, "thoughtsTokenCount": 240, "totalTokenCount": 1359}}
    if error_message is not None:
        event["errorMessage"] = error_message
    if finish_reason is not None:
        event["finishReason"] = finish_reason
    return event


# A session's history: the user's own event carries the uploaded image to edit.
ADK_SESSION_USER_IMAGE = [
    {"content": {"parts": [{"text": "make it blue"}, {"inlineData": {"mimeType": "image/png", "data": B64}}],
                 "role": "user"}, "author": "user", "invocationId": "e-9", "id": "u-1"},
    {"content": {"parts": [{"text": "I can't edit photos of real people."}], "role": "model"},
     "author": "painter", "invocationId": "e-9", "id": "a-1", "finishReason": "STOP"},
]

# Responses API with the image_generation tool: the call still says "generating" but its
# result holds the image (ccswitch.tap365.org, .../public_responses_image_tool.json).
RESPONSES_IMAGE_TOOL = {
    "background": False, "completed_at": 1778840820, "created_at": 1778840805, "error": None,
    "id": "resp_0894cf2ef651c7d1016a06f4e560dc8196b918735bb38f5f4e", "incomplete_details": None,
    "model": "gpt-5.4-mini", "object": "response",
    "output": [
        {"action": "generate", "background": "opaque", "id": "ig_0894cf2ef651c7d1016a06f4e5ebfc8196ab2232",
         "output_format": "png", "quality": "low", "result": B64,
         "revised_prompt": "A minimalist blue dot graphic on a pure white background.",
         "size": "1024x1024", "status": "generating", "type": "image_generation_call"},
        {"content": [{"annotations": [], "logprobs": [], "text": "", "type": "output_text"}],
         "id": "msg_0894cf2ef651c7d1016a06f4f41a5481969a365b503795d305", "phase": "final_answer",
         "role": "assistant", "status": "completed", "type": "message"},
    ],
    "status": "completed",
    "tool_choice": {"type": "image_generation"},
}
# Responses API, text only (microsoft agent-framework, TestData/OpenAIDefaultResponse.json).
RESPONSES_TEXT = {
    "id": "resp_0888a46cbf2b1ff3006914596e05d08195a77c3f5187b769a7", "object": "response",
    "created_at": 1762941294, "status": "completed", "error": None, "incomplete_details": None,
    "model": "gpt-4o-mini-2024-07-18",
    "output": [{"id": "msg_0888a46cbf2b1ff3006914596f814481958e8cf500a6dabbec", "type": "message",
                "status": "completed", "role": "assistant",
                "content": [{"type": "output_text", "annotations": [], "logprobs": [],
                             "text": "Hello! How can I assist you today?"}]}],
    "usage": {"input_tokens": 9, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 10,
              "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 19},
}
# A relay's Responses API for gemini-3.1-flash-image: the image is a markdown data URL in
# output_text (CookSleep/gpt_image_playground pull request 133).
RESPONSES_MARKDOWN_DATA_URL = {
    "model": "gemini-3.1-flash-image-2K",
    "output": [{"type": "message", "id": "msg_d5d2f7739084b205c90923fc3ce21c5c", "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "annotations": [],
                             "text": "I have transformed the character from your input image into a 2-head-tall "
                                     f"Chibi figure while maintaining the A-pose.\n![image](data:image/jpeg;base64,{B64})"}],
                "quality": "", "size": ""}],
}
# Responses API stopped by the content filter: incomplete_details.reason is
# "max_output_tokens" or "content_filter" (openai-python, types/responses/response.py).
RESPONSES_MAX_TOKENS = {"id": "resp_04", "object": "response", "status": "incomplete",
                        "incomplete_details": {"reason": "max_output_tokens"},
                        "output": [{"type": "message", "role": "assistant",
                                    "content": [{"type": "output_text", "text": "Let me think about the"}]}],
                        "usage": {"input_tokens": 31, "output_tokens": 16, "total_tokens": 47}}

# Images API, gpt-image style, base64 (fastapi.ai, api/image/object.html) and a URL
# (doc.nexhina.cn, /v1/images/generations example).
IMAGES_B64 = {"created": 1713833628, "data": [{"b64_json": B64}], "background": "transparent",
              "output_format": "png", "size": "1024x1024", "quality": "high",
              "usage": {"total_tokens": 100, "input_tokens": 50, "output_tokens": 50,
                        "input_tokens_details": {"text_tokens": 10, "image_tokens": 40}}}
IMAGES_URL = {"created": 1713833628, "data": [{"url": "https://cdn.example.com/img-001.png"}],
              "usage": {"total_tokens": 100, "input_tokens": 50, "output_tokens": 50,
                        "input_tokens_details": {"text_tokens": 10, "image_tokens": 40}}}
# dall-e-3: revised_prompt beside the image; without the image it is no reply.
IMAGES_REVISED_PROMPT_ONLY = {"created": 1713833628, "data": [{"revised_prompt": "A red bicycle leaning on a wall"}]}

# chat.completion with message.images (docs.router.shengsuanyun.com, 368352843e0).
CHAT_MESSAGE_IMAGES = {
    "id": "2025102912501117466000AxcO7O3t", "provider": "Google", "model": "google/gemini-2.5-flash-image",
    "object": "chat.completion", "created": 1761713411,
    "choices": [{"index": 0, "message": {
        "role": "assistant", "content": "这是您要的图片:一个小女孩在道路上奔跑",
        "images": [{"type": "image_url", "image_url": {"url": f"data:image/png;base64,{B64}"}, "index": 0}]},
        "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3376, "completion_tokens": 1290, "total_tokens": 4666},
}
# Streamed chunks where the image comes as delta.images (a Go gateway's test of an image
# model's stream, "TestObserveDataChunk_ImageDeltaIsDeliveryForTheBreakerOnly").
CHAT_STREAM_DELTA_IMAGES = [
    {"object": "chat.completion.chunk", "choices": [{"delta": {"role": "assistant", "content": "", "images": [
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{B64}"}}]}}]},
    {"object": "chat.completion.chunk", "choices": [{"delta": {}, "finish_reason": "stop"}],
     "usage": {"prompt_tokens": 12, "completion_tokens": 1290, "total_tokens": 1302}},
]
# new-api / one-api relays: the image as a markdown data URL in message.content
# (awsl-project/maxx pull request 821).
CHAT_MARKDOWN_DATA_URL = {"object": "chat.completion", "choices": [{"index": 0, "finish_reason": "stop", "message": {
    "role": "assistant", "content": f"Here's a red apple!\n![image](data:image/png;base64,{B64})"}}]}
# gpt-image through a chat endpoint: an image_url content item with the stored address
# (nicholasgriffintn/ai-platform issue 694).
CHAT_IMAGE_URL_ITEM = {"id": "01JZZVXSXC6QTTHN9SFDAZ1727", "object": "chat.completion", "model": "gpt-image-1",
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": [
                           {"type": "image_url", "image_url": {
                               "url": "https://assistant-assets.nickgriffin.uk/generations/completion/gpt-image-1/1752342391121.png"}}]}}]}
# grok2api: an image model on /v1/chat/completions answers with the address as the whole
# content (chenyme/grok2api pull request 200).
CHAT_WHOLE_URL = {"id": "chatcmpl-7f1", "object": "chat.completion", "created": 1234567890,
                  "model": "grok-imagine-1.0",
                  "choices": [{"index": 0, "message": {"role": "assistant",
                                                       "content": "https://assets.grok.com/users/u/generated/a1/image.jpg"},
                               "finish_reason": "stop"}]}
# gemini-balance uploads the image to an image host and returns a markdown link in the
# Gemini text part (snailyp/gemini-balance, app/handler/response_handler.py).
GEMINI_BALANCE_LINK = {"candidates": [{"content": {"parts": [
    {"text": "\n\n![image](https://img.example.org/2025/08/28/3f9a1c2e.png)\n\n"}], "role": "model"},
    "finishReason": "STOP", "index": 0}],
    "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 1290, "totalTokenCount": 1302}}
# Gemini's Cloud Code API wraps the response: {"response": GenerateContentResponse, "traceId"}
# (gemini-cli, packages/core/src/code_assist/converter.ts).
CODE_ASSIST_IMAGE = {"response": {"candidates": [{"content": {"role": "model", "parts": [
    {"inlineData": {"mimeType": "image/png", "data": B64}}]}, "finishReason": "STOP"}],
    "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 1290, "totalTokenCount": 1299}},
    "traceId": "7c4b2a"}
CODE_ASSIST_SAFETY = {"response": {"candidates": [{"finishReason": "IMAGE_SAFETY", "index": 0}],
                                   "usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 9}},
                      "traceId": "7c4b2b"}

# Gemini CLI's API error: the relay's own error carries the upstream's whole error body as
# JSON in its message (google-gemini/gemini-cli issues 1844 and 14811).
GEMINI_CLI_WRAPPED = {"error": {
    "message": '{\n  "error": {\n    "code": 429,\n    "message": "Resource has been exhausted (e.g. check quota).",\n'
               '    "status": "RESOURCE_EXHAUSTED"\n  }\n}\n',
    "code": 429, "status": "Too Many Requests"}}
# Relays that report an upstream HTTP error as their own 502 and keep the upstream's code
# in upstreamStatus ("Server Plugin 把上游 HTTP 错误报成 502，状态码另存在 upstreamStatus", an
# OpenAI Images client core). The first is shaped after a gateway test's provider error
# (code provider_auth_failed, status 502, upstreamStatus 401), the second is a client
# test's proxy error body as it stands.
RELAY_UPSTREAM_401 = {"error": {"code": "provider_auth_failed", "message": "upstream rejected the key",
                                "upstreamStatus": 401}}
RELAY_UPSTREAM_RATE = {"error": {"code": "UPSTREAM_RATE_LIMITED", "upstreamStatus": 429, "retryAfterSeconds": 7,
                                 "detail": "read bucket exhausted"}}

# (id, model, http_status, response, category, reason or None, images). The bodies above
# are captures; a case written inline without a source is built from taxonomy.md's words
# (edges of a rule), not captured.
SHAPE_CASES = [
    # Agent event lists.
    ("adk-run-image", LEGACY, 200, ADK_RUN_IMAGE, "success", "image delivered", 1),
    ("adk-run-text-only", PRO, 200, ADK_RUN_TEXT, "text_refusal", "text only, no image", 0),
    ("adk-image-safety-error-code", PRO, 200, [adk_error_event("IMAGE_SAFETY", "Unable to show the generated image.")],
     "image_blocked", "finishReason=IMAGE_SAFETY", 0),
    ("adk-no-charge-error-message", NB2, 200,
     [adk_error_event("IMAGE_OTHER", NO_CHARGE_MESSAGE, finish_reason="IMAGE_OTHER")],
     "no_charge", "finishMessage: You will not be charged", 0),
    ("adk-no-image-finish-reason", PRO, 200, [adk_error_event("NO_IMAGE", None, finish_reason="NO_IMAGE")],
     "no_image", "finishReason=NO_IMAGE", 0),
    ("adk-unknown-error-is-nothing", PRO, 200, [adk_error_event("UNKNOWN_ERROR", "Unknown error.")],
     "empty_output", "no image, no text", 0),
    ("adk-session-user-image-is-not-the-reply", PRO, 200, ADK_SESSION_USER_IMAGE, "text_refusal", None, 0),
    ("adk-image-in-a-later-event", PRO, 200, ADK_RUN_TEXT + ADK_RUN_IMAGE, "success", "image delivered", 1),
    ("adk-snake-case-event", PRO, 200,
     [{"content": {"parts": [{"inline_data": {"mime_type": "image/jpeg", "data": B64}}]}, "author": "a",
       "finish_reason": "STOP", "usage_metadata": {"prompt_token_count": 5}}], "success", None, 1),
    # OpenAI Responses API.
    ("responses-image-tool-generating", NB2, 200, RESPONSES_IMAGE_TOOL, "success", "image_generation_call result", 1),
    ("responses-text-only", NB2, 200, RESPONSES_TEXT, "text_refusal", "text only, no image", 0),
    ("responses-markdown-data-url", NB2, 200, RESPONSES_MARKDOWN_DATA_URL, "success",
     "data:image URL in output_text", 1),
    ("responses-max-output-tokens-decides-nothing", NB2, 200, RESPONSES_MAX_TOKENS, "text_refusal", None, 0),
    ("responses-failed-call-without-result", NB2, 200,
     {"object": "response", "status": "completed",
      "output": [{"type": "image_generation_call", "id": "ig_2", "status": "failed", "result": None}]},
     "empty_output", None, 0),
    ("responses-refusal-content", NB2, 200,
     {"object": "response", "status": "completed", "output": [{"type": "message", "role": "assistant",
      "content": [{"type": "refusal", "refusal": "I can't help with that."}]}]}, "text_refusal", None, 0),
    ("responses-data-url-result", NB2, 200,
     {"object": "response", "output": [{"type": "image_generation_call", "result": f"data:image/png;base64,{B64}"}]},
     "success", "image_generation_call result", 1),
    # OpenAI Images API.
    ("images-b64-json", NB2, 200, IMAGES_B64, "success", "Images API data[].b64_json", 1),
    ("images-url", NB2, 200, IMAGES_URL, "success", "Images API data[].url", 1),
    ("images-revised-prompt-is-not-a-reply", NB2, 200, IMAGES_REVISED_PROMPT_ONLY, "empty_output",
     "no image, no text", 0),
    # OpenAI chat completions and their chunks.
    ("chat-message-images", LEGACY, 200, CHAT_MESSAGE_IMAGES, "success", "image delivered", 1),
    ("chat-stream-delta-images", LEGACY, 200, CHAT_STREAM_DELTA_IMAGES, "success", "image delivered", 1),
    ("chat-markdown-data-url", PRO, 200, CHAT_MARKDOWN_DATA_URL, "success", "image delivered", 1),
    ("chat-image-url-item-https", PRO, 200, CHAT_IMAGE_URL_ITEM, "success", "image delivered", 1),
    ("chat-whole-reply-is-the-address", PRO, 200, CHAT_WHOLE_URL, "success", "image URL as the whole reply", 1),
    ("chat-stream-dots-then-address", PRO, 200,
     [{"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "..."}}]},
      {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "."}}]},
      {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {
          "content": "\nhttps://cdn.example.com/gen/2026/10/20/abc123.png"}, "finish_reason": "stop"}]}],
     "success", "image URL as the whole reply", 1),
    ("chat-long-text-then-address-is-text", PRO, 200,
     {"object": "chat.completion", "choices": [{"index": 0, "finish_reason": "stop", "message": {
         "content": "I can't create that image. Please read https://policies.google.com/terms"}}]},
     "text_refusal", None, 0),
    # Gemini shapes with the image in text, and wrapped.
    ("gemini-balance-markdown-link", PRO, 200, GEMINI_BALANCE_LINK, "success", "image URL in markdown", 1),
    ("gemini-text-part-whole-address", PRO, 200,
     {"candidates": [{"content": {"parts": [{"text": " https://img.example.org/a/b.webp "}]}, "finishReason": "STOP"}]},
     "success", "image URL as the whole reply", 1),
    ("gemini-thought-text-data-url-is-a-draft", PRO, 200,
     {"candidates": [{"content": {"parts": [{"text": f"![d](data:image/png;base64,{B64})", "thought": True},
                                            {"text": "I can't finish this one."}]}, "finishReason": "STOP"}]},
     "text_refusal", None, 0),
    ("gemini-thought-draft-then-the-address", PRO, 200,
     {"candidates": [{"content": {"parts": [
         {"inlineData": {"mimeType": "image/png", "data": B64}, "thought": True},
         {"text": "https://img.example.org/final.png"}]}, "finishReason": "STOP"}]},
     "success", "image URL as the whole reply", 1),
    ("gemini-inline-image-and-a-link", PRO, 200,
     {"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "image/png", "data": B64}},
                                            {"text": "https://example.com/more"}]}, "finishReason": "STOP"}]},
     "success", "image delivered", 1),
    ("code-assist-wrapped-image", PRO, 200, CODE_ASSIST_IMAGE, "success", "image delivered", 1),
    ("code-assist-wrapped-safety", PRO, 200, CODE_ASSIST_SAFETY, "image_blocked", "finishReason=IMAGE_SAFETY", 0),
    # Bodies of no known shape.
    ("python-repr-logged", PRO, 200,
     ("GenerateContentResponse(candidates=[Candidate(content=Content(parts=[Part(inline_data=Blob("
     "data=b'\\x89PNG...', mime_type='image/png'))], role='model'), finish_reason=<FinishReason.STOP: 'STOP'>)])"),
     "other_error", "response shape not recognised", 0),
    ("python-dict-repr-logged", PRO, 200, "{'candidates': [{'content': {'parts': [{'text': 'hi'}]}}]}",
     "other_error", "response shape not recognised", 0),
    ("unknown-object", PRO, 200, {"status": "ok", "result": {"url": "https://x/y.png"}}, "other_error",
     "response shape not recognised", 0),
    ("unknown-list", PRO, 200, [{"foo": 1}, {"bar": 2}], "other_error", "response shape not recognised", 0),
    ("responses-stream-events-unwrapped", NB2, 200,
     [{"type": "response.created", "response": {"object": "response", "status": "in_progress", "output": []}},
      {"type": "response.completed", "response": RESPONSES_IMAGE_TOOL}], "success", "image_generation_call result", 1),
    # Replicate's predictions answer with an output of addresses: not a Responses body
    # (replicate.com docs, "Get a prediction").
    ("replicate-output-is-no-known-shape", PRO, 200,
     {"id": "gm3qorzdhgbfurvjtvhg6dckhu", "status": "succeeded", "version": "5c7d5dc6dd8bf75c",
      "output": ["https://replicate.delivery/pbxt/abc/out-0.png"]},
     "other_error", "response shape not recognised", 0),
    ("data-of-strings-is-no-known-shape", PRO, 200, {"data": ["aGVsbG8="]}, "other_error",
     "response shape not recognised", 0),
    ("responses-stream-cut-before-its-end-is-unread", NB2, 200,
     [{"type": "response.created", "sequence_number": 0,
       "response": {"object": "response", "status": "in_progress", "output": []}},
      {"type": "response.output_item.added", "sequence_number": 1, "output_index": 0,
       "item": {"type": "image_generation_call", "id": "ig_1", "status": "in_progress"}}],
     "other_error", "response shape not recognised", 0),
    ("known-shape-with-nothing-candidates-null", PRO, 200, {"candidates": None}, "empty_output", None, 0),
    ("known-shape-with-nothing-choices-empty", PRO, 200, {"choices": []}, "empty_output", None, 0),
    ("unknown-shape-of-a-text-model", TEXT_MODEL, 200, {"result": "ok"}, "success", None, 0),
    ("unknown-shape-with-error-status", PRO, 503, {"result": "busy"}, "overloaded", "HTTP 503", 0),
    # Relays.
    ("gemini-cli-wrapped-upstream", PRO, 429, GEMINI_CLI_WRAPPED, "rate_limited",
     "upstream HTTP 429 RESOURCE_EXHAUSTED", 0),
    ("gemini-cli-wrapped-upstream-under-500", PRO, 500, GEMINI_CLI_WRAPPED, "rate_limited", None, 0),
    ("relay-upstream-status-401", PRO, 502, RELAY_UPSTREAM_401, "auth_error", "upstream HTTP 401", 0),
    ("relay-upstream-status-429", PRO, 429, RELAY_UPSTREAM_RATE, "rate_limited", "upstream HTTP 429", 0),
    ("relay-upstream-response-error-code", PRO, 502,
     {"error": {"message": "bad response", "code": 502,
                "upstreamResponse": {"error": {"code": 503, "message": "The model is overloaded.",
                                               "status": "UNAVAILABLE"}}}},
     "overloaded", "upstream HTTP 503 UNAVAILABLE", 0),
    ("relay-upstream-response-as-json-text", PRO, 502,
     {"error": {"code": 502, "upstream_response": json.dumps({"error": {"code": 504, "status": "DEADLINE_EXCEEDED"}})}},
     "timeout", "upstream HTTP 504 DEADLINE_EXCEEDED", 0),
    ("relay-upstream-status-word-only", PRO, 502,
     {"error": {"code": 502, "upstreamResponse": {"error": {"status": "RESOURCE_EXHAUSTED"}}}},
     "rate_limited", "upstream error.status=RESOURCE_EXHAUSTED", 0),
    ("relay-upstream-api-key-invalid", PRO, 502,
     {"error": {"code": 502, "upstreamResponse": {"error": {"code": 400, "details": [
         {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}]}}}},
     "auth_error", "ErrorInfo reason=API_KEY_INVALID", 0),
    ("relay-upstream-beside-its-error", PRO, 502,
     {"error": {"code": 502, "message": "bad gateway"},
      "upstreamResponse": {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}},
     "rate_limited", "upstream HTTP 429 RESOURCE_EXHAUSTED", 0),
    ("relay-upstream-2xx-is-not-an-upstream-error", PRO, 502, {"error": {"code": 502, "upstreamStatus": 200}},
     "server_error", "HTTP 502", 0),
    # SDK exception texts as the response.
    ("api-core-resource-exhausted", PRO, None,
     "google.api_core.exceptions.ResourceExhausted: 429 Resource has been exhausted (e.g. check quota).",
     "rate_limited", "HTTP 429", 0),
]


@pytest.mark.parametrize(
    "model,http_status,response,category,reason,images",
    [pytest.param(*case[1:], id=case[0]) for case in SHAPE_CASES],
)
def test_real_shape(model, http_status, response, category, reason, images):
    verdict, facts = classify_call(model=model, http_status=http_status, response=response)
    assert verdict.category == category, verdict.reason
    if reason is not None:
        assert verdict.reason == reason
    assert facts.images == images
    assert facts == read_response(response, http_status=http_status)


def test_shape_case_ids_are_unique():
    ids = [case[0] for case in SHAPE_CASES]
    assert len(ids) == len(set(ids))


# ---------------------------------------------------------------------------
# Facts of the new shapes
# ---------------------------------------------------------------------------

def test_facts_of_an_adk_run():
    facts = read_response(ADK_RUN_IMAGE, http_status=200)
    assert (facts.shape, facts.images, facts.drafts, facts.finish_reason) == ("events", 1, 0, "STOP")
    assert (facts.prompt_tokens, facts.output_tokens, facts.total_tokens, facts.image_tokens) == (
        615, 1290, 1905, 1290)


def test_facts_of_an_adk_error_event():
    facts = read_response([adk_error_event("IMAGE_OTHER", NO_CHARGE_MESSAGE)])
    assert (facts.finish_reason, facts.finish_message, facts.thoughts_tokens) == (
        "IMAGE_OTHER", NO_CHARGE_MESSAGE, 240)


def test_the_last_event_with_a_finish_and_usage_holds():
    events = [{"content": {"parts": [{"text": "Drawing "}]}, "author": "a", "finishReason": "OTHER",
               "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 2}},
              {"content": {"parts": [{"text": "it now."}]}, "author": "a", "finish_reason": "STOP",
               "usage_metadata": {"prompt_token_count": 5, "candidates_token_count": 9}}]
    verdict, facts = classify_call(model=PRO, http_status=200, response=events)
    assert (verdict.category, facts.finish_reason, facts.output_tokens, facts.has_text) == (
        "text_refusal", "STOP", 9, True)


def test_facts_of_a_responses_body():
    facts = read_response(RESPONSES_TEXT)
    assert (facts.shape, facts.prompt_tokens, facts.output_tokens, facts.thoughts_tokens, facts.total_tokens) == (
        "responses", 9, 10, 0, 19)
    assert (facts.finish_reason, facts.has_text, facts.images) == ("completed", True, 0)
    assert read_response(RESPONSES_MAX_TOKENS).finish_reason == "max_output_tokens"
    assert read_response(RESPONSES_IMAGE_TOOL).has_text is False  # an empty output_text is no text


def test_facts_of_an_images_api_body():
    facts = read_response(IMAGES_B64)
    assert (facts.shape, facts.images, facts.prompt_tokens, facts.output_tokens, facts.total_tokens) == (
        "images", 1, 50, 50, 100)
    two = {"created": 1, "data": [{"b64_json": B64}, {"b64_json": B64}]}
    assert (read_response(two).images, read_response(two).drafts) == (1, 1)


def test_facts_of_a_stream_with_delta_images():
    facts = read_response(CHAT_STREAM_DELTA_IMAGES)
    assert (facts.shape, facts.images, facts.has_text, facts.finish_reason, facts.output_tokens) == (
        "chat", 1, False, "stop", 1290)


def test_an_image_in_text_is_not_text():
    assert read_response(CHAT_MARKDOWN_DATA_URL).has_text is True  # "Here's a red apple!" stays
    assert read_response(GEMINI_BALANCE_LINK).has_text is False
    assert read_response(CHAT_WHOLE_URL).has_text is False


def test_shape_names():
    assert read_response(None).shape == "none"
    assert read_response("503 UNAVAILABLE").shape == "text"
    assert read_response({"error": {"code": 500}}).shape == "error"
    assert read_response({}).shape == read_response([]).shape == "empty"
    assert read_response({"foo": 1}).shape == "unknown"
    assert read_response(CODE_ASSIST_IMAGE).shape == "gemini"


def test_shape_is_not_a_compared_fact():
    assert read_response({}) == read_response({"foo": 1})


@pytest.mark.parametrize("response,signal", [
    ({"object": "response", "output": [{"type": "image_generation_call", "result": 1398}]},
     "image_generation_call result"),
    ({"created": 1, "data": [{"b64_json": 1398}]}, "Images API data[].b64_json"),
    ({"candidates": [{"content": {"parts": [{"text": "![image](data:image/png;base64,<1398 chars elided>)"}]},
                      "finishReason": "STOP"}]}, "data:image URL in a text part"),
    ({"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "image/png", "data": 1398}}]}}]},
     "image delivered"),
])
def test_a_stored_response_with_its_image_data_elided_still_holds_the_image(response, signal):
    # The ingest stores responses with image data replaced by its length (or elided in a
    # data URL); reclassifying a stored call must still see the image.
    assert classify_call(model=PRO, http_status=200, response=response)[0] == Verdict("success", signal)


# ---------------------------------------------------------------------------
# SDK exception texts and status words
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("text,category,reason", [
    # google.api_core (DeependraVerma/AI-Lecture-Transcriber... issue 1).
    ("google.api_core.exceptions.ResourceExhausted: 429 Resource has been exhausted (e.g. check quota).",
     "rate_limited", "HTTP 429"),
    ("ResourceExhausted: 429 Quota exceeded for quota metric 'Generate Content API requests per minute'",
     "rate_limited", "HTTP 429"),
    # google.api_core PermissionDenied, seen in READMEs' troubleshooting tables.
    ("google.api_core.exceptions.PermissionDenied: 403 API key not valid", "auth_error", "HTTP 403"),
    ("DeadlineExceeded: 504 Deadline Exceeded", "timeout", "HTTP 504"),
    (("InternalServerError: 500 An internal error has occurred. Please retry or report in "
     "https://developers.generativeai.google/guide/troubleshooting"), "server_error", "HTTP 500"),
    # Spring's client exception name, with '$'.
    ("org.springframework.web.client.HttpServerErrorException$ServiceUnavailable: 503 Service Unavailable",
     "overloaded", "HTTP 503"),
    # The last line of a traceback opens the text too.
    (('Traceback (most recent call last):\n  File "app.py", line 98, in generate_notes\n'
     "    response = model.generate_content(prompt)\n"
     "google.api_core.exceptions.ResourceExhausted: 429 Resource has been exhausted (e.g. check quota)."),
     "rate_limited", "HTTP 429"),
    # grpc's own text (google/generative-ai-docs issue 438).
    (("grpc._channel._InactiveRpcError: <_InactiveRpcError of RPC that terminated with:\n"
     "\tstatus = StatusCode.RESOURCE_EXHAUSTED\n\tdetails = \"Resource has been exhausted (e.g. check quota).\""),
     "rate_limited", "error text: RESOURCE_EXHAUSTED"),
    # google.genai (taxonomy.md).
    (("429 RESOURCE_EXHAUSTED. {'error': {'code': 429, 'message': 'Resource exhausted.', "
     "'status': 'RESOURCE_EXHAUSTED'}}"), "rate_limited", "HTTP 429 RESOURCE_EXHAUSTED"),
    # Class names alone are status words, whole words, any case.
    ("ResourceExhausted", "rate_limited", "error text: ResourceExhausted"),
    ("google.api_core.exceptions.TooManyRequests", "rate_limited", "error text: TooManyRequests"),
    ("raised ServiceUnavailable while reading", "overloaded", "error text: ServiceUnavailable"),
    ("google.api_core.exceptions.DEADLINEEXCEEDED", "timeout", "error text: DeadlineExceeded"),
    ("InternalServerError()", "server_error", "error text: InternalServerError"),
    ("InvalidArgument", "bad_request", "error text: InvalidArgument"),
    ("FailedPrecondition: User location is not supported", "bad_request", "error text: FailedPrecondition"),
    ("models/x is NotFound", "bad_request", "error text: NotFound"),
    ("httpx BadRequest", "bad_request", "error text: BadRequest"),
    ("PermissionDenied", "auth_error", "error text: PermissionDenied"),
    ("unauthenticated request", "auth_error", "error text: UNAUTHENTICATED"),
    ("Unauthorized", "auth_error", "error text: Unauthorized"),
    ("forbidden", "auth_error", "error text: Forbidden"),
    ("request failed: Service Unavailable", "overloaded", "error text: UNAVAILABLE"),
    ("httpx.ConnectTimeout", "timeout", "error text: TIMEOUT"),
    ("TimeoutError: the read took too long", "timeout", "error text: TIMEOUT"),
    # Not whole words: no status.
    ("too many timeouts", "other_error", "error text without a status"),
    ("notimeout", "other_error", "error text without a status"),
    ("RESOURCE_EXHAUSTEDNESS", "other_error", "error text without a status"),
    ("NotFoundation", "other_error", "error text without a status"),
    ("xForbidden", "other_error", "error text without a status"),
    ("UNAVAILABLE_SOON", "other_error", "error text without a status"),
    # A class-name colon only counts at the start of a line, and lower-case words are no class.
    ("Error generating content: 429 Quota exceeded", "other_error", "error text without a status"),
])
def test_sdk_error_text(text, category, reason):
    assert classify_error_text(text) == Verdict(category, reason)


def test_sdk_texts_as_a_response_and_as_export_details():
    text = "google.api_core.exceptions.ServiceUnavailable: 503 The model is overloaded."
    verdict, facts = classify_call(model=PRO, response=text)
    assert (verdict.category, facts.http_status) == ("overloaded", 503)
    assert classify_export_row(log_type="错误", model=PRO, output_tokens=0, details=text).category == "overloaded"
    assert classify_call(model=PRO, response=None, client_error="DeadlineExceeded")[0].category == "other_error"


def test_a_2xx_text_with_a_status_is_still_an_error():
    assert classify_call(model=PRO, http_status=200, response="ResourceExhausted: 429 quota")[0] == Verdict(
        "rate_limited", "HTTP 429")
    assert classify_call(model=PRO, http_status=None, response="all good")[0] == Verdict(
        "other_error", "error text without a status")


# ---------------------------------------------------------------------------
# Property tests: any JSON-ish input gives one valid category and never raises
# ---------------------------------------------------------------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**6, max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["STOP", "IMAGE_SAFETY", "IMAGE_OTHER", "UNKNOWN_ERROR", "image/png", "user", "model",
                     f"data:image/png;base64,{B64[:8]}", f"![i](data:image/png;base64,{B64[:8]})",
                     "![i](https://x.example/a.png)", "https://x.example/a.png", "...", "You will not be charged",
                     "429", "502", "response", "image_generation_call", "message", "output_text", "refusal",
                     "content_filter", "incomplete", "completed", "ResourceExhausted: 429 x", '{"error": {"code": 429}}']),
)
SHAPE_KEYS = [
    # events
    "content", "parts", "role", "author", "invocationId", "finishReason", "finish_reason", "errorCode",
    "errorMessage", "usageMetadata", "usage_metadata", "inlineData", "mimeType", "data", "text", "thought",
    "partial",
    # Responses and Images API
    "object", "output", "type", "result", "status", "incomplete_details", "reason", "usage", "input_tokens",
    "output_tokens", "output_tokens_details", "b64_json", "url", "revised_prompt", "response",
    # chat and errors
    "choices", "delta", "message", "images", "image_url", "candidates", "error", "code", "upstreamStatus",
    "upstreamResponse", "upstream_response", "details",
]
shaped = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.sampled_from(SHAPE_KEYS), children, max_size=5)),
    max_leaves=30,
)
any_response = st.one_of(shaped, shaped.map(json.dumps), st.lists(shaped, max_size=3))
models = st.one_of(st.none(), st.sampled_from([PRO, NB2, LEGACY, TEXT_MODEL, "", "x-image"]), st.text(max_size=8))
statuses = st.one_of(st.none(), st.sampled_from([0, 200, 204, 429, 500, 502, 503, "200", -5, 10**9]), scalars)
PROPERTY = hyp_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _valid(verdict):
    return isinstance(verdict, Verdict) and verdict.category in CATEGORIES and bool(verdict.reason)


@PROPERTY
@given(response=any_response, model=models, http_status=statuses, client_error=st.one_of(scalars, shaped))
def test_classify_call_gives_one_category(response, model, http_status, client_error):
    verdict, facts = classify_call(model=model, http_status=http_status, response=response,
                                   client_error=client_error)
    assert _valid(verdict)
    assert facts == read_response(response, http_status=http_status, client_error=client_error)
    assert facts.images >= 0 and facts.drafts >= 0 and isinstance(facts.shape, str)
    if model in (PRO, NB2, LEGACY, "", None):
        # For an image model only a delivered image is a success.
        assert verdict.category != "success" or facts.images > 0


@PROPERTY
@given(response=any_response, http_status=statuses, client_error=st.one_of(scalars, shaped))
def test_read_response_never_raises(response, http_status, client_error):
    facts = read_response(response, http_status=http_status, client_error=client_error)
    assert isinstance(facts, Facts) and len(facts.error_text) <= 2000
    for name in ("http_status", "prompt_tokens", "output_tokens", "thoughts_tokens", "total_tokens", "image_tokens"):
        assert getattr(facts, name) is None or type(getattr(facts, name)) is int


@PROPERTY
@given(text=st.one_of(scalars, shaped, st.text(max_size=120),
                      st.lists(st.sampled_from(["ResourceExhausted", ": ", "429", "\n", "status", "=", " ",
                                                "NotFound", "google.api_core.exceptions.", "Timeout", "<html>"]),
                               max_size=8).map("".join)))
def test_classify_error_text_gives_one_category(text):
    assert _valid(classify_error_text(text))


@PROPERTY
@given(log_type=st.one_of(scalars, st.sampled_from(["consume", "error", "消费", "错误", "2", "5"])),
       model=models, output_tokens=st.one_of(scalars, shaped), details=st.one_of(scalars, shaped))
def test_classify_export_row_gives_one_category(log_type, model, output_tokens, details):
    assert _valid(classify_export_row(log_type=log_type, model=model, output_tokens=output_tokens,
                                      details=details))


@PROPERTY
@given(values=st.fixed_dictionaries({
    "model": models, "http_status": statuses, "finish_reason": st.one_of(scalars, shaped),
    "block_reason": st.one_of(scalars, shaped), "finish_message": st.one_of(scalars, shaped),
    "output_tokens": st.one_of(scalars, shaped), "images": st.one_of(scalars, shaped),
}))
def test_classify_local_row_gives_one_category(values):
    assert _valid(classify_local_row(**values))
