"""Every page a person reads, for the language tests (tests/i18n and tests/browser): one list to extend.

`world()` builds one of each object the pages show (a customer with calls, an ingest batch, an
export job under way, a tally, a reconciliation, an alert rule with an incident, a gateway source);
`CUSTOMER_PAGES` and `STAFF_PAGES` name each page by a function of that world. A new page: add a
line here, and every language test renders it.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from html.parser import HTMLParser

from django.urls import reverse

from tests import FIXTURES, factories as f

# English words of nbaudit's own UI that a Chinese page must not show (whole words, case as
# written). Data values (model names, codes, request IDs, file names) are not looked at: see
# visible_text. Extend freely; a word nbaudit shows as interface in both languages (HTTP, API,
# Excel, Nano Banana Pro, UTC+8, Webhook ...) does not belong here.
ENGLISH_WORDS = [
    "Overview", "Logs", "Async Tasks", "Credits", "Reconcile", "Alerts", "Ingest", "Gateways", "Account",
    "Log out", "Log in", "Username", "Password", "Apply", "Reset", "Filter", "Download", "Export", "Save",
    "Status", "Customer", "Category", "Charged", "Expected", "Time range", "Today", "Last month",
    "Any time", "All customers", "Nothing to show", "No calls", "Approve", "Reject", "Compute now",
    "Notifications", "Incidents", "Rules", "New rule", "Success", "Newest", "Older", "Newer", "Next",
    "Previous", "Model", "Request ID", "Reason", "Why", "Spend", "calls", "rows", "failed", "per day",
    "per hour", "on this page", "Columns", "Time zone", "Language", "Retry", "Cancel", "Progress",
    "Created", "Size", "Figures", "Breakdown", "Audit trail", "Due date", "Credit", "Covered",
    "Sync now", "Pause", "Last sync", "Recent syncs", "Timeline", "Acknowledge", "Mute", "Opened",
    "Inserted", "Duplicates", "Rejected", "Source", "Format", "File", "Upload", "Recent batches",
    "Times in", "billing months", "Reimbursement", "Charge", "Difference", "Raw response",
    "Every stored field", "Close", "Tell me", "Custom dates", "Failed only", "Any category",
    "Error mix", "Latency", "Draft", "Approved", "Queued", "Running", "Done", "Any model", "Any key",
    "Families", "Models",
]

# Text inside these is data, not the UI's words: ids, codes, raw responses, select values.
DATA_CLASSES = {"mono", "json", "reason-code"}
DATA_TAGS = {"script", "style", "code", "pre", "noscript"}


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []
        self.parts: list[str] = []

    VOID = {"br", "img", "input", "meta", "link", "hr", "source", "wbr", "col", "area", "base"}

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        classes = set((dict(attrs).get("class") or "").split())
        skip = tag in DATA_TAGS or bool(classes & DATA_CLASSES)
        self.stack.append(skip or (bool(self.stack) and self.stack[-1]))

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)


def visible_text(html: str) -> str:
    """What a person reads on a page: text outside tags, scripts, styles and data (see DATA_*)."""
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def english_words(html: str, data_values=()) -> list[str]:
    """The ENGLISH_WORDS found on a page (data values such as names taken out first)."""
    text = visible_text(html)
    for value in data_values:
        text = text.replace(str(value), " ")
    return [w for w in ENGLISH_WORDS if re.search(rf"(?<![A-Za-z]){re.escape(w)}(?![A-Za-z])", text)]


def world() -> dict:
    """One of everything the pages show, for a customer (acme, user alice) and staff (boss)."""
    from alerts.models import Incident, Notification
    from alerts.services.rules import alert_rule_save
    from billing.models import Reconciliation, ReconciliationItem
    from billing.services.tally import tally_compute
    from gateways.models import GatewaySource
    from logs.models import Call, ExportJob
    from logs.models.jobs import JobStatus
    from logs.services.ingest import calls_ingest
    from logs.services.rollups import rollups_rebuild

    acme = f.customer("acme", name="Acme Studio", enrolled_from=dt.date(2026, 5, 1))
    alice = f.user("alice", customer_obj=acme)
    boss = f.user("boss", staff=True)
    batch = calls_ingest(source=FIXTURES / "calls.ndjson", customer=acme)
    calls_ingest(source=FIXTURES / "gateway_export_zh.csv", customer=acme)
    rollups_rebuild()
    call = Call.objects.filter(customer=acme).exclude(category="success").order_by("id").first()
    first = Call.objects.filter(customer=acme).order_by("created_at").first().created_at
    month = first.astimezone(f.UTC8).date().replace(day=1)
    tally = tally_compute(customer=acme, month=month)
    job = ExportJob.objects.create(created_by=alice, customer=acme, date_from=month, date_to=month,
                                   status=JobStatus.RUNNING, rows_done=1234, rows_total=5000,
                                   filename="nbaudit-acme.xlsx", language="zh-hans")
    recon = Reconciliation.objects.create(
        customer=acme, created_by=alice, status=JobStatus.DONE, filename="local.csv", date_from=month,
        date_to=month, local_rows=2, platform_rows=2, overcharged_usd=Decimal("0.05"),
        categories={"duplicate_charge": 1, "match": 1},
        money={"duplicate_charge": {"charged": "0.1", "expected": "0.05", "over": "0.05", "under": "0"}},
        rejected=[{"line": 7, "reason": "x"}], rejected_count=1)
    ReconciliationItem.objects.create(reconciliation=recon, request_id="rc-1", category="duplicate_charge",
                                      charges=2, charged_usd=Decimal("0.1"), local_line=3)
    rule = alert_rule_save(by=alice, name="acme-fails", kind="failed_generation_rate", customer=acme,
                           threshold="0.2")
    incident = Incident.objects.create(rule=rule, customer=acme, subject=f"customer:{acme.pk}",
                                       opened_at=dt.datetime(2026, 11, 30, tzinfo=dt.timezone.utc),
                                       figures={"rate": "0.5", "matching": 5, "calls": 10, "window_minutes": 60})
    Notification.objects.create(user=alice, title="acme-fails", body="")
    source = GatewaySource.objects.create(name="gw-main", kind="db", dsn="env:GW_DSN")
    last = max(c.created_at for c in Call.objects.filter(customer=acme)).astimezone(f.UTC8).date()
    return dict(acme=acme, alice=alice, boss=boss, first_day=month, last_day=last, batch=batch, call=call, tally=tally, job=job, recon=recon,
                rule=rule, incident=incident, source=source,
                data=["Acme Studio", "acme", "alice", "boss", "acme-fails", "gw-main", "local.csv",
                      "nbaudit-acme.xlsx", "calls.ndjson"])


def days_query(w) -> str:
    return f"?range=custom&date_from={w['first_day']}&date_to={w['last_day']}"


# (name, url of the world[, status: 200 unless given]): what a customer's user reads, and staff on top of it.
CUSTOMER_PAGES = [
    ("overview", lambda w: reverse("logs:overview")),
    ("overview, the data's days", lambda w: reverse("logs:overview") + days_query(w)),
    ("logs, the data's days", lambda w: reverse("logs:calls") + days_query(w)),
    ("logs", lambda w: reverse("logs:calls")),
    ("call", lambda w: reverse("logs:call", args=[w["call"].pk])),
    ("tasks", lambda w: reverse("logs:tasks")),
    ("export new", lambda w: reverse("logs:export_new")),
    ("account", lambda w: reverse("logs:account")),
    ("tallies", lambda w: reverse("billing:tallies")),
    ("tally", lambda w: reverse("billing:tally", args=[w["tally"].pk])),
    ("reconciliations", lambda w: reverse("billing:reconcile")),
    ("reconciliation", lambda w: reverse("billing:reconciliation", args=[w["recon"].pk])),
    ("alerts", lambda w: reverse("alerts:rules")),
    ("alert rule", lambda w: reverse("alerts:rule", args=[w["rule"].pk])),
    ("incidents", lambda w: reverse("alerts:incidents")),
    ("incident", lambda w: reverse("alerts:incident", args=[w["incident"].pk])),
    ("notifications", lambda w: reverse("alerts:notifications")),
    ("password change", lambda w: reverse("password_change")),
    ("api tokens", lambda w: reverse("logs:tokens")),
    ("api docs", lambda w: reverse("logs:api_docs")),
    # (name, url, status): a page answered with another status than 200
    ("404", lambda w: reverse("logs:call", args=[10**9]), 404),
]
STAFF_PAGES = CUSTOMER_PAGES + [
    ("ingest upload", lambda w: reverse("logs:ingest")),
    ("ingest batch", lambda w: reverse("logs:ingest_batch", args=[w["batch"].pk])),
    ("gateways", lambda w: reverse("gateways:sources")),
]
ANONYMOUS_PAGES = [
    ("login", lambda w: reverse("login")),
]
