"""Format A from a file: what the push API's cases do not cover (encoding, the reader's own entry)."""
import io
import json

import pytest

from logs.models import Call
from logs.parsers import Record, Rejected, iter_envelopes
from logs.services.ingest import calls_ingest
from logs.timeutil import billing_tz

PRO = "gemini-3-pro-image-preview"


def _env(rid, **kw):
    return {"request_id": rid, "created_at": "2026-10-03T09:00:00+08:00", "customer": "acme", "model": PRO,
            "http_status": 429, "response": {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}, **kw}


@pytest.mark.django_db
def test_a_line_of_other_bytes_after_64_kb_is_rejected_not_stored_garbled():
    lines = [json.dumps(_env(f"good-{i}", error="配额已用完"), ensure_ascii=False).encode() for i in range(1, 501)]
    assert sum(len(line) + 1 for line in lines) > 65536
    bad = json.dumps(_env("gbk-1", error="模型价格"), ensure_ascii=False).encode().replace(
        "模型价格".encode(), "模型价格".encode("gbk"))
    body = b"\n".join(lines[:450] + [bad] + lines[450:]) + b"\n"
    s = calls_ingest(source=body).summary()
    assert s["inserted"] == 500
    assert [r["line"] for r in s["rejected"]] == [451] and "UTF-8" in s["rejected"][0]["reason"]
    assert not Call.objects.filter(request_id="gbk-1").exists()
    assert not Call.objects.filter(error_text__contains="\ufffd").exists()


def test_a_deep_envelope_in_a_stream_costs_only_its_line():
    body = "\n".join([json.dumps(_env("a")), '{"x": ' + "[" * 3000 + "]" * 3000 + "}", json.dumps(_env("b"))])
    items = list(iter_envelopes(io.BytesIO(body.encode()), tz=billing_tz(), customer_slug=None))
    assert [type(i) for i in items] == [Record, Rejected, Record]
    assert items[1] == Rejected(2, "JSON nested deeper than 100 levels")


def test_nesting_up_to_the_limit_is_kept():
    env = _env("deep", response={"error": {"code": 429}, "detail": json.loads("[" * 97 + "]" * 97)})
    items = list(iter_envelopes(io.BytesIO(json.dumps(env).encode()), tz=billing_tz(),
                                customer_slug=None))
    assert [type(i) for i in items] == [Record]


def test_images_of_the_openai_shapes_are_stored_as_their_length():
    from logs.classify import classify_call
    from logs.parsers import elide_images

    b64 = "iVBORw0KGgo" + "A" * 5000
    responses = {"object": "response", "status": "completed",
                 "output": [{"type": "image_generation_call", "status": "completed", "result": b64}]}
    images = {"created": 1, "data": [{"b64_json": b64, "revised_prompt": "a cat"}]}
    for body in (responses, images):
        stored = elide_images(body)
        text = str(stored)
        assert "AAAA" not in text and "5011" in text
        verdict, _ = classify_call(model="gpt-image-1", http_status=200, response=stored)
        assert verdict.category == "success"
    assert elide_images({"type": "message", "result": "kept"}) == {"type": "message", "result": "kept"}
