"""PostgreSQL: writing new calls with COPY (the values bulk_create would write), for the ingest."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable

from django.db import connection
from django.utils import timezone

from logs.models import Call


def calls_copy(*, rows: Iterable[dict], batch_id: int) -> None:
    """The new calls of a chunk (dicts of Call fields) in one COPY.

    Rows are formatted here as COPY text (one converter per column, chosen once from the
    field's type) and sent in blocks of about a megabyte. A value the table cannot hold fails
    the COPY with the database's DataError (the ingest then finds the row that did).
    """
    fields = [f for f in Call._meta.concrete_fields if not f.primary_key]
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
