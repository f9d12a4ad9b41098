"""The ingest's insert target: new calls and their keys (CallKey), and the look-up of stored calls
by key. PostgreSQL writes with COPY (the values bulk_create would write), SQLite with bulk_create.

The unique key of a call is its CallKey row (logs.models.calls): a key already taken, by an
earlier ingest or a concurrent one, fails the chunk's transaction with an IntegrityError, which
the ingest handles as it always has (halves, then single records, retried once).
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable

from django.db import connection
from django.utils import timezone

from logs.models import Call, CallKey
from logs.services.partitions import partitions_for


def calls_insert(*, rows: list[dict], batch, copy: bool, partitions: set | None = None) -> tuple[int, int] | None:
    """Store new calls (dicts of Call fields, without id) and their keys, in the caller's transaction.
    Returns the (lowest, highest) id given on the COPY path (None on the ORM path).

    `partitions` (PostgreSQL): the caller's set of months known to have a partition, kept across
    chunks; a month without one gets it first where it is wanted (logs.services.partitions).
    """
    if not rows:
        return None
    if not copy:
        Call.objects.bulk_create([Call(batch=batch, **f) for f in rows], batch_size=1000)
        return None
    with connection.cursor() as cur:
        if partitions is not None:
            partitions_for([f["created_at"] for f in rows], cur=cur, known=partitions)
        cur.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [f"{Call._meta.db_table}_id_seq", len(rows)])
        ids = [r[0] for r in cur.fetchall()]
    for f, pk in zip(rows, ids):
        f["id"] = pk
    try:
        # The keys first: a key already taken fails the chunk before its calls are written.
        keys_copy(rows=rows)
        calls_copy(rows=rows, batch_id=batch.pk)
    finally:
        for f in rows:
            f.pop("id", None)
    return min(ids), max(ids)


def keys_copy(*, rows: Iterable[dict]) -> None:
    """PostgreSQL: the keys of new calls (with their ids) in one COPY."""
    table = CallKey._meta.db_table
    with connection.wrap_database_errors, connection.cursor() as cur, \
            cur.cursor.copy(f"COPY {table} (request_id, customer_id, call_id, created_at) FROM STDIN") as copy:
        lines = []
        for f in rows:
            lines.append(f"{_copy_text(f['request_id'])}\t{f['customer_id']}\t{f['id']}\t"
                         f"{_copy_datetime(f['created_at'])}")
            if len(lines) >= 10000:
                copy.write("\n".join(lines) + "\n")
                lines = []
        if lines:
            copy.write("\n".join(lines) + "\n")


def calls_by_key_sql(columns: str) -> str:
    """PostgreSQL: the stored calls of one customer's request IDs (%s: customer, list of IDs).

    Through the key table: one probe of its primary key per ID, then the call by (id, created_at),
    which reads one partition.
    """
    return (f"SELECT {columns} FROM {Call._meta.db_table} WHERE (id, created_at) IN "
            f"(SELECT call_id, created_at FROM {CallKey._meta.db_table} "
            f"WHERE customer_id = %s AND request_id = ANY(%s))")


def calls_by_key(*, customer_id: int, request_ids):
    """The stored calls of one customer's request IDs, as a queryset (both databases)."""
    keys = CallKey.objects.filter(customer_id=customer_id, request_id__in=request_ids)
    return Call.objects.filter(pk__in=keys.values("call_id"))


def calls_copy(*, rows: Iterable[dict], batch_id: int, with_id: bool = True) -> None:
    """The new calls of a chunk (dicts of Call fields) in one COPY.

    Rows are formatted here as COPY text (one converter per column, chosen once from the
    field's type) and sent in blocks of about a megabyte. A value the table cannot hold fails
    the COPY with the database's DataError (the ingest then finds the row that did).
    """
    # The id too (with_id): calls_insert took it from the sequence, for the call's key.
    fields = [f for f in Call._meta.concrete_fields if with_id or not f.primary_key]
    defaults = {}
    keys = []
    for field in fields:
        key = field.attname if field.is_relation else field.name
        keys.append(key)
        defaults[key] = field.get_default()
    defaults["batch_id"], defaults["ingested_at"] = batch_id, timezone.now()
    fixed = {"batch_id", "ingested_at"}
    converters = [_copy_converter(field) for field in fields]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    formatters: dict[tuple, object] = {}
    with connection.wrap_database_errors, connection.cursor() as cur, \
            cur.cursor.copy(f"COPY {Call._meta.db_table} ({columns}) FROM STDIN") as copy:
        lines: list[str] = []
        size = 0
        for f in rows:
            shape = tuple(f)
            line_of = formatters.get(shape)
            if line_of is None:
                line_of = formatters[shape] = _line_formatter(keys, converters, defaults, set(shape) - fixed)
            line = line_of(f)
            lines.append(line)
            size += len(line)
            if size > 1 << 20:
                copy.write("\n".join(lines) + "\n")
                lines, size = [], 0
        if lines:
            copy.write("\n".join(lines) + "\n")


def _line_formatter(keys: list[str], converters: list, defaults: dict, given: set[str]):
    """f(row) -> the COPY line of a row dict holding exactly the keys `given` (the rest: defaults).

    A chunk's rows mostly hold the same keys, so a line is formatted by one function made for
    them: a default column is its text, computed once; a given one is its converter's call.
    """
    parts, env = [], {}
    for i, (key, conv) in enumerate(zip(keys, converters)):
        if key in given:
            env[f"c{i}"] = conv
            parts.append(f"c{i}(f[{key!r}])")
        else:
            env[f"d{i}"] = conv(defaults[key])
            parts.append(f"d{i}")
    code = f"def line(f):\n    return '\\t'.join(({', '.join(parts)},))\n"
    exec(code, env)  # noqa: S102  (the code is made here, from the model's field names)
    return env["line"]


def _copy_text(value) -> str:
    """A value as a field of COPY's text format."""
    if value is None:
        return "\\N"
    value = str(value)
    if "\\" in value or not value.isprintable():  # \t, \n, \r are not printable
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def _copy_scalar(value) -> str:
    return "\\N" if value is None else str(value)


def _copy_bool(value) -> str:
    return "\\N" if value is None else ("t" if value else "f")


def _copy_datetime(value) -> str:
    if value is None:
        return "\\N"
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return value.isoformat()


def _copy_json(value) -> str:
    return "\\N" if value is None else _copy_text(json.dumps(value))


def _copy_converter(field):
    kind = field.get_internal_type()
    if kind == "JSONField":
        return _copy_json
    if kind == "BooleanField":
        return _copy_bool
    if kind == "DateTimeField":
        return _copy_datetime
    if kind in ("CharField", "TextField"):
        return _copy_text
    if kind in ("IntegerField", "SmallIntegerField", "BigIntegerField", "PositiveIntegerField",
                "PositiveSmallIntegerField", "ForeignKey", "DecimalField", "AutoField", "BigAutoField"):
        return _copy_scalar
    raise TypeError(f"no COPY converter for {field.name} ({kind})")  # a new field type: add one
