"""Celery tasks of logs: each loads its job row by id and calls a service."""
import logging

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError


@shared_task(name="logs.tasks.ingest_run", acks_late=True)
def ingest_run(batch_id: int) -> None:
    """Ingest an uploaded file: load the batch row by id and run the ingest service on it."""
    from logs.services.ingest import ingest_batch_run

    ingest_batch_run(batch_id=batch_id)


@shared_task(name="logs.tasks.overview_warm", ignore_result=True)
def overview_warm(customer_ids: list[int]) -> int:
    """Compute the default Overview pages of these customers (and staff's) into the shared cache."""
    from logs.selectors.rollups import overview_warm_taken
    from logs.views.overview import overview_warm as warm

    overview_warm_taken(customer_ids)
    fold()  # staff's "all customers" page, warmed below, then reads the fewest coarse rows
    return warm(customer_ids=customer_ids)


@shared_task(name="logs.tasks.all_customers_fold", ignore_result=True)
def all_customers_fold() -> int:
    """Sum the coarse rollups of the hours written since into staff's all-customers rollups."""
    return fold()


def fold() -> int:
    from logs.services.rollups import all_customers_fold as fold_hours

    return fold_hours()


# --- exports -------------------------------------------------------------------------------

_export_log = logging.getLogger("logs.exports")
EXPORT_RETRIES = 3


class _ExportTask(Task):
    """Records the failure once, after the last try (transient errors are retried first)."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        from logs.services.exports import export_fail

        job_id = args[0] if args else kwargs.get("job_id")
        if isinstance(exc, (OperationalError, InterfaceError)):
            error = (f"The database connection was lost {EXPORT_RETRIES + 1} times while exporting; "
                     "please retry.")
        else:
            error = f"The export failed: {exc.__class__.__name__}; please retry."
        try:
            export_fail(job_id=job_id, error=error)
        except Exception:  # noqa: BLE001  (the database may still be gone: the reaper settles it)
            _export_log.exception("could not record the failure of export %s", job_id)


@shared_task(bind=True, base=_ExportTask, name="logs.tasks.export_run", acks_late=True,
             autoretry_for=(OperationalError, InterfaceError), max_retries=EXPORT_RETRIES,
             retry_backoff=2, retry_backoff_max=60, retry_jitter=True,
             soft_time_limit=3 * 3600, time_limit=3 * 3600 + 300)
def export_run(self, job_id: int) -> str:
    """Write an export's file: load the job row by id and run the export service on it."""
    from logs.services.exports import export_job_run

    worker = f"{self.request.hostname or 'local'} {self.request.id or ''}".strip()
    return export_job_run(job_id=job_id, worker=worker)


@shared_task(name="logs.tasks.exports_expire")
def exports_expire() -> int:
    """Delete export files past their expiry and mark their jobs expired."""
    from logs.services.exports import exports_expire as expire

    return expire()


@shared_task(name="logs.tasks.jobs_reap")
def jobs_reap() -> dict:
    """Running jobs of logs whose worker stopped: exports are re-queued once, then failed; ingest
    batches are failed (uploading the file again stores only the missing calls). All with a clear
    message. (Reconciliations are billing's: billing.tasks.reconciliations_reap.)"""
    from logs.services.exports import exports_reap
    from logs.services.ingest import ingests_reap

    result = exports_reap()
    result["ingests_failed"] = ingests_reap()
    return result


@shared_task(name="logs.tasks.calls_partitions")
def calls_partitions() -> None:
    """Beat, daily: the call table's partitions for the coming months, then retention's drops."""
    from logs.services.partitions import partitions_ensure
    from logs.services.retention import retention_run

    partitions_ensure()
    retention_run()
