"""A prefix index for the volunteer name search on PostgreSQL.

Chinese names are two or three characters: too short for trigram lookups, so the search is
a prefix search (``name LIKE '张伟%'``), which a ``varchar_pattern_ops`` b-tree serves under
any collation. SQLite gets nothing (it scans, fine at its sizes)."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # (an early build of 0002 added a trigram index: useless for two-character names)
    schema_editor.execute("DROP INDEX IF EXISTS volunteer_name_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS volunteer_name_prefix "
        "ON registry_volunteer (name varchar_pattern_ops)"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS volunteer_name_prefix")


class Migration(migrations.Migration):
    dependencies = [("registry", "0002_museums_volunteers")]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
