"""PostgreSQL only: a GIN index for key-group containment and a trigram index for the
portal's search of activity titles. Nothing happens on SQLite."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS activity_key_groups_gin "
        "ON campaigns_activity USING gin (key_groups jsonb_path_ops)"
    )
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS activity_title_trgm "
        "ON campaigns_activity USING gin (title gin_trgm_ops)"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS activity_key_groups_gin")
    schema_editor.execute("DROP INDEX IF EXISTS activity_title_trgm")


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0002_awards")]

    operations = [migrations.RunPython(forwards, backwards)]
