"""Fast bulk inserts of rows that are already checked: ``COPY`` on PostgreSQL.

``Model.objects.bulk_create`` builds a model instance per row and prepares every field
through the ORM; for 100,000 volunteers and their 100,000 audit entries that was most of
an import's time. :func:`insert_rows` takes plain values (``{attname: value}``) and sends
them with ``COPY … FROM STDIN`` (PostgreSQL) or ``executemany`` (SQLite). Fields a row
does not name get their model default (``auto_now_add`` fields: now).

With ``ids=True`` it returns the new primary keys in row order: on PostgreSQL they are
reserved from the table's sequence first (one query) and written explicitly; on SQLite
they are the consecutive row ids of the one ``executemany`` (the write lock is held
until the transaction ends). Call it inside ``transaction.atomic()``; signals are not
sent, so callers write their audit entries themselves (``kepu.audit.services``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, cast

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.utils import timezone


def _json(value: Any) -> Any:
    return None if value is None else json.dumps(value, ensure_ascii=False, cls=DjangoJSONEncoder)


def insert_rows(
    model: type[models.Model], rows: Sequence[dict[str, Any]], *, ids: bool = False
) -> list[int]:
    """Insert ``rows`` (attname → value) into ``model``'s table; the new pks if ``ids``."""
    if not rows:
        return []
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    defaults: dict[str, Any] = {}
    for f in fields:
        if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False):
            defaults[f.attname] = now
        elif f.has_default():
            defaults[f.attname] = f.get_default()
        else:
            defaults[f.attname] = None
    qn = connection.ops.quote_name
    table = qn(meta.db_table)
    pg = connection.vendor == "postgresql"
    names = [f.attname for f in fields]
    if pg:  # psycopg adapts the Python values; JSON goes as text
        json_at = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]

        def values(row: dict[str, Any]) -> list[Any]:
            out = [row[n] if n in row else defaults[n] for n in names]
            for i in json_at:
                out[i] = _json(out[i])
            return out

    else:

        def prep(f: models.Field) -> Callable[[Any], Any]:
            if isinstance(f, models.JSONField):
                return _json
            return lambda v: f.get_db_prep_save(v, connection)

        convert = [prep(f) for f in fields]

        def values(row: dict[str, Any]) -> list[Any]:
            return [
                conv(row[n] if n in row else defaults[n])
                for n, conv in zip(names, convert, strict=True)
            ]

    columns = [qn(cast(str, f.column)) for f in fields]
    with connection.cursor() as cursor:
        if pg:
            new_ids: list[int] = []
            if ids:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [meta.db_table, pk.column, len(rows)],
                )
                new_ids = [r[0] for r in cursor.fetchall()]
                columns = [qn(cast(str, pk.column)), *columns]
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                if ids:
                    for i, row in zip(new_ids, rows, strict=True):
                        copy.write_row([i, *values(row)])
                else:
                    for row in rows:
                        copy.write_row(values(row))
            return new_ids
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
        cursor.executemany(sql, [values(r) for r in rows])
        if not ids:
            return []
        cursor.execute("SELECT last_insert_rowid()")
        last = int(cursor.fetchone()[0])
        return list(range(last - len(rows) + 1, last + 1))
