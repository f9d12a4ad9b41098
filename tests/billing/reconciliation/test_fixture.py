"""The shared fixture end to end: ingest the platform's export, reconcile the local log."""

import pytest

from billing.models import Reconciliation
from billing.services.reconciliation import reconciliation_run, reconciliation_summary

pytestmark = pytest.mark.django_db


@pytest.fixture
def expected(recon_expected):
    return recon_expected


@pytest.fixture
def platform(recon_platform):
    """(acme, the batch of the platform's export ingested)."""
    return recon_platform


def test_platform_ingest_keeps_the_second_charge(platform, expected):
    _acme, batch = platform
    summary = batch.summary()
    for key, value in expected["platform_ingest"].items():
        assert summary[key] == value


def test_fixture_gives_the_expected_result(platform, expected, fixtures_dir):
    acme, _batch = platform
    recon = reconciliation_run(customer=acme, source=fixtures_dir / expected["local"])
    summary = reconciliation_summary(reconciliation=recon)
    assert recon.status == "done"
    for key in ("customer", "from", "to", "local_rows", "platform_rows", "categories",
                "overcharged_usd", "undercharged_usd", "unmatched_charged_usd"):
        assert summary[key] == expected[key], key
    assert summary["outside_period"] == 0
    by_id = dict(recon.items.values_list("request_id", "category"))
    assert by_id == expected["by_request_id"]


def test_fixture_items_link_to_platform_calls(platform, expected, fixtures_dir):
    acme, _batch = platform
    recon = reconciliation_run(customer=acme, source=fixtures_dir / expected["local"])
    items = {i.request_id: i for i in recon.items.select_related("call")}
    assert items["rc-03"].call is None  # missing on the platform: no call to link
    for rid, item in items.items():
        if rid != "rc-03":
            assert item.call is not None and item.call.request_id == rid
    assert items["rc-09"].charges == 2
    assert str(items["rc-09"].over_usd) == "0.050000"
    assert Reconciliation.objects.get(pk=recon.pk).rows_done == expected["local_rows"]
