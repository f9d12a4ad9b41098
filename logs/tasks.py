"""Celery tasks of logs: each loads its job row by id and calls a service."""
from logs.tasks_ingest import ingest_run  # noqa: F401  (the ingest task lives beside its service)
