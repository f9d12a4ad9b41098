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
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from logs.languages import language_code, language_of
from logs.models import User
from logs.models.jobs import JobStatus
from logs.money import usd, usd_total
from logs.signals import job_ended

NOTIFIED_ACTIONS = ("approved", "rejected", "credited", "question answered", "question answered and closed")


def _usd(value) -> str:
    return usd_total(value)


def tally_notice(event) -> tuple[str, str] | None:
    """(subject, body) for a tally event a customer is told of, or None (in the active language)."""
    tally = event.tally
    month = date_format(tally.month, "YEAR_MONTH_FORMAT")
    if event.action == "approved":
        if event.amount_after is not None and event.amount_after != tally.credit_usd:
            return ("[nbaudit] " + _("Your %(month)s credit was approved, adjusted to %(amount)s") % {
                        "month": month, "amount": _usd(event.amount_after)},
                    _("The credit computed was %(computed)s; staff adjusted it to %(amount)s. Reason: %(reason)s") % {
                        "computed": _usd(tally.credit_usd), "amount": _usd(event.amount_after),
                        "reason": event.detail or "—"})
        return ("[nbaudit] " + _("Your %(month)s credit of %(amount)s was approved") % {
                    "month": month, "amount": _usd(event.amount_after)},
                _("%(n)s failed generations are counted. It is due by %(due)s.") % {
                    "n": tally.counted_calls, "due": f"{tally.due_date:%Y-%m-%d}"})
    if event.action == "rejected":
        return ("[nbaudit] " + _("Your %(month)s credit was rejected") % {"month": month},
                _("Reason: %(reason)s") % {"reason": event.detail or "—"})
    if event.action == "credited":
        return ("[nbaudit] " + _("Your %(month)s credit of %(amount)s was credited") % {
                    "month": month, "amount": _usd(event.amount_after)},
                _("Credited with %(reference)s.") % {"reference": event.detail or _("no reference")})
    if event.action.startswith("question answered"):
        return ("[nbaudit] " + _("Staff answered your question on the %(month)s tally") % {"month": month},
                event.detail or "")
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
    with translation.override(language_of(users)):
        notice = tally_notice(instance)
    subject, body = notice

    def send():
        notify(subject=subject, body=body, users=users, emails=[u.email for u in users if u.email],
               url=f"/billing/tallies/{tally.pk}/", customer=tally.customer,
               payload={"event": f"tally.{instance.action}", "tally": tally.pk})

    transaction.on_commit(send)


def job_notice(job) -> tuple[str, str, str] | None:
    """(subject, body, url) for a finished export or reconciliation, or None (in the active language)."""
    label = job._meta.label_lower
    done = job.status == JobStatus.DONE
    if label == "logs.exportjob":
        name = job.filename or _("export #%(n)s") % {"n": job.pk}
        if done:
            return ("[nbaudit] " + _("Your export %(name)s is ready") % {"name": name},
                    _("%(n)s rows. Download it from Async Tasks.") % {"n": f"{job.rows_done:,}"}, "/tasks/")
        return "[nbaudit] " + _("Your export %(name)s failed") % {"name": name}, job.error or "", "/tasks/"
    if label == "billing.reconciliation":
        url = f"/billing/reconcile/{job.pk}/"
        if done:
            over = job.overcharged_usd if job.overcharged_usd is not None else 0
            return ("[nbaudit] " + _("Reconciliation #%(n)s is done") % {"n": job.pk},
                    _("%(local)s local rows against %(platform)s platform records; over-charged %(over)s "
                      "(the platform charged this much more than expected).") % {
                        "local": f"{job.local_rows:,}", "platform": f"{job.platform_rows:,}",
                        "over": usd(over)}, url)
        return "[nbaudit] " + _("Reconciliation #%(n)s failed") % {"n": job.pk}, job.error or "", url
    return None


@receiver(job_ended)
def job_ended_notify(sender, job, **kw):
    if not getattr(job, "notify_when_done", False) or not job.created_by_id:
        return
    if job.status not in (JobStatus.DONE, JobStatus.FAILED):
        return
    user = User.objects.filter(pk=job.created_by_id).first()
    with translation.override(language_code(getattr(job, "language", "") or getattr(user, "language", ""))):
        notice = job_notice(job)
    if notice is None:
        return
    from alerts.services.notify import notify

    subject, body, url = notice
    transaction.on_commit(lambda: notify(subject=subject, body=body, users=[user],
                                         emails=[user.email] if user and user.email else [], url=url,
                                         customer=getattr(job, "customer", None),
                                         payload={"event": f"{sender._meta.model_name}.{job.status}",
                                                  "job": job.pk}))
