"""One covered-call rule (billing.md rule 1) for the call page, the tally and the reconciliation."""
import pytest

from billing.services.tally import covered_calls, tally_compute
from logs.coverage import coverage_of
from logs.models import Call
from tests.billing.tallies.helpers import JUNE, at, enrolled, failure, spend

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("status,covered", [(200, True), (None, True), (201, False), (204, False),
                                            (299, False), (400, False)])
def test_only_http_200_or_no_status_is_covered(status, covered):
    c = enrolled()
    call = failure(c, http_status=status, request_id=f"s-{status}")
    assert coverage_of(call)[0] is covered
    assert covered_calls(customer=c, month=JUNE).filter(pk=call.pk).exists() is covered
    assert Call.objects.filter(pk=call.pk).filter(
        pk__in=covered_calls(customer=c, month=JUNE)).exists() is covered


def test_a_201_failure_adds_nothing_to_the_tally():
    c = enrolled()
    spend(c, "1000")
    failure(c, when=at(2026, 6, 3), request_id="ok-200")
    failure(c, when=at(2026, 6, 4), request_id="odd-201", http_status=201)
    tally = tally_compute(customer=c, month=JUNE)
    assert tally.failed_calls == 1
    assert "Not covered" in coverage_of(Call.objects.get(request_id="odd-201"))[1]


def test_reconciliation_counts_only_a_200_failure_as_reimbursable():
    from billing.services.reconciliation import reconciliation_run

    c = enrolled()
    header = "request_id,created_at,model,http_status,finish_reason,output_tokens,images"
    lines = [header]
    for rid, status in (("r200", 200), ("r201", 201)):
        failure(c, when=at(2026, 6, 10), request_id=rid, http_status=status, model="gemini-3-pro-image-preview")
        lines.append(f"{rid},2026-06-10 12:00:00,gemini-3-pro-image-preview,{status},NO_IMAGE,0,0")
    recon = reconciliation_run(customer=c, source=("\n".join(lines) + "\n").encode())
    cats = dict(recon.items.values_list("request_id", "category"))
    assert cats["r200"] == "reimbursable_failure"
    assert cats["r201"] != "reimbursable_failure"
