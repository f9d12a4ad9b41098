"""Celery tasks of alerts: each loads its row by id (or runs the evaluator) and calls a service."""
from celery import shared_task


@shared_task(name="alerts.tasks.alerts_evaluate")
def alerts_evaluate() -> dict:
    """Beat, every minute: every enabled rule against the figures now."""
    from alerts.services.evaluate import alerts_evaluate as run

    result = run()
    return {k: len(v) for k, v in result.items()}


@shared_task(name="alerts.tasks.delivery_send", acks_late=True)
def delivery_send(delivery_id: int) -> None:
    """One try of a delivery; a transient failure queues the next try after a backoff."""
    from alerts.services.notify import delivery_attempt

    retry_in = delivery_attempt(delivery_id=delivery_id)
    if retry_in is not None:
        delivery_send.apply_async((delivery_id,), countdown=retry_in)
