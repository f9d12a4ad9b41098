"""Reads from a streaming replica: the dashboard's pages read calls and rollups there.

With `DATABASE_REPLICA_URL` set, a second alias `replica` exists. A page in
`NBAUDIT_REPLICA_VIEWS` (the Overview, the Logs page, a call, the read API), answering a GET or
HEAD, reads the models of `NBAUDIT_REPLICA_MODELS` (calls, rollups, conflicts, prices: data the
page only shows) from the replica. Everything else stays on the primary: every write, every read
inside a transaction, every read of any other model (sessions, users, jobs: what a request must
read as it just wrote it), and every read outside those pages (services, tasks, commands, which
may act on what they read). Without a replica nothing changes.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import OperationalError, connections
from django.urls import Resolver404, resolve

REPLICA = "replica"
_reads = ContextVar("nbaudit_replica_reads", default=False)


def write_unless_busy(write, *, using: str = "default"):
    """Run `write` (a small autocommit write that may be skipped) unless it would wait for a lock.

    On SQLite a writer waits up to the busy timeout for the one write lock, which an ingest
    holds a chunk at a time: a read request that only records something incidental (a token's
    last use) should not wait behind it. There the write is tried with no busy timeout and
    skipped when the database is locked; on PostgreSQL (row locks, no such queue) it just runs.
    Returns what `write` returns, or None when skipped.
    """
    conn = connections[using]
    if conn.vendor != "sqlite" or conn.in_atomic_block:
        return write()
    conn.ensure_connection()
    with conn.cursor() as cur:
        cur.execute("PRAGMA busy_timeout")
        (saved,) = cur.fetchone()
        cur.execute("PRAGMA busy_timeout = 0")
    try:
        return write()
    except OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
        return None
    finally:
        with conn.cursor() as cur:
            cur.execute(f"PRAGMA busy_timeout = {int(saved)}")


@contextmanager
def replica_reads():
    """Within this block, reads of the replica's models may go to the replica."""
    token = _reads.set(True)
    try:
        yield
    finally:
        _reads.reset(token)


def _replica_models() -> set[str]:
    return {m.lower() for m in getattr(settings, "NBAUDIT_REPLICA_MODELS", ())}


class PrimaryReplicaRouter:
    """Reads of the dashboard's data inside `replica_reads()` go to the replica; all else to the primary."""

    def db_for_read(self, model, **hints):
        if (REPLICA in settings.DATABASES and _reads.get() and model._meta.label_lower in _replica_models()
                and not connections["default"].in_atomic_block):
            return REPLICA
        return "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two copies of it

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"  # the replica follows the primary's schema by replication


class ReplicaReadsMiddleware:
    """GET and HEAD requests to the pages of `NBAUDIT_REPLICA_VIEWS` read from the replica, the
    rendering of their templates included (a TemplateResponse renders after the view returns)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if REPLICA not in settings.DATABASES or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        try:
            view_name = resolve(request.path_info).view_name
        except Resolver404:
            return self.get_response(request)
        if view_name not in getattr(settings, "NBAUDIT_REPLICA_VIEWS", ()):
            return self.get_response(request)
        with replica_reads():
            return self.get_response(request)
