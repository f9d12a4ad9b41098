"""Events people are told of: money moves, and long work they asked to hear about.

A tally approved, adjusted, rejected or credited, or a question on it answered, notifies the customer's users (listening to
billing's audit trail: a TallyEvent row is written for every step). An export or a
reconciliation whose starter ticked "tell me when it is done" notifies them when it ends
(logs.signals.job_ended). Neither logs nor billing knows of alerts.
"""
from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from logs.models import User
from logs.models.jobs import JobStatus
from logs.money import usd, usd_total
from logs.signals import job_ended

NOTIFIED_ACTIONS = ("approved", "rejected", "credited", "question answered", "question answered and closed")


def _usd(value) -> str:
    return usd_total(value)


def tally_notice(event) -> tuple[str, str] | None:
    """(subject, body) for a tally event a customer is told of, or None."""
    tally = event.tally
    month = tally.month.strftime("%Y-%m")
    if event.action == "approved":
        if event.amount_after is not None and event.amount_after != tally.credit_usd:
            return (f"[nbaudit] Your {month} credit was approved, adjusted to {_usd(event.amount_after)}",
                    f"The credit computed was {_usd(tally.credit_usd)}; staff adjusted it to "
                    f"{_usd(event.amount_after)}. Reason: {event.detail or '—'}")
        return (f"[nbaudit] Your {month} credit of {_usd(event.amount_after)} was approved",
                f"{tally.counted_calls} failed generations are counted. It is due by {tally.due_date:%Y-%m-%d}.")
    if event.action == "rejected":
        return (f"[nbaudit] Your {month} credit was rejected", f"Reason: {event.detail or '—'}")
    if event.action == "credited":
        return (f"[nbaudit] Your {month} credit of {_usd(event.amount_after)} was credited",
                f"Credited with {event.detail or 'no reference'}.")
    if event.action.startswith("question answered"):
        return (f"[nbaudit] Staff answered your question on the {month} tally", event.detail or "")
    return None


@receiver(post_save, sender="billing.TallyEvent")
def tally_event_notify(sender, instance, created, **kw):
    if not created or instance.action not in NOTIFIED_ACTIONS:
        return
    notice = tally_notice(instance)
    if notice is None:
        return
    from alerts.services.notify import notify

    tally = instance.tally
    users = list(User.objects.filter(customer_id=tally.customer_id, is_active=True))
    subject, body = notice

    def send():
        notify(subject=subject, body=body, users=users, emails=[u.email for u in users if u.email],
               url=f"/billing/tallies/{tally.pk}/", customer=tally.customer,
               payload={"event": f"tally.{instance.action}", "tally": tally.pk})

    transaction.on_commit(send)


def job_notice(job) -> tuple[str, str, str] | None:
    """(subject, body, url) for a finished export or reconciliation, or None."""
    label = job._meta.label_lower
    done = job.status == JobStatus.DONE
    if label == "logs.exportjob":
        name = job.filename or f"export #{job.pk}"
        if done:
            return (f"[nbaudit] Your export {name} is ready", f"{job.rows_done:,} rows. Download it from Async Tasks.",
                    "/tasks/")
        return f"[nbaudit] Your export {name} failed", job.error or "", "/tasks/"
    if label == "billing.reconciliation":
        url = f"/billing/reconcile/{job.pk}/"
        if done:
            over = job.overcharged_usd if job.overcharged_usd is not None else 0
            return (f"[nbaudit] Reconciliation #{job.pk} is done",
                    f"{job.local_rows:,} local rows against {job.platform_rows:,} platform records; "
                    f"over-charged {usd(over)} (the platform charged this much more than expected).", url)
        return f"[nbaudit] Reconciliation #{job.pk} failed", job.error or "", url
    return None


@receiver(job_ended)
def job_ended_notify(sender, job, **kw):
    if not getattr(job, "notify_when_done", False) or not job.created_by_id:
        return
    if job.status not in (JobStatus.DONE, JobStatus.FAILED):
        return
    notice = job_notice(job)
    if notice is None:
        return
    from alerts.services.notify import notify

    subject, body, url = notice
    user = User.objects.filter(pk=job.created_by_id).first()
    transaction.on_commit(lambda: notify(subject=subject, body=body, users=[user],
                                         emails=[user.email] if user and user.email else [], url=url,
                                         customer=getattr(job, "customer", None),
                                         payload={"event": f"{sender._meta.model_name}.{job.status}",
                                                  "job": job.pk}))
