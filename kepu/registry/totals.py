"""Maintained volunteer totals: per team (volunteers on the register) and per team and
year (volunteers who served, service records, hours).

The team list, the team page and the per-region totals read these rows (110,000 teams)
instead of counting 5.2 million volunteers and their service records on each request.

- The services keep them up to date in the caller's transaction: registering, importing
  or (de)activating volunteers (:func:`volunteers_added`), adding, changing or deleting
  a service record (:func:`service_added` / :func:`service_removed`).
- :func:`rebuild` recomputes every row from the volunteers and records (set-based SQL;
  ``kepu registry recount``); :func:`differences` compares stored and computed rows
  (``kepu registry recount --check``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import Count, F, Sum
from django.db.models.functions import ExtractYear

from kepu.registry.models import ServiceRecord, TeamTotals, TeamYearTotals, Volunteer


def _bump(model: type[models.Model], key: dict[str, Any], deltas: dict[str, Any]) -> None:
    """Add ``deltas`` to the row ``key`` (created if missing), race-free."""
    update = {k: F(k) + v for k, v in deltas.items()}
    if model._default_manager.filter(**key).update(**update):  # unscoped: by key
        return
    try:
        with transaction.atomic():
            model._default_manager.create(**key, **deltas)
    except IntegrityError:  # created by someone else meanwhile
        model._default_manager.filter(**key).update(**update)  # unscoped: by key


def volunteers_added(*, team_id: int, n: int) -> None:
    """``n`` more (negative: fewer) active volunteers in the team."""
    if n:
        _bump(TeamTotals, {"team_id": team_id}, {"volunteers": n})


def _served_elsewhere(record: ServiceRecord) -> bool:
    """Whether the volunteer has another record in the record's year."""
    return (
        ServiceRecord.objects.filter(  # unscoped: one volunteer's records
            volunteer_id=record.volunteer_id, served_on__year=record.served_on.year
        )
        .exclude(pk=record.pk)
        .exists()
    )


def service_added(record: ServiceRecord) -> None:
    """Count a record that was just saved."""
    first = not _served_elsewhere(record)
    _bump(
        TeamYearTotals,
        {"team_id": record.team_id, "year": record.served_on.year},
        {"records": 1, "hours": Decimal(record.hours), "served": 1 if first else 0},
    )


def service_removed(record: ServiceRecord) -> None:
    """Uncount a record as it was saved (before a change or a delete)."""
    last = not _served_elsewhere(record)
    _bump(
        TeamYearTotals,
        {"team_id": record.team_id, "year": record.served_on.year},
        {"records": -1, "hours": -Decimal(record.hours), "served": -1 if last else 0},
    )


def computed() -> tuple[dict[int, int], dict[tuple[int, int], tuple[int, int, Decimal]]]:
    """Totals as the volunteers and records give them now."""
    teams = dict(
        Volunteer.objects.filter(active=True)  # unscoped: maintenance of every team
        .order_by()
        .values("team_id")
        .annotate(n=Count("pk"))
        .values_list("team_id", "n")
    )
    years = {
        (r["team_id"], r["year"]): (r["served"], r["records"], r["hours"] or Decimal(0))
        for r in ServiceRecord.objects.order_by()  # unscoped: maintenance
        .annotate(year=ExtractYear("served_on"))
        .values("team_id", "year")
        .annotate(
            served=Count("volunteer_id", distinct=True), records=Count("pk"), hours=Sum("hours")
        )
    }
    return teams, years


def stored() -> tuple[dict[int, int], dict[tuple[int, int], tuple[int, int, Decimal]]]:
    teams = dict(
        TeamTotals.objects.exclude(volunteers=0).values_list("team_id", "volunteers")
    )  # unscoped: maintenance
    years = {
        (t, y): (s, r, h)
        for t, y, s, r, h in TeamYearTotals.objects.exclude(records=0).values_list(  # unscoped
            "team_id", "year", "served", "records", "hours"
        )
    }
    return teams, years


def differences() -> int:
    """How many team and team-year rows differ between stored and computed totals."""
    got_teams, got_years = stored()
    want_teams, want_years = computed()
    bad = sum(1 for k in set(got_teams) | set(want_teams) if got_teams.get(k) != want_teams.get(k))
    bad += sum(1 for k in set(got_years) | set(want_years) if got_years.get(k) != want_years.get(k))
    return bad


def rebuild() -> tuple[int, int]:
    """Recompute every row in one transaction (set-based: INSERT … SELECT)."""
    from django.db import connection

    qn = connection.ops.quote_name
    vol, rec = Volunteer._meta.db_table, ServiceRecord._meta.db_table
    tt, ty = TeamTotals._meta.db_table, TeamYearTotals._meta.db_table
    year = (
        "EXTRACT(YEAR FROM served_on)::integer"
        if connection.vendor == "postgresql"
        else "CAST(strftime('%Y', served_on) AS integer)"
    )
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"DELETE FROM {qn(tt)}")
        cur.execute(f"DELETE FROM {qn(ty)}")
        cur.execute(
            f"INSERT INTO {qn(tt)} (team_id, volunteers) "
            f"SELECT team_id, COUNT(*) FROM {qn(vol)} WHERE active GROUP BY team_id"
        )
        teams = cur.rowcount
        cur.execute(
            f"INSERT INTO {qn(ty)} (team_id, year, served, records, hours) "
            f"SELECT team_id, {year}, COUNT(DISTINCT volunteer_id), COUNT(*), SUM(hours) "
            f"FROM {qn(rec)} GROUP BY team_id, {year}"
        )
        years = cur.rowcount
    return teams, years
