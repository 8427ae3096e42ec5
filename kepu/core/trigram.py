"""Trigram (pg_trgm) search indexes on PostgreSQL, nothing on SQLite.

Searches stay plain ``icontains`` lookups everywhere. On PostgreSQL Django writes them
as ``UPPER(col::text) LIKE UPPER('%q%')``; a GIN index over ``UPPER(col)`` with the
``gin_trgm_ops`` operator class serves exactly that expression, so a keyword search
over 200,000 tasks or 70,000 organisations reads the index instead of every row
(queries of three characters or more; shorter ones have no trigram to look up: for
two-character Chinese words see ``kepu.core.grams``, used by the campaign portal).
SQLite gets no index and scans, which is fine at the sizes SQLite is meant for.

Migrations use :class:`TrigramExtension` and :func:`trigram_indexes`; both do nothing
on other databases.
"""

from __future__ import annotations

from django.contrib.postgres.operations import TrigramExtension as _TrigramExtension
from django.db import migrations


class TrigramExtension(_TrigramExtension):
    """``CREATE EXTENSION IF NOT EXISTS pg_trgm`` on PostgreSQL only; never dropped
    on the way back (other apps' indexes use it)."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:  # type: ignore[no-untyped-def]
        return None


def trigram_indexes(
    app_label: str, model_name: str, fields: dict[str, str]
) -> migrations.RunPython:
    """A migration step adding ``{index name: field}`` trigram indexes on PostgreSQL:
    ``CREATE INDEX … USING gin (UPPER(col) gin_trgm_ops)``."""

    def forwards(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor != "postgresql":
            return
        model = apps.get_model(app_label, model_name)
        quote = schema_editor.quote_name
        for name, field in fields.items():
            column = model._meta.get_field(field).column
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {quote(name)} ON {quote(model._meta.db_table)} "
                f"USING gin (UPPER({quote(column)}) gin_trgm_ops)"
            )

    def backwards(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor != "postgresql":
            return
        for name in fields:
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    return migrations.RunPython(forwards, backwards, elidable=False)
