"""PostgreSQL only: the portal's search of published activities' titles and addresses
through a partial GIN index of their one- and two-character grams (``kepu.core.grams``; Chinese search words
are mostly two characters, which pg_trgm cannot look up). Replaces ``activity_title_trgm``
(a trigram index on the bare ``title``, which Django's ``UPPER(title) LIKE`` never used).
Nothing happens on SQLite."""

from django.db import migrations

from kepu.core.grams import gram_functions, gram_index


def drop_title_trgm(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS activity_title_trgm")


def restore_title_trgm(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS activity_title_trgm "
            "ON campaigns_activity USING gin (title gin_trgm_ops)"
        )


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0004_published_counts")]

    operations = [
        gram_functions(),
        migrations.RunPython(drop_title_trgm, restore_title_trgm, elidable=False),
        # Published activities only: the portal's search (its queries carry the same
        # status condition, like the partial index activity_published_order).
        gram_index(
            "campaigns",
            "activity",
            "activity_search_grams",
            ("title", "address"),
            where="status IN ('approved', 'completed')",
        ),
    ]
