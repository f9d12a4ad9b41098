from celery import shared_task


@shared_task(name="logs.tasks.ingest_run", acks_late=True)
def ingest_run(batch_id: int) -> None:
    """Ingest an uploaded file: load the batch row by id and run the ingest service on it."""
    from logs.services.ingest import ingest_batch_run

    ingest_batch_run(batch_id=batch_id)
