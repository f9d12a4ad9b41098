"""Notifications: in the app at once, by email and webhook as delivery jobs that retry.

A delivery is a row (status, attempts, a log of each attempt, the last error) and a Celery task
that loads it by id and calls `delivery_attempt`; it is queued after the transaction that made it
commits, so no request ever waits for a mail server or a webhook.
"""
from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from alerts.models import Channel, Delivery, Notification
from alerts.services.channels import Permanent, Transient, email_send, webhook_request, webhook_send
from logs.models.ingest import JobStatus

MAX_ATTEMPTS_DEFAULT = 5


def _max_attempts() -> int:
    return int(getattr(settings, "NBAUDIT_ALERT_DELIVERY_ATTEMPTS", MAX_ATTEMPTS_DEFAULT))


def backoff_seconds(attempt: int) -> int:
    """Seconds before try `attempt + 1`: 10, 20, 40 ... up to 10 minutes."""
    return min(600, 10 * 2 ** max(attempt - 1, 0))


def _queue(delivery: Delivery, countdown: int | None = None) -> None:
    from alerts.tasks import delivery_send

    transaction.on_commit(lambda: delivery_send.apply_async((delivery.pk,), countdown=countdown))


def notify(*, subject: str, body: str, users=(), emails=(), webhook: dict | None = None, url: str = "",
           payload: dict | None = None, rule=None, incident=None, customer=None) -> list[Delivery]:
    """Tell `users` in the app, and queue a delivery per email address and for the webhook.

    `webhook`: {"url", "format", "secret"}. Returns the deliveries queued.
    """
    for user in {u.pk: u for u in users if u is not None}.values():
        Notification.objects.create(user=user, title=subject[:300], body=body, url=url, incident=incident)
    deliveries = []
    common = dict(subject=subject[:300], body=body, payload=payload or {}, rule=rule, incident=incident,
                  customer=customer)
    for address in dict.fromkeys(e for e in emails if e):
        deliveries.append(Delivery.objects.create(channel=Channel.EMAIL, target=address, **common))
    if webhook and webhook.get("url"):
        deliveries.append(Delivery.objects.create(channel=Channel.WEBHOOK, target=webhook["url"],
                                                  webhook_format=webhook.get("format") or "", **common))
    for delivery in deliveries:
        _queue(delivery)
    return deliveries


def _secret(delivery: Delivery) -> str:
    return delivery.rule.webhook_secret if delivery.rule_id else ""


def delivery_attempt(*, delivery_id: int, now: dt.datetime | None = None) -> int | None:
    """One try of a delivery. Returns the seconds to wait before the next try, or None when done
    (delivered, or failed for good: then its error says why in words)."""
    with transaction.atomic():
        delivery = (Delivery.objects.select_for_update().select_related("rule")
                    .filter(pk=delivery_id).first())
        if delivery is None or delivery.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
            return None
        delivery.status = JobStatus.RUNNING
        delivery.attempts += 1
        delivery.save(update_fields=["status", "attempts"])
    now = now or timezone.now()
    retry_in = None
    try:
        if delivery.channel == Channel.EMAIL:
            result = email_send(to=delivery.target, subject=delivery.subject, body=delivery.body)
        else:
            url, body, headers = webhook_request(url=delivery.target, fmt=delivery.webhook_format,
                                                 secret=_secret(delivery), subject=delivery.subject,
                                                 text=delivery.body, payload=delivery.payload)
            result = webhook_send(url=url, body=body, headers=headers,
                                  timeout=float(getattr(settings, "NBAUDIT_WEBHOOK_TIMEOUT", 10)))
        delivery.status, delivery.error = JobStatus.DONE, ""
    except Transient as exc:
        result = str(exc)
        if delivery.attempts >= _max_attempts():
            delivery.status = JobStatus.FAILED
            delivery.error = f"gave up after {delivery.attempts} attempts; the last: {result}"
        else:
            delivery.status, delivery.error = JobStatus.QUEUED, result
            retry_in = backoff_seconds(delivery.attempts)
    except Permanent as exc:
        result = str(exc)
        delivery.status, delivery.error = JobStatus.FAILED, result
    delivery.log = [*delivery.log, {"at": now.isoformat(), "result": result}]
    if delivery.status in (JobStatus.DONE, JobStatus.FAILED):
        delivery.finished_at = timezone.now()
    delivery.save(update_fields=["status", "error", "log", "finished_at"])
    return retry_in
