"""nbaudit's own Excel export of calls is a valid local log (billing.md): its columns map onto
format C's (the one list in logs/services/exports/columns.py), in any language it writes."""
import datetime as dt
from decimal import Decimal

import pytest
from openpyxl import Workbook

from billing.services.reconciliation import ReconciliationRefused, reconciliation_run
from logs.choices import Category
from logs.models import Call, ExportJob
from logs.parsers import LocalRow, local_log_read
from logs.services.exports import export_filters_clean, export_headers, export_write
from tests import factories as f

pytestmark = pytest.mark.django_db

UTC8 = dt.timezone(dt.timedelta(hours=8))
NOON = dt.datetime(2026, 10, 10, 12, 0, tzinfo=UTC8)


def _export(customer, owner, path, **filters):
    job = ExportJob(owner=owner, customer=customer, date_from=dt.date(2026, 10, 1), date_to=dt.date(2026, 10, 31),
                    filters=export_filters_clean(filters))
    export_write(job=job, out_path=path)
    return path


def _calls(acme):
    ok = f.call(acme, request_id="ok-1", created_at=NOON)
    refusal = f.call(acme, request_id="refusal-1", created_at=NOON + dt.timedelta(minutes=1),
                     category=Category.TEXT_REFUSAL, output_tokens=173)
    error = f.call(acme, request_id="err-1", created_at=NOON + dt.timedelta(minutes=2),
                   category=Category.RATE_LIMITED, http_status=429, charged_usd=Decimal("0"),
                   expected_usd=Decimal("0"))
    return ok, refusal, error


def test_an_export_reconciles_against_the_platform_it_came_from(acme, alice, tmp_path):
    _calls(acme)
    path = _export(acme, alice, tmp_path / "export.xlsx")
    recon = reconciliation_run(customer=acme, source=path)
    assert recon.status == "done" and recon.local_format == "xlsx"
    assert recon.local_rows == 3 and recon.rejected_count == 0
    assert recon.date_from == recon.date_to == dt.date(2026, 10, 10)  # the export's times read in its zone
    assert recon.categories["match"] == 2 and recon.categories["reimbursable_failure"] == 1
    assert recon.items.get(request_id="refusal-1").local_category == Category.TEXT_REFUSAL


def test_an_exports_amount_is_the_local_amount(acme, alice, tmp_path):
    _calls(acme)
    path = _export(acme, alice, tmp_path / "export.xlsx")
    # the platform's record changed since the export: the export's own amount now disagrees
    Call.objects.filter(customer=acme, request_id="ok-1").update(charged_usd=Decimal("0.10"), expected_usd=Decimal("0.10"))
    recon = reconciliation_run(customer=acme, source=path)
    item = recon.items.get(request_id="ok-1")
    assert item.category == "amount_mismatch"
    assert item.local_charged_usd == Decimal("0.050000") and item.charged_usd == Decimal("0.100000")


def test_every_sheet_of_calls_is_read(acme, alice, tmp_path, settings):
    settings.NBAUDIT_EXPORT_MAX_ROWS = 2
    _calls(acme)
    path = _export(acme, alice, tmp_path / "export.xlsx")
    rows = [r for r in local_log_read(path) if isinstance(r, LocalRow)]
    assert sorted(r.request_id for r in rows) == ["err-1", "ok-1", "refusal-1"]


def _workbook(path, headers, rows):
    wb = Workbook()
    ws = wb.active
    ws.title = "Calls"
    ws.append(headers)
    for row in rows:
        ws.append(row)
    wb.create_sheet("Summary").append(["nbaudit export of calls"])
    wb.save(path)
    return path


@pytest.mark.parametrize("style", ["bilingual", "one per line", "upper case"])
def test_headers_in_other_forms_of_the_one_list(acme, tmp_path, style):
    english = export_headers(with_prompt=False)
    zh = {"Request ID": "请求 ID", "Charged (USD)": "花费 (USD)"}

    def shown(h):
        if style == "bilingual":
            return f"{zh.get(h, h)} / {h}"
        if style == "one per line":
            return f"{h}\n{zh.get(h, h)}"
        return h.upper()
    row = [None] * len(english)
    values = {"Request ID": "r-1", "Charged (USD)": 0.05, "Category code": "no_image",
              "Model": "gemini-3-pro-image-preview", "HTTP status": 200}
    for i, h in enumerate(english):
        row[i] = values.get(h)
    row[0] = dt.datetime(2026, 10, 10, 12, 0)  # naive, in the zone the header names
    path = _workbook(tmp_path / "x.xlsx", [shown(h) for h in english], [row])
    (got,) = list(local_log_read(path))
    assert isinstance(got, LocalRow)
    assert got.request_id == "r-1" and got.category == "no_image" and got.charged_usd == Decimal("0.050000")
    assert got.created_at == NOON


def test_a_workbook_that_is_neither_is_still_refused(acme, tmp_path):
    path = _workbook(tmp_path / "x.xlsx", ["Foo", "Bar"], [["a", "b"]])
    with pytest.raises(ReconciliationRefused, match="no sheet has a header row"):
        reconciliation_run(customer=acme, source=path)


def test_an_export_as_csv_reads_alike(acme):
    english = export_headers(with_prompt=False)
    cells = {"Request ID": "r-1", "Charged (USD)": "0.05", "Category code": "success", "HTTP status": "200",
             english[0]: "2026-10-10 12:00:00"}
    line = ",".join(cells.get(h, "") for h in english)
    data = ("\ufeff" + ",".join(english) + "\n" + line + "\n").encode()
    (got,) = list(local_log_read(data))
    assert isinstance(got, LocalRow)
    assert (got.request_id, got.category, got.charged_usd, got.created_at) == (
        "r-1", "success", Decimal("0.050000"), NOON)
