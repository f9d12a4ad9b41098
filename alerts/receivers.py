"""Money moves: a tally approved, adjusted, rejected or credited notifies the customer's users.

Listens to billing's audit trail (a TallyEvent row is written for every step), so billing knows
nothing of alerts.
"""
from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from logs.models import User

NOTIFIED_ACTIONS = ("approved", "rejected", "credited")


def _usd(value) -> str:
    return "—" if value is None else f"US${value:,.2f}"


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
