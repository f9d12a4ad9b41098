"""Production settings, as an operator starts nbaudit: each case in a fresh process with the
environment it names (settings are read once, at start)."""
from __future__ import annotations

import json
import os
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from nbaudit import startup
from tests import ROOT

PROD_DB = "postgres://nbaudit@db.invalid:5432/nbaudit"  # never connected to by these checks
HEADERS = """
import json, django
django.setup()
from django.test import Client
c = Client()
r = c.get("/accounts/login/", secure=True)
plain = c.get("/accounts/login/")
proxied = c.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
print(json.dumps({"status": r.status_code, "hsts": r.get("Strict-Transport-Security"),
                  "csrf_cookie": r.cookies["csrftoken"].output(), "csp": r.get("Content-Security-Policy"),
                  "plain": [plain.status_code, plain.get("Location")], "proxied": proxied.status_code}))
"""


@pytest.fixture
def data_dir():
    """A data folder that any user can reach (pytest's own temporary folders are private)."""
    path = Path(tempfile.mkdtemp(prefix="nbaudit-settings-"))
    path.chmod(0o755)
    yield path
    for p in [path, *path.rglob("*")]:
        if p.is_dir():
            p.chmod(0o755)
    shutil.rmtree(path, ignore_errors=True)


def _run(args, data_dir, *, prefix=(), **env):
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TZ")}
    base.update(DJANGO_SETTINGS_MODULE="nbaudit.settings", NBAUDIT_DATA_DIR=str(data_dir),
                HOME=str(data_dir), PYTHONDONTWRITEBYTECODE="1")
    base.update({k: v for k, v in env.items() if v is not None})
    return subprocess.run([*prefix, sys.executable, *args], check=False, cwd=ROOT, env=base,
                          capture_output=True, text=True, timeout=120)


def _headers(data_dir, **env):
    proc = _run(["-c", HEADERS], data_dir, **env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- the secret key ---------------------------------------------------------------------

def test_a_production_start_on_the_development_key_is_refused(data_dir):
    proc = _run(["manage.py", "check"], data_dir, DATABASE_URL=PROD_DB)
    assert proc.returncode != 0
    assert "DATABASE_URL is set (a production database) but NBAUDIT_SECRET_KEY is not" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("env", [
    {"DATABASE_URL": PROD_DB},
    {"DATABASE_URL": PROD_DB, "NBAUDIT_DEBUG": "1"},
    {"DATABASE_URL": PROD_DB, "NBAUDIT_SECRET_KEY": startup.DEV_SECRET_KEY},
    {"DATABASE_URL": PROD_DB, "NBAUDIT_SECRET_KEY": ""},
])
def test_the_rule_holds_whatever_else_is_set(env):
    with pytest.raises(ImproperlyConfigured, match="NBAUDIT_SECRET_KEY to a long random value"):
        startup.secret_key(env)


def test_the_embedded_default_starts_without_a_key(data_dir):
    assert startup.secret_key({}) == startup.DEV_SECRET_KEY
    proc = _run(["manage.py", "check"], data_dir)
    assert proc.returncode == 0, proc.stderr
    assert "no issues" in proc.stdout


def test_production_starts_with_a_key(data_dir):
    key = secrets.token_urlsafe(50)
    assert startup.secret_key({"DATABASE_URL": PROD_DB, "NBAUDIT_SECRET_KEY": key}) == key
    proc = _run(["manage.py", "check"], data_dir, DATABASE_URL=PROD_DB, NBAUDIT_SECRET_KEY=key)
    assert proc.returncode == 0, proc.stderr


# --- HTTPS ------------------------------------------------------------------------------

def test_with_https_cookies_are_secure_hsts_is_sent_and_http_redirects(data_dir):
    h = _headers(data_dir, NBAUDIT_HTTPS="1")
    assert h["status"] == 200
    assert h["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert "Secure" in h["csrf_cookie"]
    assert h["plain"] == [301, "https://testserver/accounts/login/"]
    assert "script-src 'self'" in h["csp"]
    assert h["proxied"] == 301  # X-Forwarded-Proto is not believed without a proxy set up


def test_without_https_nothing_is_forced(data_dir):
    h = _headers(data_dir)
    assert h["status"] == 200 and h["hsts"] is None
    assert "Secure" not in h["csrf_cookie"]
    assert h["plain"] == [200, None]
    assert "script-src 'self'" in h["csp"]


def test_behind_a_proxy_its_forwarded_protocol_counts(data_dir):
    h = _headers(data_dir, NBAUDIT_HTTPS="1", NBAUDIT_PROXY_COUNT="1")
    assert h["proxied"] == 200
    assert h["plain"][0] == 301


def test_check_deploy_finds_nothing_in_production_settings(data_dir):
    proc = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], data_dir,
                DATABASE_URL=PROD_DB, NBAUDIT_SECRET_KEY=secrets.token_urlsafe(50),
                NBAUDIT_HTTPS="1", NBAUDIT_ALLOWED_HOSTS="nbaudit.example")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "System check identified no issues" in proc.stdout
    assert "WARNINGS" not in proc.stdout + proc.stderr


# --- the data folder --------------------------------------------------------------------

def _works(cmd) -> bool:
    try:
        return subprocess.run(cmd, check=False, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _not_root():
    """Root may write anywhere: as root the check runs in a user namespace of its own, without
    root's privileges, where the folder's permission bits hold."""
    if os.geteuid() != 0:
        return []
    cmd = ["unshare", "--user", "--map-user=65534", "--map-group=65534"]
    if not _works([*cmd, "true"]):
        pytest.skip("needs a user namespace (unshare --user) to meet a folder root may not write")
    return cmd


def _read_only_mount(folder: Path):
    """A read-only mount of `folder` (what the issue met), in a mount namespace of its own."""
    cmd = ["unshare", "--mount", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"', str(folder)]
    if not _works([*cmd, "true"]):
        pytest.skip("needs a mount namespace (unshare --mount, as root) for a read-only mount")
    return cmd


def _readonly(path: Path):
    path.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)


def test_a_data_folder_on_a_read_only_mount_is_named_in_words(data_dir):
    folder = data_dir / "data"
    assert _run(["manage.py", "check"], folder).returncode == 0  # made, as a first start would
    proc = _run(["manage.py", "check"], folder, prefix=_read_only_mount(folder))
    assert proc.returncode != 0
    assert (f"- the data folder (NBAUDIT_DATA_DIR), {folder}: nothing can be written in it: "
            "it is on a read-only file system") in proc.stderr
    assert f"- the filesystem broker, {folder / 'broker' / 'queue'}: nothing can be written" in proc.stderr
    assert "set NBAUDIT_DATA_DIR to a writable folder" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_read_only_data_folder_is_named_in_words(data_dir):
    folder = data_dir / "data"
    folder.mkdir()
    _readonly(folder)
    proc = _run(["manage.py", "check"], folder, prefix=_not_root())
    assert proc.returncode != 0
    assert (f"- the data folder (NBAUDIT_DATA_DIR), {folder}: nothing can be written in it: "
            "the user running nbaudit may not write there") in proc.stderr
    assert "set NBAUDIT_DATA_DIR to a writable folder" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "sqlite3.OperationalError" not in proc.stderr and "PermissionError" not in proc.stderr


def test_a_data_folder_that_cannot_be_made_is_named_in_words(data_dir):
    _readonly(data_dir)
    missing = data_dir / "new-data"
    proc = _run(["manage.py", "check"], missing, prefix=_not_root())
    assert proc.returncode != 0
    assert (f"- the data folder (NBAUDIT_DATA_DIR), {missing}: it cannot be created: "
            "the user running nbaudit may not write there") in proc.stderr


def test_a_read_only_database_file_is_named_in_words(data_dir):
    folder = data_dir / "data"
    folder.mkdir()
    (folder / "nbaudit.sqlite3").write_bytes(b"")
    (folder / "nbaudit.sqlite3").chmod(0o444)
    proc = _run(["manage.py", "check"], folder, prefix=_not_root())
    assert proc.returncode != 0
    assert (f"- the SQLite database, {folder / 'nbaudit.sqlite3'}: the file is read-only "
            "for the user running nbaudit") in proc.stderr


def test_a_folder_on_a_read_only_file_system_is_told_apart():
    assert startup._reason(OSError(30, "Read-only file system")) == "it is on a read-only file system"
    assert startup._reason(OSError(28, "No space left on device")) == "the disk is full"


def test_a_writable_folder_passes(data_dir):
    assert startup.folder_problem(data_dir / "fresh" / "deeper") is None
    assert (data_dir / "fresh" / "deeper").is_dir()
    assert list((data_dir / "fresh" / "deeper").iterdir()) == []  # the probe leaves nothing
