"""The staging table of a reconciliation: the local log's rows, loaded in batches.

Only the loading differs between the databases: binary COPY on PostgreSQL, executemany on
SQLite. Money is staged as integer micro-dollars (exact on both).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import connection

from logs.money import q6
from logs.parsers import LocalRow

MICRO = 1_000_000


class _Stage:
    """A temporary table of the local rows: (line, request_id, created_at, category, charged)."""

    def __init__(self, recon_id: int):
        self.name = f"recon_local_{recon_id}"
        self.extra = f"recon_price_{recon_id}"
        self.first = f"recon_first_{recon_id}"
        self.repeated = False
        self.pg = connection.vendor == "postgresql"
        self.ops = connection.ops

    def create(self) -> None:
        ts = "timestamptz" if self.pg else "text"
        with connection.cursor() as cur:
            self.drop(cur)
            cur.execute(f"CREATE TEMP TABLE {self.name} (line integer NOT NULL, request_id varchar(200) NOT NULL, "
                        f"created_at {ts} NOT NULL, category varchar(16) NOT NULL, charged bigint NULL)")
            cur.execute(f"CREATE TEMP TABLE {self.extra} (call_id bigint PRIMARY KEY, "
                        f"billing_mode varchar(16) NOT NULL, expected bigint NULL)")

    def drop(self, cur=None) -> None:
        own = cur is None
        cur = cur or connection.cursor()
        try:
            for table in (self.name, self.extra, self.first):
                cur.execute(f"DROP TABLE IF EXISTS {table}")
        finally:
            if own:
                cur.close()

    def load(self, rows: list[LocalRow]) -> None:
        if not rows:
            return
        with connection.cursor() as cur:
            if self.pg:
                # Binary COPY: psycopg's C dumpers write the rows, PostgreSQL reads them unparsed.
                with cur.cursor.copy(
                    f"COPY {self.name} (line, request_id, created_at, category, charged) FROM STDIN (FORMAT BINARY)"
                ) as copy:
                    copy.set_types(["int4", "varchar", "timestamptz", "varchar", "int8"])
                    write = copy.write_row
                    for line, rid, at, category, charged, _model in rows:
                        write((line, rid, at, category, None if charged is None else _micros(charged)))
            else:
                adapt = self.ops.adapt_datetimefield_value
                cur.executemany(
                    f"INSERT INTO {self.name} (line, request_id, created_at, category, charged) "
                    f"VALUES (%s, %s, %s, %s, %s)",
                    [(r.line, r.request_id, adapt(r.created_at), r.category, _micros(r.charged_usd))
                     for r in rows],
                )

    def span(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """The first and the last local time, as aware datetimes."""
        with connection.cursor() as cur:
            cur.execute(f"SELECT MIN(created_at), MAX(created_at) FROM {self.name}")
            first, last = cur.fetchone()
        if not self.pg and first is not None:
            first, last = (dt.datetime.fromisoformat(v).replace(tzinfo=dt.timezone.utc) for v in (first, last))
        return first, last

    def analyze(self, table: str | None = None) -> None:
        if self.pg:
            with connection.cursor() as cur:
                cur.execute(f"ANALYZE {table or self.name}")

    def keep_first(self, start, end) -> None:
        """The local rows of the period, one per request ID (its first line).

        Most logs name each request once: then the stage is read as it is. Otherwise the
        first line of each request ID is kept in a table of its own.
        """
        params = {"start": self.param(start), "end": self.param(end)}
        self.analyze()
        with connection.cursor() as cur:
            cur.execute(f"SELECT 1 FROM {self.name} WHERE created_at >= %(start)s AND created_at < %(end)s "
                        f"GROUP BY request_id HAVING COUNT(*) > 1 LIMIT 1", params)
            self.repeated = cur.fetchone() is not None
            if not self.repeated:
                return
            cur.execute(
                f"CREATE TEMP TABLE {self.first} AS SELECT line, request_id, category, charged FROM ("
                f"SELECT line, request_id, category, charged, "
                f"ROW_NUMBER() OVER (PARTITION BY request_id ORDER BY line) AS rn FROM {self.name} "
                f"WHERE created_at >= %(start)s AND created_at < %(end)s) s WHERE rn = 1", params)
        self.analyze(self.first)

    def local_source(self) -> str:
        if self.repeated:
            return self.first
        return (f"(SELECT line, request_id, category, charged FROM {self.name} "
                f"WHERE created_at >= %(start)s AND created_at < %(end)s)")

    def param(self, value: dt.datetime):
        return value if self.pg else self.ops.adapt_datetimefield_value(value)


def _micros(value: Decimal | None) -> int | None:
    return None if value is None else int(q6(value) * MICRO)
