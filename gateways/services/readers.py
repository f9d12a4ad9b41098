"""Reading a gateway's log store: its database (PostgreSQL, MySQL/MariaDB, SQLite) or its admin API.

Read only and polite: bounded batches in id order after the high-water mark, a timeout on
every connection, query and request, and failures raised as GatewayError in words that name
the host but never a credential.
"""
from __future__ import annotations

import datetime as dt
import json
import socket
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

from gateways.services.rows import COLUMNS

CONNECT_TIMEOUT = 10   # seconds
QUERY_TIMEOUT = 60     # seconds, a query or an HTTP request
HTTP_PAGE_SIZE = 100   # New API's largest page
HTTP_MAX_PAGES = 200   # a window with more new rows than this is halved


class GatewayError(Exception):
    """A sync failed; the message says why in words (no credentials in it)."""


def _where(host, port) -> str:
    return f"{host or 'localhost'}:{port}" if port else (host or "localhost")


# --- databases ------------------------------------------------------------------------------

class DbReader:
    """`SELECT ... FROM logs WHERE id > :high_water ORDER BY id LIMIT :batch` on a DSN."""

    def __init__(self, dsn: str):
        self.dsn = dsn
        parts = urllib.parse.urlsplit(dsn)
        scheme = parts.scheme.split("+")[0].lower()
        self.vendor = {"postgres": "postgresql", "postgresql": "postgresql", "mysql": "mysql",
                       "mariadb": "mysql", "sqlite": "sqlite"}.get(scheme)
        if self.vendor is None:
            raise GatewayError(f"unknown database kind {parts.scheme!r}: give a postgres://, mysql:// "
                               f"or sqlite:///path DSN")
        self.parts = parts
        self.where = (("/" + parts.path.lstrip("/")) if self.vendor == "sqlite"
                      else _where(parts.hostname, parts.port or {"postgresql": 5432, "mysql": 3306}[self.vendor]))
        self.conn = None
        self.columns: list[str] = []

    # connection
    def open(self) -> None:
        p = self.parts
        user = urllib.parse.unquote(p.username or "")
        password = urllib.parse.unquote(p.password or "")
        dbname = urllib.parse.unquote(p.path.lstrip("/"))
        try:
            if self.vendor == "postgresql":
                import psycopg

                self.conn = psycopg.connect(
                    host=p.hostname or "localhost", port=p.port or 5432, user=user or None,
                    password=password or None, dbname=dbname or None, connect_timeout=CONNECT_TIMEOUT,
                    options=f"-c statement_timeout={QUERY_TIMEOUT * 1000} -c default_transaction_read_only=on",
                    autocommit=True)
            elif self.vendor == "mysql":
                import pymysql

                self.conn = pymysql.connect(
                    host=p.hostname or "localhost", port=p.port or 3306, user=user or "root",
                    password=password, database=dbname or None, charset="utf8mb4",
                    connect_timeout=CONNECT_TIMEOUT, read_timeout=QUERY_TIMEOUT, autocommit=True)
                with self.conn.cursor() as cur:
                    cur.execute("SET SESSION TRANSACTION READ ONLY")
            else:
                # sqlite:///abs/path, and SQLAlchemy's sqlite:////abs/path
                path = urllib.parse.unquote(p.netloc + p.path)
                if path.startswith("//"):
                    path = path[1:]
                self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=QUERY_TIMEOUT)
        except Exception as exc:  # noqa: BLE001  (each driver raises its own kinds)
            raise GatewayError(self._words(exc)) from None
        self.columns = self._columns()

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            finally:
                self.conn = None

    def _q(self, name: str) -> str:
        return f"`{name}`" if self.vendor == "mysql" else f'"{name}"'

    def _columns(self) -> list[str]:
        try:
            cur = self.conn.cursor()
            cur.execute("SELECT * FROM logs WHERE 1 = 0")
            names = [d[0].lower() for d in cur.description]
            cur.close()
        except Exception as exc:  # noqa: BLE001
            raise GatewayError(self._words(exc)) from None
        if "id" not in names or "type" not in names or "created_at" not in names:
            raise GatewayError("the `logs` table of this database is not a New API or One API log "
                               "(it has no id, type and created_at columns)")
        return [c for c in COLUMNS if c in names]

    def batches(self, *, after: int, size: int) -> Iterator[list[dict]]:
        """Lists of rows (dicts), ascending id, after `after`, `size` at most each, until none is left."""
        mark = "?" if self.vendor == "sqlite" else "%s"
        sql = (f"SELECT {', '.join(self._q(c) for c in self.columns)} FROM logs "
               f"WHERE id > {mark} ORDER BY id LIMIT {mark}")
        cols = self.columns
        while True:
            try:
                cur = self.conn.cursor()
                cur.execute(sql, (after, size))
                rows = cur.fetchall()
                cur.close()
            except Exception as exc:  # noqa: BLE001
                raise GatewayError(self._words(exc)) from None
            if not rows:
                return
            batch = [dict(zip(cols, r)) for r in rows]
            after = batch[-1]["id"]
            yield batch
            if len(rows) < size:
                return

    def _words(self, exc: Exception) -> str:
        text = str(exc).lower()
        where = self.where
        if self.vendor == "sqlite":
            if "no such table" in text:
                return "no `logs` table in this database"
            if "unable to open" in text:
                return f"the SQLite file {where} cannot be opened (missing, or not readable)"
            if "not a database" in text:
                return f"{where} is not an SQLite database"
            return f"the SQLite file {where} failed: {exc.__class__.__name__}"
        if ("doesn't exist" in text and "logs" in text) or ('relation "logs" does not exist' in text):
            return "no `logs` table in this database"
        if "refused" in text:
            return f"connection refused at {where}"
        if "password authentication failed" in text or "access denied" in text:
            return f"the database at {where} refused the user name or password"
        if "timeout" in text or "timed out" in text:
            return f"no answer from {where} within {CONNECT_TIMEOUT} s"
        if ("database" in text and "does not exist" in text) or "unknown database" in text:
            return f"no such database at {where}"
        if "name or service not known" in text or "nodename nor servname" in text \
                or "could not translate host name" in text or "name resolution" in text:
            return f"unknown host {self.parts.hostname}"
        if "can't connect" in text:
            return f"cannot connect to {where}"
        return f"the database at {where} failed: {exc.__class__.__name__}"


# --- the admin HTTP API ---------------------------------------------------------------------

class HttpReader:
    """New API's admin log API: `/api/log/` newest first, paged by offset, in a closed time window."""

    def __init__(self, base_url: str, token: str, user_id: int | None):
        self.base = base_url.rstrip("/")
        self.token = token
        self.user_id = user_id
        parts = urllib.parse.urlsplit(self.base)
        self.where = _where(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        self.columns: list[str] = []

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def get(self, path: str, params: dict | None = None) -> dict:
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        req = urllib.request.Request(url, headers={
            "Authorization": f"Bearer {self.token}", "New-Api-User": str(self.user_id or ""),
            "Accept": "application/json", "User-Agent": "nbaudit"})
        try:
            with urllib.request.urlopen(req, timeout=QUERY_TIMEOUT) as resp:
                body = resp.read()
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403):
                raise GatewayError("the gateway refused the access token") from None
            body = exc.read()
            try:
                data = json.loads(body)
            except ValueError:
                raise GatewayError(f"the gateway answered HTTP {exc.code}") from None
            raise GatewayError(f"the gateway answered: {data.get('message') or f'HTTP {exc.code}'}") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, ConnectionRefusedError):
                raise GatewayError(f"connection refused at {self.where}") from None
            if isinstance(reason, (socket.timeout, TimeoutError)):
                raise GatewayError(f"no answer from {self.where} within {QUERY_TIMEOUT} s") from None
            if isinstance(reason, socket.gaierror):
                raise GatewayError(f"unknown host {urllib.parse.urlsplit(self.base).hostname}") from None
            raise GatewayError(f"cannot reach {self.where}: {reason.__class__.__name__}") from None
        except TimeoutError:
            raise GatewayError(f"no answer from {self.where} within {QUERY_TIMEOUT} s") from None
        try:
            data = json.loads(body)
        except ValueError:
            raise GatewayError(f"the gateway at {self.where} did not answer JSON (is {self.base} its base URL?)") from None
        if not isinstance(data, dict):
            raise GatewayError(f"the gateway at {self.where} answered an unexpected shape")
        if data.get("success") is False:
            message = str(data.get("message") or "").strip()
            low = message.lower()
            if any(w in low for w in ("token", "未登录", "无权", "unauthorized", "access", "new-api-user")):
                raise GatewayError(f"the gateway refused the access token ({message})")
            raise GatewayError(f"the gateway answered: {message or 'success: false'}")
        return data

    def quota_per_unit(self) -> int | None:
        data = self.get("/api/status").get("data") or {}
        value = data.get("quota_per_unit")
        try:
            return int(float(value)) if value else None
        except (TypeError, ValueError):
            return None

    def batches(self, *, after: int, size: int, since: dt.datetime | None = None,
                overlap: int = 60, now: dt.datetime | None = None) -> Iterator[list[dict]]:
        """The rows after `after` up to a minute ago (`now - overlap`), ascending id, `size` a list.

        A window [since - overlap, end] is paged newest first until a page reaches the
        high-water mark (or the log's end); rows arriving meanwhile shift the offsets, so a
        row may be read twice: kept once, by id. A window holding more new rows than
        HTTP_MAX_PAGES pages is halved, and the windows after it follow in the same sync.
        """
        now = now or dt.datetime.now(dt.timezone.utc)
        final = int(now.timestamp()) - overlap
        start = max(int(since.timestamp()) - overlap, 0) if since else self._oldest(final)
        if start is None:
            return
        while True:
            end = final
            while True:
                rows = self._window(after=after, start=start, end=end)
                if rows is not None:
                    break
                end = start + (end - start) // 2  # too many new rows: the older half first
            rows.sort(key=lambda r: r["id"])
            for i in range(0, len(rows), size):
                yield rows[i:i + size]
            if rows:
                after = rows[-1]["id"]
                start = max(start, max(int(r.get("created_at") or 0) for r in rows) - overlap)
            if end >= final:
                return
            start = max(start, end - overlap)

    def _oldest(self, end: int) -> int | None:
        """The time of the log's oldest row (its last page, one row a page), None if it is empty."""
        params = {"p": 1, "page_size": 1, "type": 0, "end_timestamp": end}
        total = int((self.get("/api/log/", params).get("data") or {}).get("total") or 0)
        if not total:
            return None
        items = (self.get("/api/log/", {**params, "p": total}).get("data") or {}).get("items") or []
        return int(items[0]["created_at"]) if items else 0

    def _window(self, *, after: int, start: int, end: int) -> list[dict] | None:
        found: dict[int, dict] = {}
        for page in range(1, HTTP_MAX_PAGES + 1):
            data = self.get("/api/log/", {"p": page, "page_size": HTTP_PAGE_SIZE, "type": 0,
                                          "start_timestamp": start, "end_timestamp": end}).get("data") or {}
            items = data.get("items") if isinstance(data, dict) else data
            items = items or []
            reached = False
            for item in items:
                row = _http_row(item)
                if row["id"] <= after:
                    reached = True
                    continue
                found[row["id"]] = row
            if not self.columns and items:
                self.columns = list(items[0].keys())
            if reached or len(items) < HTTP_PAGE_SIZE:
                return list(found.values())
        return None if end > start + 1 else list(found.values())  # one second: take what it holds


def _http_row(item: dict) -> dict:
    row = {c: item.get(c) for c in COLUMNS if c in item}
    if "channel_id" not in item and isinstance(item.get("channel"), int):
        row["channel_id"] = item["channel"]  # New API names the column `channel` in its JSON
    row["id"] = int(item["id"])
    return row
