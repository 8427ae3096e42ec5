"""Searching short Chinese words on PostgreSQL: an index of one- and two-character grams.

pg_trgm (``kepu.core.trigram``) needs three characters to look anything up, but Chinese
search words are mostly two (农技, 讲座, 科普): for those a trigram index has nothing to
offer and PostgreSQL reads every row. Here instead:

- ``kepu_grams(a, b)``, an immutable SQL function, returns the distinct single
  characters and character pairs of ``UPPER(a)`` and of ``UPPER(b)`` (pairs never span
  the two texts); a GIN index stores it per row (:func:`gram_index`);
- ``kepu_query_grams(q)`` returns the pairs of ``UPPER(q)`` (its single character when
  it has one);
- :func:`grams_match` is ``kepu_grams(a, b) @> kepu_query_grams(q)``: every pair of the
  search word occurs in one of the texts. That is necessary for ``a ILIKE %q%`` or
  ``b ILIKE %q%`` (the same ``UPPER`` as Django's ``icontains``), so it only narrows;
  the ``icontains`` lookups beside it still decide. The query side is a constant the
  planner folds, so the condition is answered from the index alone.

``kepu_grams`` is declared expensive (``COST 10000``) so the planner never evaluates
it row by row in a scan (it would take seconds over 500,000 rows); such estimates are
also why PostgreSQL's JIT is off for the project's connections (``kepu.settings``: it
spent 0.8 s compiling a 0.2 s query). Callers use :func:`grams_match` only where the
index should serve (``kepu.campaigns.selectors.public_search_size``). SQLite has none of
this: :func:`grams_match` returns None there and the ``icontains`` lookups scan.
"""

from __future__ import annotations

from typing import Any

from django.db import connection, migrations
from django.db.models import BooleanField, F, Func, TextField, Value
from django.db.models.expressions import Combinable

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION kepu_grams(a text, b text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE COST 10000 AS $$
  SELECT coalesce(array_agg(DISTINCT substr(s, i, n)), '{}')
  FROM unnest(ARRAY[upper(coalesce(a, '')), upper(coalesce(b, ''))]) AS s,
       generate_series(1, 2) AS n,
       generate_series(1, char_length(s) - n + 1) AS i
$$;
CREATE OR REPLACE FUNCTION kepu_query_grams(q text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN char_length(q) < 2 THEN ARRAY[upper(q)]
  ELSE (SELECT array_agg(DISTINCT substr(upper(q), i, 2))
        FROM generate_series(1, char_length(q) - 1) AS i) END
$$;
"""
DROP_FUNCTIONS = """
DROP FUNCTION IF EXISTS kepu_grams(text, text);
DROP FUNCTION IF EXISTS kepu_query_grams(text);
"""


def gram_functions() -> migrations.RunPython:
    """A migration step creating the two SQL functions on PostgreSQL."""

    def forwards(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(FUNCTIONS)

    def backwards(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(DROP_FUNCTIONS)

    return migrations.RunPython(forwards, backwards, elidable=False)


def gram_index(
    app_label: str, model_name: str, name: str, fields: tuple[str, str], where: str = ""
) -> Any:
    """A migration step adding ``CREATE INDEX name … USING gin (kepu_grams(a, b))
    [WHERE …]`` on PostgreSQL (and analysing the table so the planner has the index's
    statistics). A partial index serves the queries whose conditions imply ``where``."""

    def forwards(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor != "postgresql":
            return
        model = apps.get_model(app_label, model_name)
        quote = schema_editor.quote_name
        a, b = (quote(model._meta.get_field(f).column) for f in fields)
        table = quote(model._meta.db_table)
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {quote(name)} ON {table} "
            f"USING gin (kepu_grams({a}, {b})){f' WHERE {where}' if where else ''}"
        )
        # The planner ignores a partial index's statistics; expression statistics
        # (PostgreSQL 14+) give it the grams' frequencies all the same.
        if schema_editor.connection.pg_version >= 140000:
            schema_editor.execute(
                f"CREATE STATISTICS IF NOT EXISTS {quote(name + '_stats')} "
                f"ON (kepu_grams({a}, {b})) FROM {table}"
            )
        schema_editor.execute(f"ANALYZE {table}")

    def backwards(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")
            schema_editor.execute(
                f"DROP STATISTICS IF EXISTS {schema_editor.quote_name(name + '_stats')}"
            )

    return migrations.RunPython(forwards, backwards, elidable=False)


class _Grams(Func):
    function = "kepu_grams"
    output_field = TextField()


class _QueryGrams(Func):
    function = "kepu_query_grams"
    output_field = TextField()


class _Contains(Func):
    template = "%(expressions)s"
    arg_joiner = " @> "
    output_field = BooleanField()


def grams_match(fields: tuple[str, str], q: str) -> Combinable | None:
    """``kepu_grams(a, b) @> kepu_query_grams(q)`` for ``filter()`` on PostgreSQL (the
    index's expression exactly, so the GIN index serves it); None elsewhere."""
    if connection.vendor != "postgresql" or not q:
        return None
    return _Contains(_Grams(F(fields[0]), F(fields[1])), _QueryGrams(Value(q)))
