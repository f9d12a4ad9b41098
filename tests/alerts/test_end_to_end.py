"""End to end: a burst of failed generations is ingested, the evaluator opens one incident, one
email reaches a real SMTP server and one signed webhook a local HTTP server; more failures send
nothing more; when it clears, one "resolved"."""
import datetime as dt
import hashlib
import hmac
import json

import pytest
from django.utils import timezone

from alerts.models import Incident
from alerts.services.evaluate import alerts_evaluate
from alerts.services.rules import alert_rule_save
from logs.services.ingest import calls_ingest
from tests import factories as f

pytestmark = pytest.mark.django_db
SECRET = "hook-secret"


def envelopes(prefix, n, *, at, failed=True):
    response = ({"candidates": [{"finishReason": "IMAGE_SAFETY"}]} if failed else
                {"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "image/png", "data": "AAAA"}}]},
                                 "finishReason": "STOP"}]})
    lines = [json.dumps({"request_id": f"{prefix}-{i}", "created_at": (at + dt.timedelta(seconds=i)).isoformat(),
                         "model": "gemini-3-pro-image-preview", "http_status": 200, "charged_usd": "0.05",
                         "response": response}) for i in range(n)]
    return ("\n".join(lines) + "\n").encode()


def test_burst_opens_one_incident_one_email_one_signed_webhook(smtp_server, hook_factory,
                                                                 django_capture_on_commit_callbacks):
    acme = f.customer("acme", name="Acme Studio")
    hook = hook_factory()
    alert_rule_save(by=None, name="Acme failures", kind="failed_generation_rate", customer=acme, window_minutes=15,
                    threshold="0.3", min_calls=10, emails=["ops@acme.example"], webhook_url=hook.url,
                    webhook_secret=SECRET)
    now = timezone.now()
    batch = calls_ingest(source=envelopes("burst", 12, at=now - dt.timedelta(minutes=5)), customer=acme)
    assert batch.inserted == 12 and batch.categories == {"image_blocked": 12}

    with django_capture_on_commit_callbacks(execute=True):
        result = alerts_evaluate(now=now)
    assert [i["customer"] for i in result["opened"]] == ["acme"]
    assert Incident.objects.count() == 1
    assert len(smtp_server) == 1
    mail = smtp_server[0]
    assert mail["To"] == "ops@acme.example"
    assert "Acme failures firing: Acme Studio" in mail["Subject"]
    assert "12 of 12 calls" in mail.get_payload()
    assert len(hook.requests) == 1
    sent = hook.requests[0]
    stamp = sent["headers"]["X-Nbaudit-Timestamp"]
    mac = hmac.new(SECRET.encode(), f"{stamp}.".encode() + sent["body"], hashlib.sha256).hexdigest()
    assert sent["headers"]["X-Nbaudit-Signature"] == f"sha256={mac}"
    assert json.loads(sent["body"])["event"] == "alert.open"

    # more failures: the incident is open already, nothing more is sent
    calls_ingest(source=envelopes("more", 12, at=now - dt.timedelta(minutes=2)), customer=acme)
    with django_capture_on_commit_callbacks(execute=True):
        result = alerts_evaluate(now=now + dt.timedelta(minutes=1))
    assert result == {"opened": [], "reminded": [], "resolved": []}
    assert len(smtp_server) == 1 and len(hook.requests) == 1

    # it clears: delivered images only in the window
    later = now + dt.timedelta(minutes=30)
    calls_ingest(source=envelopes("ok", 12, at=later - dt.timedelta(minutes=5), failed=False), customer=acme)
    with django_capture_on_commit_callbacks(execute=True):
        result = alerts_evaluate(now=later)
    assert [i["customer"] for i in result["resolved"]] == ["acme"]
    assert len(smtp_server) == 2 and "resolved" in smtp_server[1]["Subject"]
    assert len(hook.requests) == 2 and json.loads(hook.requests[1]["body"])["event"] == "alert.resolve"
