"""Reconciliation: a customer's local log against the platform's charges (billing.md).

By concern: `run` (the job: create, queue, run, reap), `staging` (the local log streamed into
a temporary table: COPY on PostgreSQL, executemany on SQLite), `matching` (the one SQL that
gives each request ID its category and money, written to ReconciliationItem rows with
INSERT ... SELECT) and `reads` (the figures of a finished one). The Excel download is an
export kind ("reconciliation", billing.exports), written by the export worker.
"""
from billing.services.reconciliation.matching import OVER_CATEGORIES
from billing.services.reconciliation.reads import reconciliation_summary
from billing.services.reconciliation.run import (
    BATCH,
    MAX_REJECTED_KEPT,
    PROGRESS_EVERY,
    RECON_STALE_AFTER,
    RECON_WORKER_LOST,
    ReconciliationRefused,
    reconciliation_create,
    reconciliation_enqueue,
    reconciliation_run,
    reconciliations_reap,
)
from billing.services.reconciliation.staging import MICRO

__all__ = [
    "BATCH", "MAX_REJECTED_KEPT", "MICRO", "OVER_CATEGORIES", "PROGRESS_EVERY", "RECON_STALE_AFTER",
    "RECON_WORKER_LOST", "ReconciliationRefused", "reconciliation_create", "reconciliation_enqueue",
    "reconciliation_run", "reconciliation_summary", "reconciliations_reap",
]
