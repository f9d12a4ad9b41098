"""Recomputing a draft twice at once leaves one tally with one copy of each call (PostgreSQL)."""
import threading

import pytest
from django.db import connection

from billing.models import Tally, TallyCall
from billing.services.tally import tally_compute
from tests.billing.tallies.helpers import JUNE, at, enrolled, failure, spend


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("existing", [False, True])
def test_two_computes_at_once(existing):
    c = enrolled("acme")
    spend(c, "1000")
    for i in range(40):
        failure(c, prompt=f"p{i % 7}", when=at(2026, 6, 2, 0, i))
    if existing:
        tally_compute(customer=c, month=JUNE)
    start, errors, results = threading.Barrier(4), [], []

    def worker():
        try:
            start.wait()
            results.append(tally_compute(customer=c, month=JUNE).pk)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Tally.objects.filter(customer=c, month=JUNE).count() == 1
    tally = Tally.objects.get(customer=c, month=JUNE)
    assert set(results) == {tally.pk}
    assert TallyCall.objects.filter(tally=tally).count() == tally.failed_calls == 40
    assert tally.counted_calls == 7 * 3  # 7 prompts, each with more than 3 calls: 3 count each
