"""Excel and CSV exports: one code path for the Celery task, the page and the command.

By concern: `kinds` (the registry of kinds of export other apps add, and which calls a job
covers), `filters` (the filters an export carries), `jobs` (the job's life cycle: create and
queue, run, cancel, retry, expiry and the reaper) and `writer` (the one .xlsx writer).

`export_create` records the job and queues the task after commit; the task calls
`export_job_run`, which claims the row and calls `export_write`; the `export` command
calls `export_write` directly. The names below are the package's public ones.
"""
from logs.services.exports.filters import FILTER_KEYS, export_filters_clean
from logs.services.exports.jobs import (
    ACTIVE,
    MAX_ATTEMPTS,
    STALE_AFTER,
    WORKER_LOST,
    ExportCancelled,
    export_cancel,
    export_create,
    export_fail,
    export_job_run,
    export_pending,
    export_retry,
    exports_expire,
    exports_reap,
)
from logs.services.exports.kinds import (
    EXPORT_KINDS,
    ExportKind,
    export_filename,
    export_kind,
    export_kind_register,
    export_queryset,
)
from logs.services.exports.writer import (
    BATCH,
    CELL_MAX,
    export_dir,
    export_headers,
    export_path,
    export_write,
)

__all__ = [
    "ACTIVE", "BATCH", "CELL_MAX", "EXPORT_KINDS", "ExportCancelled", "ExportKind", "FILTER_KEYS",
    "MAX_ATTEMPTS", "STALE_AFTER", "WORKER_LOST", "export_cancel", "export_create", "export_dir",
    "export_fail", "export_filename", "export_filters_clean", "export_headers", "export_job_run",
    "export_kind", "export_kind_register", "export_path", "export_pending", "export_queryset", "export_retry",
    "export_write", "exports_expire", "exports_reap",
]
