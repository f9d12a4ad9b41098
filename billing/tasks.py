"""Celery tasks of billing: each calls a service."""
from celery import shared_task

# --- tallies (the reimbursement plan) ---------------------------------------------------------

@shared_task(name="billing.tasks.tally_month_end", acks_late=True)
def tally_month_end(month: str | None = None) -> list[int]:
    """Beat, 00:30 UTC+8 on the 1st: the previous month's drafts for every enrolled customer."""
    from billing.services.tally import tally_month_end as run
    from logs.timeutil import parse_month

    return [t.pk for t in run(month=parse_month(month) if month else None)]


@shared_task(name="billing.tasks.tally_compute_now", acks_late=True)
def tally_compute_now(month: str, customer_id: int | None = None, user_id: int | None = None) -> list[int]:
    """Staff "compute now": one customer's month, or every enrolled customer's when none is given."""
    from billing.services.tally import tally_compute, tally_month_end as run
    from logs.models import Customer, User
    from logs.timeutil import parse_month

    first = parse_month(month)
    by = User.objects.filter(pk=user_id).first() if user_id else None
    if customer_id:
        return [tally_compute(customer=Customer.objects.get(pk=customer_id), month=first, by=by).pk]
    return [t.pk for t in run(month=first, by=by)]


@shared_task(name="billing.tasks.tally_run_task", acks_late=True)
def tally_run_task(run_id: int) -> list[int]:
    """A staff "compute now" recorded as a job row (billing.models.TallyRun): load it by id, run it."""
    from billing.services.tally import tally_run_execute

    run = tally_run_execute(run_id=run_id)
    return list(run.tally_ids) if run is not None else []


@shared_task(name="billing.tasks.tally_runs_reap")
def tally_runs_reap() -> list[int]:
    """Beat: running "compute now" jobs whose worker stopped are failed, in words."""
    from billing.services.tally import tally_runs_reap as reap

    return reap()


# --- reconciliation ----------------------------------------------------------------------------

@shared_task(name="billing.tasks.reconciliation_task", acks_late=True)
def reconciliation_task(reconciliation_id: int) -> None:
    """Run a queued reconciliation: load the row by id and call the service.

    The service records status, progress (rows_done) and a readable error on the row; a
    refused log is not a task failure.
    """
    from billing.models import Reconciliation
    from billing.services.reconciliation import ReconciliationRefused, reconciliation_run
    from logs.models.jobs import JobStatus

    recon = Reconciliation.objects.select_related("customer").filter(pk=reconciliation_id).first()
    if recon is None or not JobStatus.is_active(recon.status):
        return
    try:
        reconciliation_run(reconciliation=recon)
    except ReconciliationRefused:
        pass


@shared_task(name="billing.tasks.reconciliations_reap")
def reconciliations_reap() -> list[int]:
    """Beat, every minute: running reconciliations whose worker stopped are failed, in words."""
    from billing.services.reconciliation import reconciliations_reap as reap

    return reap()
