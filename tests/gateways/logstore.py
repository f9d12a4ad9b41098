"""Gateway log stores for the tests: a `logs` table as New API's and One API's models declare it
(model/log.go, GORM's column types per database), filled with rows as those gateways write them."""
from __future__ import annotations

import json
import os
import socket
import sqlite3
import uuid

NOW = 1_790_000_000  # 2026-09-21 14:13:20 UTC

# New API (QuantumNous/new-api model/log.go): GORM maps int to bigint, string to text
# (varchar(191) where MySQL indexes it), bool to boolean.
NEW_API = {
    "postgresql": """CREATE TABLE logs (
        id bigserial PRIMARY KEY, user_id bigint, created_at bigint, type bigint, content text,
        username text DEFAULT '', token_name text DEFAULT '', model_name text DEFAULT '',
        quota bigint DEFAULT 0, prompt_tokens bigint DEFAULT 0, completion_tokens bigint DEFAULT 0,
        use_time bigint DEFAULT 0, is_stream boolean, channel_id bigint, token_id bigint DEFAULT 0,
        "group" text, ip text DEFAULT '', other text)""",
    "mysql": """CREATE TABLE logs (
        id bigint AUTO_INCREMENT PRIMARY KEY, user_id bigint, created_at bigint, type bigint,
        content longtext, username varchar(191) DEFAULT '', token_name varchar(191) DEFAULT '',
        model_name varchar(191) DEFAULT '', quota bigint DEFAULT 0, prompt_tokens bigint DEFAULT 0,
        completion_tokens bigint DEFAULT 0, use_time bigint DEFAULT 0, is_stream boolean,
        channel_id bigint, token_id bigint DEFAULT 0, `group` varchar(191), ip varchar(191) DEFAULT '',
        other longtext, KEY idx_created_at_id (id, created_at), KEY idx_created_at_type (created_at, type))
        DEFAULT CHARSET=utf8mb4""",
    "sqlite": """CREATE TABLE logs (
        id integer PRIMARY KEY AUTOINCREMENT, user_id integer, created_at integer, type integer,
        content text, username text DEFAULT '', token_name text DEFAULT '', model_name text DEFAULT '',
        quota integer DEFAULT 0, prompt_tokens integer DEFAULT 0, completion_tokens integer DEFAULT 0,
        use_time integer DEFAULT 0, is_stream numeric, channel_id integer, token_id integer DEFAULT 0,
        "group" text, ip text DEFAULT '', other text)""",
}
# One API (songquanpeng/one-api model/log.go): no error rows, request_time in ms, no `other`.
ONE_API = {
    "postgresql": """CREATE TABLE logs (
        id bigserial PRIMARY KEY, user_id bigint, created_at bigint, type bigint, content text,
        username text DEFAULT '', token_name text DEFAULT '', model_name text DEFAULT '',
        quota bigint DEFAULT 0, prompt_tokens bigint DEFAULT 0, completion_tokens bigint DEFAULT 0,
        channel_id bigint, request_time bigint DEFAULT 0)""",
    "mysql": """CREATE TABLE logs (
        id bigint AUTO_INCREMENT PRIMARY KEY, user_id bigint, created_at bigint, type bigint,
        content longtext, username varchar(191) DEFAULT '', token_name varchar(191) DEFAULT '',
        model_name varchar(191) DEFAULT '', quota bigint DEFAULT 0, prompt_tokens bigint DEFAULT 0,
        completion_tokens bigint DEFAULT 0, channel_id bigint, request_time bigint DEFAULT 0)
        DEFAULT CHARSET=utf8mb4""",
    "sqlite": """CREATE TABLE logs (
        id integer PRIMARY KEY AUTOINCREMENT, user_id integer, created_at integer, type integer,
        content text, username text DEFAULT '', token_name text DEFAULT '', model_name text DEFAULT '',
        quota integer DEFAULT 0, prompt_tokens integer DEFAULT 0, completion_tokens integer DEFAULT 0,
        channel_id integer, request_time integer DEFAULT 0)""",
}

PRO = "gemini-3-pro-image-preview"
PRICE = "模型价格 0.05，分组倍率 1"


def consume(i: int, *, user="acme", request_id: str | None = "auto", completion=1120, at=None, channel=3):
    other = {"model_ratio": 0, "group_ratio": 1, "model_price": 0.05, "completion_ratio": 1,
             "admin_info": {"use_channel": [str(channel)]}}
    if request_id == "auto":
        request_id = f"req-{i:06d}"
    if request_id:
        other["request_id"] = request_id
    return {"user_id": 7, "username": user, "created_at": at or NOW - 3600 + i, "type": 2, "content": PRICE,
            "token_name": "prod-web", "model_name": PRO, "quota": 25_000, "prompt_tokens": 20,
            "completion_tokens": completion, "use_time": 31, "is_stream": False, "channel_id": channel,
            "token_id": 11, "group": "default", "ip": "203.0.113.9", "other": json.dumps(other)}


def error(i: int, *, user="acme", text="status_code=503, The model is overloaded. Please try again later.",
          at=None, channel=4):
    return {"user_id": 7, "username": user, "created_at": at or NOW - 3600 + i, "type": 5, "content": text,
            "token_name": "prod-web", "model_name": PRO, "quota": 0, "prompt_tokens": 0,
            "completion_tokens": 0, "use_time": 2, "is_stream": False, "channel_id": channel, "token_id": 11,
            "group": "default", "ip": "", "other": json.dumps({"request_id": f"err-{i:06d}",
                                                              "admin_info": {"use_channel": [str(channel)]}})}


def topup(i: int, *, user="acme", at=None):
    return {"user_id": 7, "username": user, "created_at": at or NOW - 3600 + i, "type": 1,
            "content": "通过兑换码充值 ＄10.000000 额度", "quota": 5_000_000, "other": ""}


def manage(i: int, *, user="acme", at=None):
    return {"user_id": 1, "username": user, "created_at": at or NOW - 3600 + i, "type": 3,
            "content": "管理员将用户额度从 ＄1.000000额度 修改为 ＄2.000000额度", "other": ""}


def refund(i: int, *, user="acme", at=None):
    return {"user_id": 7, "username": user, "created_at": at or NOW - 3600 + i, "type": 6,
            "content": "异步任务失败退款", "model_name": PRO, "quota": 25_000, "other": ""}


def one_api(row: dict) -> dict:
    """The same row as One API writes it: request_time in ms, no other/use_time/group/ip."""
    out = {k: v for k, v in row.items() if k in ("user_id", "username", "created_at", "type", "content",
                                                 "token_name", "model_name", "quota", "prompt_tokens",
                                                 "completion_tokens", "channel_id")}
    if "use_time" in row:
        out["request_time"] = row["use_time"] * 1000 + 250
    return out


def mixed(n_consume: int = 6) -> list[dict]:
    """Consume rows (with and without other.request_id), errors, and the non-call rows."""
    rows = []
    for i in range(n_consume):
        rows.append(consume(len(rows) + 1, request_id="auto" if i % 2 == 0 else None))
    rows += [error(len(rows) + 1), topup(len(rows) + 2), manage(len(rows) + 3), refund(len(rows) + 4),
             consume(len(rows) + 5, completion=0, user="beta"),
             error(len(rows) + 6, text="status_code=429, Resource has been exhausted (e.g. check quota).")]
    return rows


# --- stores ------------------------------------------------------------------------------

def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Store:
    """A gateway's log database: create the table, insert rows, drop it all at the end."""

    def __init__(self, vendor: str, tmp_path=None):
        self.vendor = vendor
        self.name = f"gwsrc_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        if vendor == "sqlite":
            self.path = tmp_path / "gateway.db"
            self.dsn = f"sqlite:///{self.path}"
        elif vendor == "postgresql":
            self.dsn = f"postgres://postgres@127.0.0.1:5432/{self.name}"
            self._admin(f"CREATE DATABASE {self.name}")
        else:
            self.dsn = f"mysql://root@127.0.0.1:3306/{self.name}"
            self._admin(f"CREATE DATABASE {self.name} CHARACTER SET utf8mb4")
        self.conn = self._connect()

    def _admin(self, sql: str) -> None:
        if self.vendor == "postgresql":
            import psycopg

            with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
                c.execute(sql)
        else:
            import pymysql

            c = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", autocommit=True)
            with c.cursor() as cur:
                cur.execute(sql)
            c.close()

    def _connect(self):
        if self.vendor == "sqlite":
            return sqlite3.connect(self.path, isolation_level=None)
        if self.vendor == "postgresql":
            import psycopg

            return psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{self.name}", autocommit=True)
        import pymysql

        return pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", database=self.name,
                               charset="utf8mb4", autocommit=True)

    def execute(self, sql: str, params=None):
        cur = self.conn.cursor()
        cur.execute(sql, params) if params else cur.execute(sql)
        cur.close()

    def create(self, flavor: str = "new-api") -> Store:
        self.execute((NEW_API if flavor == "new-api" else ONE_API)[self.vendor])
        return self

    def insert(self, rows: list[dict]) -> None:
        mark = "?" if self.vendor == "sqlite" else "%s"
        q = (lambda c: f"`{c}`") if self.vendor == "mysql" else (lambda c: f'"{c}"')
        cur = self.conn.cursor()
        for row in rows:
            cols = list(row)
            cur.execute(f"INSERT INTO logs ({', '.join(q(c) for c in cols)}) VALUES "
                        f"({', '.join([mark] * len(cols))})", [row[c] for c in cols])
        cur.close()

    def close(self) -> None:
        self.conn.close()
        if self.vendor in ("postgresql", "mysql"):
            self._admin(f"DROP DATABASE {self.name}" + (" WITH (FORCE)" if self.vendor == "postgresql" else ""))
