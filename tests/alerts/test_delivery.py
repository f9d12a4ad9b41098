"""Deliveries: retries with backoff on transient errors, a log of every attempt, signed webhooks,
the chat bots' own shapes, and targets that resolve to private addresses refused."""
import hashlib
import hmac
import json

import pytest
from django.core.exceptions import ValidationError

from alerts.models import Delivery
from alerts.services.channels import webhook_request, webhook_target_check
from alerts.services.notify import notify
from logs.models.ingest import JobStatus

pytestmark = pytest.mark.django_db


def _notify_hook(url, fmt="generic", rule=None):
    return notify(subject="[nbaudit] test", body="figures", webhook={"url": url, "format": fmt},
                  payload={"event": "alert.open"}, rule=rule)


def test_500_three_times_then_200_is_delivered_once_after_four_attempts(hook_factory,
                                                                          django_capture_on_commit_callbacks):
    hook = hook_factory([500, 500, 500, 200])
    with django_capture_on_commit_callbacks(execute=True):
        [delivery] = _notify_hook(hook.url)
    delivery.refresh_from_db()
    assert delivery.status == JobStatus.DONE
    assert delivery.attempts == 4
    assert [entry["result"][:8] for entry in delivery.log] == ["HTTP 500", "HTTP 500", "HTTP 500", "HTTP 200"]
    assert len(hook.requests) == 4
    assert delivery.error == ""


def test_a_target_that_never_answers_fails_in_words_after_its_retries(hook_factory, settings,
                                                                        django_capture_on_commit_callbacks):
    settings.NBAUDIT_WEBHOOK_TIMEOUT = 0.3
    settings.NBAUDIT_ALERT_DELIVERY_ATTEMPTS = 3
    slow = hook_factory(delay=2)
    fine = hook_factory()
    with django_capture_on_commit_callbacks(execute=True):
        [stuck] = _notify_hook(slow.url)
        [other] = _notify_hook(fine.url)
    stuck.refresh_from_db()
    other.refresh_from_db()
    assert stuck.status == JobStatus.FAILED
    assert stuck.attempts == 3
    assert stuck.error == "gave up after 3 attempts; the last: no answer within 0.3 s"
    assert other.status == JobStatus.DONE  # nothing else held up


def test_a_4xx_answer_is_not_retried(hook_factory, django_capture_on_commit_callbacks):
    hook = hook_factory([404])
    with django_capture_on_commit_callbacks(execute=True):
        [delivery] = _notify_hook(hook.url)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (JobStatus.FAILED, 1)
    assert delivery.error.startswith("HTTP 404")


def test_generic_webhook_is_signed_over_timestamp_and_body():
    url, body, headers = webhook_request(url="https://hooks.example/x", fmt="generic", secret="s3cret",
                                         subject="s", text="t", payload={"event": "alert.open"}, now=1764547200)
    assert headers["X-Nbaudit-Timestamp"] == "1764547200"
    expected = hmac.new(b"s3cret", b"1764547200." + body, hashlib.sha256).hexdigest()
    assert headers["X-Nbaudit-Signature"] == f"sha256={expected}"
    assert json.loads(body)["event"] == "alert.open"


@pytest.mark.parametrize("fmt,check", [
    ("slack", lambda d: d["text"].startswith("Alert")),
    ("wecom", lambda d: d["msgtype"] == "text" and d["text"]["content"].startswith("Alert")),
    ("dingtalk", lambda d: d["msgtype"] == "text" and d["text"]["content"].startswith("Alert")),
    ("feishu", lambda d: d["msg_type"] == "text" and d["content"]["text"].startswith("Alert")),
])
def test_chat_bots_get_their_own_shape(fmt, check):
    url, body, headers = webhook_request(url="https://bots.example/x", fmt=fmt, secret="", subject="Alert",
                                         text="figures", payload={}, now=1764547200)
    assert check(json.loads(body))
    assert "X-Nbaudit-Signature" not in headers


def test_dingtalk_and_feishu_signatures():
    url, _, _ = webhook_request(url="https://oapi.dingtalk.com/robot/send?access_token=t", fmt="dingtalk",
                                secret="SEC", subject="a", text="b", payload={}, now=1764547200)
    assert "timestamp=1764547200000&sign=" in url
    _, body, _ = webhook_request(url="https://open.feishu.cn/hook/x", fmt="feishu", secret="SEC", subject="a",
                                 text="b", payload={}, now=1764547200)
    data = json.loads(body)
    assert data["timestamp"] == "1764547200" and data["sign"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/x", "http://10.0.0.8/hook", "http://169.254.169.254/latest",
                                 "http://[::1]/x", "http://localhost/x", "ftp://example.com/x"])
def test_private_targets_are_refused(url, settings):
    settings.NBAUDIT_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(ValidationError):
        webhook_target_check(url)


def test_a_refused_target_fails_without_sending(settings, django_capture_on_commit_callbacks):
    settings.NBAUDIT_WEBHOOK_ALLOW_PRIVATE = False
    with django_capture_on_commit_callbacks(execute=True):
        [delivery] = _notify_hook("http://127.0.0.1:9/x")
    delivery.refresh_from_db()
    assert delivery.status == JobStatus.FAILED
    assert "private, loopback or link-local" in delivery.error
    assert Delivery.objects.count() == 1
