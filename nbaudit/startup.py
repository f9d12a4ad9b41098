"""Start-up checks that settings run before anything else: each refuses in words, naming the
setting to change, instead of a traceback from deep inside SQLite or the broker later on.

Kept free of Django imports beyond the exception, since settings import it.
"""
from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


class StartupRefused(ImproperlyConfigured):
    """nbaudit will not start as configured; the message says why and what to set.
    manage.py prints it without a traceback."""


_REASONS = {
    errno.EROFS: "it is on a read-only file system",
    errno.EACCES: "the user running nbaudit may not write there",
    errno.EPERM: "the user running nbaudit may not write there",
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.ENOTDIR: "a file, not a folder, stands on that path",
    errno.EEXIST: "a file, not a folder, stands on that path",
}


def _reason(exc: OSError) -> str:
    return _REASONS.get(exc.errno, exc.strerror or str(exc))


def _who() -> str:
    try:
        import pwd

        return f"{pwd.getpwuid(os.geteuid()).pw_name} (uid {os.geteuid()})"
    except (ImportError, KeyError):
        return f"uid {os.geteuid()}" if hasattr(os, "geteuid") else "this user"


def folder_problem(path: Path) -> str | None:
    """Why nbaudit cannot keep files in `path` (created if missing), or None when it can.

    Writes and removes a probe file, which is what the database, the broker and the exports
    will do: permission bits alone miss a read-only mount or a full disk.
    """
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"it cannot be created: {_reason(exc)}"
    if not path.is_dir():
        return _REASONS[errno.ENOTDIR]
    try:
        with tempfile.TemporaryFile(dir=path, prefix=".nbaudit-probe-"):
            pass
    except OSError as exc:
        return f"nothing can be written in it: {_reason(exc)}"
    return None


def file_problem(path: Path) -> str | None:
    """Why nbaudit cannot write the existing file `path` (a SQLite database), or None."""
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return "the file is read-only for the user running nbaudit"
    return None


def require_writable(folders: list[tuple[str, Path]], files: list[tuple[str, Path]] = ()) -> None:
    """Refuse to start, naming each folder (or file) and what is wrong with it."""
    problems = []
    for what, path in folders:
        why = folder_problem(path)
        if why:
            problems.append(f"- {what}, {path}: {why}")
    for what, path in files:
        why = file_problem(path)
        if why:
            problems.append(f"- {what}, {path}: {why}")
    if problems:
        raise StartupRefused(
            f"nbaudit cannot start: it keeps its files under NBAUDIT_DATA_DIR and cannot write there "
            f"as {_who()}.\n" + "\n".join(problems) + "\n"
            "Make these writable for that user, or set NBAUDIT_DATA_DIR to a writable folder."
        )


DEV_SECRET_KEY = "nbaudit-dev-only-not-secret"


def secret_key(environ=os.environ) -> str:
    """NBAUDIT_SECRET_KEY; the public development key only for the embedded SQLite default.

    A start with DATABASE_URL is a production start (or CI's, whose test settings set a key of
    their own): on the public key anyone could forge session cookies, password-reset links and
    signed values, so it is refused whatever NBAUDIT_DEBUG says.
    """
    key = environ.get("NBAUDIT_SECRET_KEY") or DEV_SECRET_KEY
    if environ.get("DATABASE_URL") and key == DEV_SECRET_KEY:
        raise StartupRefused(
            "nbaudit will not start on the public development secret key: DATABASE_URL is set "
            "(a production database) but NBAUDIT_SECRET_KEY is not. Set NBAUDIT_SECRET_KEY to a "
            "long random value kept secret and the same on every web server and worker, e.g. "
            "the output of: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    return key
