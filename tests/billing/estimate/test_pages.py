"""The estimate on the pages: the Overview (through logs.panels, billing's registration) and the
Credits page, where an ended month without its tally says "not tallied yet"."""
from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.services.estimate import credit_estimate
from logs.panels import OVERVIEW_PANELS
from logs.services.rollups import rollups_rebuild
from logs.timeutil import billing_today, day_start
from tests import ROOT, factories as f
from tests.billing.tallies.helpers import enrolled

pytestmark = pytest.mark.django_db


def _this_month(customer, n_failed=3):
    start, now = day_start(billing_today().replace(day=1)), timezone.now()
    f.call(customer, created_at=start + (now - start) / 3, model="gemini-3.1-flash-image", charged_usd="1500",
           billing_mode="per_token")
    for k in range(n_failed):
        f.call(customer, created_at=start + (now - start) * (k + 1) / (n_failed + 2), category="no_image", images=0)
    rollups_rebuild()


def test_billing_registers_its_overview_panels_and_logs_imports_no_billing():
    assert {"billing.estimate", "billing.ranked"} <= set(OVERVIEW_PANELS)
    for path in (ROOT / "logs").rglob("*.py"):
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n == "billing" or n.startswith("billing.") for n in names), path


def test_customer_overview_shows_the_estimate(client):
    acme = enrolled("acme")
    _this_month(acme)
    client.force_login(f.user("ann", customer_obj=acme))
    html = client.get(reverse("logs:overview")).content.decode()
    est = credit_estimate(customer=acme)
    assert est.counted_calls == 3
    assert f"If the month ended now: 3 covered failures, about US${est.credit_usd:,.2f}." in html


def test_staff_overview_ranks_customers_and_a_picked_customer_gets_its_estimate(client, staff):
    acme, globex = enrolled("acme"), enrolled("globex")
    _this_month(acme, 2)
    _this_month(globex, 4)
    client.force_login(staff)
    r = client.get(reverse("logs:overview"))
    html = r.content.decode()
    assert 'id="customers-ranked"' in html and "credit-estimate-" not in html
    ranked = html[html.index('id="customers-ranked"'):]
    assert ranked.index(">Globex<") < ranked.index(">Acme<")
    client.post(reverse("logs:customer_switch"), {"customer": str(acme.pk), "next": "/"})
    html = client.get(reverse("logs:overview")).content.decode()
    assert 'id="customers-ranked"' not in html and "2 covered failures" in html


def test_an_ended_month_without_its_tally_says_so_on_credits(client):
    acme = enrolled("acme", since=dt.date(2026, 5, 1))
    last = (billing_today().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    client.force_login(f.user("ann", customer_obj=acme))
    r = client.get(reverse("billing:tallies"))
    html = r.content.decode()
    assert [e.month for e in r.context["estimates"]] == [last, billing_today().replace(day=1)]
    assert f"Failed-generation credit, {last:%Y-%m}: not tallied yet" in html
    assert "not computed yet: the month-end run makes it" in html
