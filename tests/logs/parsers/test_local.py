"""Local logs in each accepted format, bad rows by line, the command, the Celery task."""
import csv
import io
import json

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from billing.models import Reconciliation
from billing.services.reconciliation import reconciliation_run, reconciliation_summary
from billing.tasks import reconciliation_task
from logs.parsers import LocalRow, Rejected, local_log_read

pytestmark = pytest.mark.django_db


@pytest.fixture
def expected(recon_expected):
    return recon_expected


@pytest.fixture
def acme(recon_platform):
    """acme, with the platform's export of the reconciliation fixture ingested."""
    return recon_platform[0]


def assert_fixture_result(recon, expected):
    summary = reconciliation_summary(reconciliation=recon)
    for key in ("from", "to", "local_rows", "platform_rows", "categories", "overcharged_usd",
                "undercharged_usd", "unmatched_charged_usd"):
        assert summary[key] == expected[key], key
    assert dict(recon.items.values_list("request_id", "category")) == expected["by_request_id"]


def fixture_rows(fixtures_dir):
    with open(fixtures_dir / "recon_local.csv", newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_flat_xlsx(acme, expected, fixtures_dir):
    rows = fixture_rows(fixtures_dir)
    wb = Workbook()
    ws = wb.active
    ws.append([h.upper() for h in rows[0]])  # headers are case-insensitive
    for row in rows[1:]:
        # typed cells, as a spreadsheet holds them
        ws.append([int(v) if v.isdigit() else v for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    recon = reconciliation_run(customer=acme, source=buf.getvalue(), filename="local.xlsx")
    assert recon.local_format == "xlsx"
    assert_fixture_result(recon, expected)


def _envelope(rid, at, model, status, response):
    return {"request_id": rid, "created_at": at, "model": model, "http_status": status, "response": response}


def _image(finish="STOP"):
    return {"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "image/png", "data": "aGVsbG8="}}]},
                            "finishReason": finish}],
            "usageMetadata": {"promptTokenCount": 20, "candidatesTokenCount": 1120, "totalTokenCount": 1140}}


def test_ndjson_envelopes(acme, expected):
    pro, nb2 = "gemini-3-pro-image-preview", "gemini-3.1-flash-image"
    refusal = {"candidates": [{"content": {"parts": [{"text": "I'm unable to help with this task."}]},
                               "finishReason": "STOP"}]}
    free = {"candidates": [{"content": {"parts": []}, "finishReason": "IMAGE_OTHER",
                            "finishMessage": "Unable to show the generated image. You will not be charged "
                                             "for this request."}]}
    envelopes = [
        _envelope("rc-01", "2026-10-10T12:01:00+08:00", pro, 200, _image()),
        _envelope("rc-02", "2026-10-10 12:02:00", pro, 200, refusal),  # naive: UTC+8
        _envelope("rc-03", 1791604980, pro, 503, {"error": {"code": 503, "status": "UNAVAILABLE"}}),
        _envelope("rc-05", "2026-10-10T04:05:00Z", pro, 200, _image()),
        _envelope("rc-06", "2026-10-10T12:06:00+08:00", pro, 429,
                  {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}),
        _envelope("rc-07", "2026-10-10T12:07:00+08:00", nb2, 200, free),
        _envelope("rc-08", "2026-10-10T12:08:00+08:00", pro, 200, _image()),
        _envelope("rc-09", "2026-10-10T12:09:00+08:00", pro, 200, _image()),
    ]
    body = "\n".join(json.dumps(e) for e in envelopes) + "\n"
    recon = reconciliation_run(customer=acme, source=body.encode(), filename="local.ndjson")
    assert recon.local_format == "ndjson"
    assert_fixture_result(recon, expected)


def test_ndjson_bad_lines_are_reported(acme):
    lines = [
        json.dumps(_envelope("rc-01", "2026-10-10T12:01:00+08:00", "gemini-3-pro-image-preview", 200, _image())),
        "{not json",
        "",
        json.dumps({"request_id": "rc-02", "model": "gemini-3-pro-image-preview"}),
        json.dumps({**_envelope("rc-05", "2026-10-10T12:05:00+08:00", "gemini-3-pro-image-preview", 200, _image()),
                    "customer": "globex"}),
    ]
    recon = reconciliation_run(customer=acme, source=("\n".join(lines) + "\n").encode())
    assert [r["line"] for r in recon.rejected] == [2, 4, 5]
    assert "invalid JSON" in recon.rejected[0]["reason"]
    assert "created_at" in recon.rejected[1]["reason"]
    assert "globex" in recon.rejected[2]["reason"]
    assert recon.local_rows == 1 and recon.status == "done"


def test_bad_flat_rows_are_reported_by_line_and_the_rest_go_on(acme):
    text = (
        "request_id,created_at,model,http_status,finish_reason,block_reason,finish_message,prompt_tokens,"
        "output_tokens,total_tokens,images,charged_usd\n"                                       # 1
        "rc-01,2026-10-10 12:01:00,gemini-3-pro-image-preview,200,STOP,,,20,1120,1140,1,\n"      # 2
        "rc-02,10/10/2026 noon,gemini-3-pro-image-preview,200,STOP,,,20,173,193,0,\n"            # 3
        "\n"                                                                                     # 4
        "rc-05,2026-10-10 12:05:00,gemini-3-pro-image-preview,OK,STOP,,,20,1120,1140,1,\n"       # 5
        ",2026-10-10 12:06:00,gemini-3-pro-image-preview,429,,,,0,0,0,0,\n"                      # 6
        'rc-07,2026-10-10 12:07:00,gemini-3.1-flash-image,200,IMAGE_OTHER,,"Unable to show.\n'  # 7
        'You will not be charged for this request.",600,0,600,0,\n'                              # 8
        "rc-08,2026-10-10 12:08:00,gemini-3-pro-image-preview,200,STOP,,,20,1120,1140,1,six cents\n"  # 9
        "rc-09,2026-10-10 12:09:00,gemini-3-pro-image-preview,200,STOP,,,20,1120,1140,1,$0.05\n"      # 10
        "rc-10,2026-10-10 12:10:00,gemini-3-pro-image-preview,200,STOP,,,x,1120,1140,1,\n"      # 11
    )
    recon = reconciliation_run(customer=acme, source=text.encode())
    by_line = {r["line"]: r["reason"] for r in recon.rejected}
    assert sorted(by_line) == [3, 5, 6, 9, 11]
    assert "created_at" in by_line[3] and "http_status" in by_line[5] and "request_id" in by_line[6]
    assert "charged_usd" in by_line[9] and "prompt_tokens" in by_line[11]
    assert recon.rejected_count == 5
    items = dict(recon.items.values_list("request_id", "local_line"))
    assert items["rc-01"] == 2 and items["rc-07"] == 7 and items["rc-09"] == 10
    assert recon.items.get(request_id="rc-07").category == "charged_but_free"
    assert recon.local_rows == 3


def test_broken_quote_is_a_bad_row_not_a_refusal():
    text = ("request_id,created_at\n"
            "a,2026-10-10 12:00:00\n"
            'b,"2026-10-10 12:00:00"x\n'
            "c,2026-10-10 12:00:00\n")
    items = list(local_log_read(text.encode()))
    assert [type(i) for i in items] == [LocalRow, Rejected, LocalRow]
    assert items[1].line == 3 and items[2].line == 4


def test_command_json(acme, expected, fixtures_dir, capsys):
    call_command("reconcile", str(fixtures_dir / expected["local"]), "--customer", "acme", "--json")
    data = json.loads(capsys.readouterr().out)
    for key in ("customer", "from", "to", "local_rows", "platform_rows", "categories", "overcharged_usd",
                "undercharged_usd", "unmatched_charged_usd"):
        assert data[key] == expected[key], key
    assert data["outside_period"] == 0 and data["rejected"] == []


def test_command_period_options_and_outside_rows(acme, fixtures_dir, capsys, tmp_path):
    path = tmp_path / "local.csv"
    text = (fixtures_dir / "recon_local.csv").read_text() + \
        "late,2026-10-11 00:00:00,gemini-3-pro-image-preview,200,STOP,,,20,1120,1140,1,\n"
    path.write_text(text)
    call_command("reconcile", str(path), "--customer", "acme", "--from", "2026-10-10", "--to", "2026-10-10",
                 "--json")
    data = json.loads(capsys.readouterr().out)
    assert data["outside_period"] == 1 and data["local_rows"] == 8


def test_command_refusal_exits_1_with_a_message(acme, fixtures_dir, capsys):
    from billing.management.commands.reconcile import Command

    with pytest.raises(SystemExit) as exit_info:
        Command().run_from_argv(["manage.py", "reconcile", str(fixtures_dir / "recon_local.csv"),
                                 "--customer", "acme", "--from", "2026-11-01", "--to", "2026-11-30", "--json"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "no row in the period 2026-11-01 to 2026-11-30" in err and "Traceback" not in err


def test_command_unknown_customer(fixtures_dir):
    with pytest.raises(CommandError, match="no customer 'nobody'"):
        call_command("reconcile", str(fixtures_dir / "recon_local.csv"), "--customer", "nobody")


def test_task_runs_a_queued_reconciliation(acme, expected, fixtures_dir):
    recon = Reconciliation.objects.create(customer=acme, filename="recon_local.csv")
    recon.file.save("recon_local.csv", ContentFile((fixtures_dir / "recon_local.csv").read_bytes()))
    reconciliation_task(recon.pk)
    recon.refresh_from_db()
    assert recon.status == "done" and recon.rows_done == 8 and recon.finished_at is not None
    assert_fixture_result(recon, expected)


def test_task_records_a_refusal(acme):
    recon = Reconciliation.objects.create(customer=acme, filename="x.csv")
    recon.file.save("x.csv", ContentFile(b"hello,world\n1,2\n"))
    reconciliation_task(recon.pk)
    recon.refresh_from_db()
    assert recon.status == "failed" and "request_id" in recon.error


def test_task_records_an_internal_error_without_a_trace(acme, fixtures_dir, monkeypatch):
    import billing.services.reconciliation.run as svc

    def boom(*args, **kw):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(svc, "_match", boom)
    recon = Reconciliation.objects.create(customer=acme, filename="x.csv")
    recon.file.save("x.csv", ContentFile((fixtures_dir / "recon_local.csv").read_bytes()))
    with pytest.raises(RuntimeError):
        reconciliation_task(recon.pk)
    recon.refresh_from_db()
    assert recon.status == "failed" and "internal error" in recon.error and "secret" not in recon.error
    assert not recon.items.exists()


def test_a_log_larger_than_one_staging_batch(acme, monkeypatch):
    """Several load batches and progress updates (COPY on PostgreSQL, executemany on SQLite)."""
    import billing.services.reconciliation.run as svc

    monkeypatch.setattr(svc, "BATCH", 1000)
    monkeypatch.setattr(svc, "PROGRESS_EVERY", 2000)
    header = "request_id,created_at,http_status,images,charged_usd\n"
    rows = [f"loc-{i:05d},2026-10-10 {i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d},200,1,0.05\n"
            for i in range(5500)]
    rows[4321] = "loc-bad,not a time,200,1,\n"
    recon = reconciliation_run(customer=acme, source=(header + "".join(rows)).encode())
    assert recon.rows_done == 5500 and recon.rejected == [{"line": 4323, "reason": "created_at 'not a time' is neither ISO 8601, YYYY-MM-DD HH:MM:SS nor Unix seconds"}]
    assert recon.local_rows == 5499
    assert recon.categories["missing_on_platform"] == 5499
    # the fixture's platform side, none in the log: 8 request IDs, 9 charges (rc-09 twice)
    assert recon.categories["missing_locally"] == 8 and recon.platform_rows == 9
    assert recon.items.filter(request_id="loc-05499", category="missing_on_platform").exists()
    assert recon.items.get(request_id="loc-00002").local_charged_usd.to_eng_string() == "0.050000"
