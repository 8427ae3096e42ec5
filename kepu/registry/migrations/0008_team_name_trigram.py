"""Team name search (``icontains``) over 110,000 teams reads a trigram index on
PostgreSQL (``kepu.core.trigram``); nothing on SQLite."""

from django.db import migrations

from kepu.core.trigram import TrigramExtension, trigram_indexes


class Migration(migrations.Migration):
    dependencies = [("registry", "0007_region_volunteer_totals")]

    operations = [
        TrigramExtension(),
        trigram_indexes("registry", "volunteerteam", {"team_name_trgm": "name"}),
    ]
