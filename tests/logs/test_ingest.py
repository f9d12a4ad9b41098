"""Ingest of formats A and B: every fixture's expected result, and every row accounted for."""
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from logs.models import Call, Customer, HourlyRollup, IngestConflict
from logs.parsers import InputError
from logs.services.ingest import calls_ingest

pytestmark = pytest.mark.django_db


def _accounted(s):
    return s["inserted"] + s["duplicates"] + s["conflicts"] + s["skipped"] + len(s["rejected"])


def test_calls_fixture_gets_every_expected_category(fixtures_dir, expected):
    batch = calls_ingest(source=fixtures_dir / "calls.ndjson")
    s = batch.summary()
    assert s["rows"] == expected["calls.ndjson"]["rows"] == _accounted(s)
    assert s["inserted"] == expected["calls.ndjson"]["inserted"]
    assert s["categories"] == expected["calls.ndjson"]["categories"]
    for line in (fixtures_dir / "calls.ndjson").read_text().splitlines():
        env = json.loads(line)
        call = Call.objects.get(request_id=env["request_id"])
        assert call.category == env["expected_category"], env["request_id"]
        if "expected_drafts" in env:
            assert call.drafts == env["expected_drafts"]
        assert call.reason


@pytest.mark.parametrize("name", ["gateway_export_zh.csv", "gateway_export_en.xlsx"])
def test_gateway_fixtures_match_expected(fixtures_dir, expected, name):
    exp = expected[name]
    s = calls_ingest(source=fixtures_dir / name).summary()
    assert s["format"] == "gateway"
    assert s["rows"] == exp["rows"] == _accounted(s)
    for key in ("inserted", "duplicates", "conflicts", "skipped"):
        assert s[key] == exp[key], key
    assert [r["line"] for r in s["rejected"]] == exp["rejected"]
    assert s["categories"] == exp["categories"]
    for rid, cat in exp["by_request_id"].items():
        assert Call.objects.get(request_id=rid).category == cat, rid


def test_rejected_lines_say_why(fixtures_dir):
    s = calls_ingest(source=fixtures_dir / "gateway_export_zh.csv").summary()
    reasons = {r["line"]: r["reason"] for r in s["rejected"]}
    assert "2026-13-45 25:00:00" in reasons[16] and "time" in reasons[16]
    assert "'abc'" in reasons[17] and "integer" in reasons[17]


def test_ingesting_twice_inserts_nothing_the_second_time(fixtures_dir):
    first = calls_ingest(source=fixtures_dir / "gateway_export_zh.csv").summary()
    n = Call.objects.count()
    again = calls_ingest(source=fixtures_dir / "gateway_export_zh.csv").summary()
    assert again["inserted"] == 0
    assert again["duplicates"] == first["inserted"] + first["duplicates"]
    assert Call.objects.count() == n


def test_quota_column_and_month_boundaries(fixtures_dir):
    calls_ingest(source=fixtures_dir / "gateway_export_en.xlsx")
    assert Call.objects.get(request_id="en-0002").charged_usd == Decimal("0.050000")
    calls_ingest(source=fixtures_dir / "gateway_export_zh.csv")
    oct_end = Call.objects.get(request_id="gw-0014").created_at
    nov_start = Call.objects.get(request_id="gw-0015").created_at
    assert oct_end.isoformat() == "2026-10-31T15:59:59+00:00"  # 23:59:59 UTC+8, stored in UTC
    assert nov_start.isoformat() == "2026-10-31T16:00:00+00:00"
    assert Call.objects.get(request_id="gw-0014").charged_usd == Decimal("0.05")  # ＄0.05


def test_unknown_customers_are_created_not_enrolled(fixtures_dir):
    s = calls_ingest(source=fixtures_dir / "calls.ndjson").summary()
    assert s["customers_created"] == ["acme"]
    assert Customer.objects.get(slug="acme").enrolled_from is None


def test_image_data_is_elided_but_images_counted(fixtures_dir):
    calls_ingest(source=fixtures_dir / "calls.ndjson")
    call = Call.objects.get(request_id="pub-0001")
    parts = call.response["candidates"][0]["content"]["parts"]
    assert all(isinstance(p["inlineData"]["data"], int) for p in parts if "inlineData" in p)
    assert call.images == 1 and call.drafts == 1


def test_expected_charge_from_catalog(fixtures_dir):
    calls_ingest(source=fixtures_dir / "calls.ndjson")
    pro = Call.objects.get(request_id="pub-0001")
    assert (pro.billing_mode, pro.expected_usd) == ("per_request", Decimal("0.050000"))
    err = Call.objects.get(request_id="pub-0021")
    assert err.expected_usd == Decimal("0")
    nb2 = Call.objects.get(request_id="pub-0002")  # 10 in x $0.5/M + 1120 img x $60/M + 272 text x $3/M
    assert nb2.billing_mode == "per_token" and nb2.expected_usd == Decimal("0.068021")
    free = Call.objects.get(request_id="pub-0009")
    assert free.expected_usd == Decimal("0")


def test_rollups_follow_ingest(fixtures_dir):
    calls_ingest(source=fixtures_dir / "calls.ndjson")
    assert sum(HourlyRollup.objects.values_list("calls", flat=True)) == 32


def test_conflict_keeps_the_incoming_record_whole(fixtures_dir):
    s = calls_ingest(source=fixtures_dir / "recon_platform_zh.csv").summary()
    assert (s["inserted"], s["conflicts"]) == (8, 1)
    conflict = IngestConflict.objects.get()
    assert conflict.request_id == "rc-09"
    assert conflict.differences == ["created_at"]
    assert conflict.record["time"] == "2026-10-10 12:09:30"
    stored = Call.objects.get(request_id="rc-09")
    assert stored.created_at.isoformat() == "2026-10-10T04:09:00+00:00"  # unchanged


def test_duplicate_fills_in_and_raw_response_decides(settings):
    export = ("时间,请求ID,用户,令牌,类型,模型,补全,花费\n"
              "2026-10-03 09:16:40,x-1,acme,prod,消费,gemini-3-pro-image-preview,,$0.05\n").encode()
    s1 = calls_ingest(source=export).summary()
    assert s1["categories"] == {"empty_output": 1}
    env = {"request_id": "x-1", "created_at": "2026-10-03T09:16:40+08:00", "customer": "acme",
           "model": "gemini-3-pro-image-preview", "http_status": 200, "latency_ms": 4000,
           "response": {"candidates": [{"content": {"parts": []}, "finishReason": "IMAGE_SAFETY"}]}}
    s2 = calls_ingest(source=json.dumps(env).encode()).summary()
    assert (s2["inserted"], s2["duplicates"], s2["conflicts"]) == (0, 1, 0)
    call = Call.objects.get(request_id="x-1")
    assert call.category == "image_blocked"  # the raw response decides over the export columns
    assert call.latency_ms == 4000 and call.http_status == 200 and call.token_name == "prod"


def test_amounts_compare_as_values():
    a = "Time,Request ID,User,Type,Model,Completion,Cost\n2026-10-03 09:00:00,q-1,acme,consume,gemini-3-pro-image,1120,$0.050000\n"
    b = "Time,Request ID,User,Type,Model,Completion,Quota\n2026-10-03 09:00:00,q-1,acme,consume,gemini-3-pro-image,1120,25000\n"
    calls_ingest(source=a.encode())
    s = calls_ingest(source=b.encode()).summary()
    assert (s["duplicates"], s["conflicts"]) == (1, 0)


def test_blank_lines_and_broken_quote_keep_line_numbers():
    text = ("Time,Request ID,User,Type,Model,Completion,Cost,Details\n"
            "2026-10-03 09:00:00,b-1,acme,consume,gemini-3-pro-image,1120,0.05,ok\n"
            "\n"
            '2026-10-03 09:01:00,b-2,acme,consume,gemini-3-pro-image,1120,0.05,"broken\n'
            "2026-10-03 09:02:00,b-3,acme,consume,gemini-3-pro-image,1120,0.05,ok\n"
            '2026-10-03 09:03:00,b-4,acme,error,gemini-3-pro-image,0,0,"status_code=429, quota ""x"""\n')
    s = calls_ingest(source=text.encode()).summary()
    assert s["rejected"] == [{"line": 4, "reason": "broken quote: the record does not parse as CSV"}]
    assert s["inserted"] == 3
    assert Call.objects.get(request_id="b-4").category == "rate_limited"
    assert s["rows"] == _accounted(s)


def test_multiline_quoted_details_are_one_record():
    text = ("Time,Request ID,User,Type,Model,Completion,Cost,Details\n"
            '2026-10-03 09:00:00,m-1,acme,error,gemini-3-pro-image,0,0,"line one\nHTTP 503 overloaded"\n'
            "2026-10-03 09:02:00,m-2,acme,consume,gemini-3-pro-image,1120,0.05,ok\n")
    s = calls_ingest(source=text.encode()).summary()
    assert s["inserted"] == 2 and not s["rejected"]
    assert Call.objects.get(request_id="m-1").category == "overloaded"


def test_missing_request_ids_get_a_composite_key_and_a_note():
    text = ("时间,用户,令牌,类型,模型,补全,花费\n"
            "2026-10-03 09:00:00,acme,web,消费,gemini-3-pro-image,1120,$0.05\n"
            "2026-10-03 09:00:01,acme,web,消费,gemini-3-pro-image,1120,$0.05\n")
    s1 = calls_ingest(source=text.encode()).summary()
    assert s1["inserted"] == 2 and "no request ID" in s1["notes"][0]
    s2 = calls_ingest(source=text.encode()).summary()
    assert s2["inserted"] == 0 and s2["duplicates"] == 2


def test_non_call_rows_are_skipped_whatever_they_hold():
    text = ("Time,Type,Model,Cost\n2026-10-03 09:00:00,topup,,100\n2026-10-03 09:00:00,4,,\n"
            "2026-10-03 09:00:00,refund,,abc\n")
    s = calls_ingest(source=text.encode(), customer=Customer.objects.create(slug="acme")).summary()
    assert s["skipped"] == 3 and s["inserted"] == 0 and not s["rejected"]


@pytest.mark.parametrize("body,message", [
    (b"\x00\x01\x02binary", "binary"),
    (b"name,age\nbob,3\n", "no known header"),
    (b"", "empty"),
])
def test_a_file_of_the_wrong_kind_is_refused_whole(body, message):
    with pytest.raises(InputError, match=message):
        calls_ingest(source=body)
    assert Call.objects.count() == 0


def test_declared_format_must_match(fixtures_dir):
    with pytest.raises(InputError, match="declared format 'calls'"):
        calls_ingest(source=fixtures_dir / "gateway_export_zh.csv", fmt="calls")


def test_bad_envelopes_are_rejected_with_line_and_reason():
    lines = [
        json.dumps({"request_id": "e-1", "created_at": "2026-10-03T09:00:00+08:00", "customer": "acme",
                    "model": "gemini-3-pro-image", "http_status": 429, "response": {"error": {"code": 429}}}),
        "{not json",
        "",
        json.dumps({"created_at": "2026-10-03T09:00:00", "customer": "acme", "model": "m"}),
        json.dumps({"request_id": "e-3", "created_at": 1790000000, "customer": "acme", "model": "gemini-3-pro-image",
                    "http_status": "abc"}),
        json.dumps({"request_id": "e-4", "created_at": 1790000000.5, "customer": "acme",
                    "model": "gemini-3-pro-image", "charged_usd": "lots"}),
        json.dumps({"request_id": "e-5", "created_at": "2026-10-03 09:00:00", "customer": "acme",
                    "model": "gpt-4o-mini", "http_status": 200, "response": {"choices": []}}),
    ]
    s = calls_ingest(source="\n".join(lines).encode()).summary()
    got = {r["line"]: r["reason"] for r in s["rejected"]}
    assert set(got) == {2, 4, 5, 6}
    assert "invalid JSON" in got[2]
    assert "request_id" in got[4]
    assert "http_status" in got[5] and "integer" in got[5]
    assert "charged_usd" in got[6]
    assert s["inserted"] == 2 and s["rows"] == _accounted(s)
    assert Call.objects.get(request_id="e-5").category == "success"  # a text model, 2xx


def test_naive_envelope_time_is_read_in_the_import_zone():
    env = {"request_id": "t-1", "created_at": "2026-10-03 09:00:00", "customer": "acme", "model": "m"}
    calls_ingest(source=json.dumps(env).encode(), tz="UTC")
    assert Call.objects.get().created_at.isoformat() == "2026-10-03T09:00:00+00:00"


def test_json_array_positions_are_lines():
    arr = [{"request_id": "a-1", "created_at": 1790000000, "customer": "acme", "model": "m"}, {"bad": 1}]
    s = calls_ingest(source=json.dumps(arr).encode()).summary()
    assert s["rejected"][0]["line"] == 2 and s["inserted"] == 1


def test_xlsx_with_chinese_headers_on_second_sheet():
    wb = Workbook()
    wb.active.title = "notes"
    wb.active.append(["just a note"])
    ws = wb.create_sheet("logs")
    ws.append([" 创建时间 ", "请求 ID", "用户名", "类型", "模型名称", "输出", "额度", "内容"])
    ws.append(["2026-10-03 09:00:00", "z-1", "acme", "消费", "gemini-3.1-flash-image", 500, 25000, "分组倍率 1.5"])
    buf = io.BytesIO()
    wb.save(buf)
    s = calls_ingest(source=buf.getvalue()).summary()
    assert s["inserted"] == 1
    call = Call.objects.get(request_id="z-1")
    assert call.category == "text_refusal"  # 500 < 700 for Nano Banana 2
    assert call.group_ratio == Decimal("1.5") and call.charged_usd == Decimal("0.05")


def test_prompt_is_fingerprinted_and_stored_only_if_configured(settings):
    env = {"request_id": "p-1", "created_at": 1790000000, "customer": "acme", "model": "m", "prompt": "A Cat!"}
    settings.NBAUDIT_STORE_PROMPTS = False
    calls_ingest(source=json.dumps(env).encode())
    call = Call.objects.get()
    assert call.prompt == "" and len(call.prompt_fingerprint) == 64


def test_ingest_command_json(fixtures_dir, capsys):
    call_command("ingest", str(fixtures_dir / "gateway_export_zh.csv"), "--json")
    out = json.loads(capsys.readouterr().out)
    assert {"rows", "inserted", "duplicates", "conflicts", "skipped", "rejected", "categories"} <= set(out)
    assert out["rejected"][0] == {"line": 16, "reason": out["rejected"][0]["reason"]}


def test_ingest_command_refuses_wrong_kind(tmp_path):
    p = tmp_path / "x.bin"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(CommandError, match="refused"):
        call_command("ingest", str(p))


def test_customer_command(capsys):
    call_command("customer", "acme", "--name", "Acme", "--enroll-from", "2026-05-10", "--topup-factor", "1.15",
                 "--add-user", "ann", "--password", "secret-123")
    c = Customer.objects.get(slug="acme")
    assert c.enrolled_from.isoformat() == "2026-05-10" and c.topup_factor == Decimal("1.15")
    assert c.users.get().username == "ann"
    call_command("customer", "acme", "--unenroll")
    assert Customer.objects.get(slug="acme").enrolled_from is None
