"""Maintained volunteer totals: per team (volunteers on the register), per team and
year (volunteers who served, service records, hours), and both summed per region (the
team's region) and year (``RegionVolunteerTotals``; year 0: the register).

The team list, the team page and the per-region totals read these rows (110,000 teams)
instead of counting 5.2 million volunteers and their service records on each request.

- The services keep them up to date in the caller's transaction: registering, importing
  or (de)activating volunteers (:func:`volunteers_added`), creating a team or changing
  its region or active flag (:func:`team_changed`), adding, changing or deleting a
  service record (:func:`service_added` / :func:`service_removed`).
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

from kepu.registry.models import (
    RegionVolunteerTotals,
    ServiceRecord,
    TeamTotals,
    TeamYearTotals,
    Volunteer,
    VolunteerTeam,
)

REGISTER = 0  # RegionVolunteerTotals.year of the register counts


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


def volunteers_added(*, team: VolunteerTeam, n: int) -> None:
    """``n`` more (negative: fewer) active volunteers in the team."""
    if n:
        _bump(TeamTotals, {"team_id": team.pk}, {"volunteers": n})
        _bump(
            RegionVolunteerTotals,
            {"region_id": team.region_id, "year": REGISTER},
            {"volunteers": n},
        )


def team_changed(*, before: tuple[int, bool] | None, team: VolunteerTeam) -> None:
    """A team was created (``before`` None) or saved: its region or active flag as they
    were ``(region_id, active)``. Moves the team's counts to its region now."""
    old_region, old_active = before if before is not None else (None, False)
    if old_region is not None and old_active:
        _bump(RegionVolunteerTotals, {"region_id": old_region, "year": REGISTER}, {"teams": -1})
    if team.active:
        _bump(RegionVolunteerTotals, {"region_id": team.region_id, "year": REGISTER}, {"teams": 1})
    if old_region is None or old_region == team.region_id:
        return
    members = (
        TeamTotals.objects.filter(team_id=team.pk)  # unscoped: by key
        .values_list("volunteers", flat=True)
        .first()
    )
    if members:
        for region_id, sign in ((old_region, -1), (team.region_id, 1)):
            _bump(
                RegionVolunteerTotals,
                {"region_id": region_id, "year": REGISTER},
                {"volunteers": sign * members},
            )
    for y in TeamYearTotals.objects.filter(team_id=team.pk):  # unscoped: by key
        for region_id, sign in ((old_region, -1), (team.region_id, 1)):
            _bump(
                RegionVolunteerTotals,
                {"region_id": region_id, "year": y.year},
                {"served": sign * y.served, "records": sign * y.records, "hours": sign * y.hours},
            )


def _service(record: ServiceRecord, sign: int, first_or_last: bool) -> None:
    deltas = {
        "records": sign,
        "hours": sign * Decimal(record.hours),
        "served": sign if first_or_last else 0,
    }
    year = record.served_on.year
    _bump(TeamYearTotals, {"team_id": record.team_id, "year": year}, deltas)
    region_id = (
        VolunteerTeam.objects.filter(pk=record.team_id)  # unscoped: by key
        .values_list("region_id", flat=True)
        .get()
    )
    _bump(RegionVolunteerTotals, {"region_id": region_id, "year": year}, deltas)


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
    _service(record, 1, not _served_elsewhere(record))


def service_removed(record: ServiceRecord) -> None:
    """Uncount a record as it was saved (before a change or a delete)."""
    _service(record, -1, not _served_elsewhere(record))


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


def _regions(
    teams: dict[int, int], years: dict[tuple[int, int], tuple[int, int, Decimal]]
) -> dict[tuple[int, int], tuple[int, int, int, int, Decimal]]:
    """Region rows from team rows: ``(region, year) -> (teams, volunteers, served, records,
    hours)``."""
    out: dict[tuple[int, int], list[Any]] = {}
    team_rows = VolunteerTeam.objects.values_list("pk", "region_id", "active")  # unscoped
    region_of = {}
    for pk, region_id, active in team_rows:
        region_of[pk] = region_id
        row = out.setdefault((region_id, REGISTER), [0, 0, 0, 0, Decimal(0)])
        row[0] += int(active)
        row[1] += teams.get(pk, 0)
    for (team_id, year), (served, records, hours) in years.items():
        row = out.setdefault((region_of[team_id], year), [0, 0, 0, 0, Decimal(0)])
        row[2] += served
        row[3] += records
        row[4] += hours
    return {k: tuple(v) for k, v in out.items() if any(v)}  # type: ignore[misc]


def differences() -> int:
    """How many team, team-year and region rows differ between stored and computed
    totals."""
    got_teams, got_years = stored()
    want_teams, want_years = computed()
    bad = sum(1 for k in set(got_teams) | set(want_teams) if got_teams.get(k) != want_teams.get(k))
    bad += sum(1 for k in set(got_years) | set(want_years) if got_years.get(k) != want_years.get(k))
    want_regions = _regions(want_teams, want_years)
    got_regions = {
        (r, y): (t, v, s, n, h)
        for r, y, t, v, s, n, h in RegionVolunteerTotals.objects.values_list(  # unscoped
            "region_id", "year", "teams", "volunteers", "served", "records", "hours"
        )
        if any((t, v, s, n, h))
    }
    bad += sum(
        1 for k in set(got_regions) | set(want_regions) if got_regions.get(k) != want_regions.get(k)
    )
    return bad


def rebuild() -> tuple[int, int]:
    """Recompute every row in one transaction (set-based: INSERT … SELECT)."""
    from django.db import connection

    qn = connection.ops.quote_name
    vol, rec = Volunteer._meta.db_table, ServiceRecord._meta.db_table
    tt, ty = TeamTotals._meta.db_table, TeamYearTotals._meta.db_table
    team, rt = VolunteerTeam._meta.db_table, RegionVolunteerTotals._meta.db_table
    year = (
        "EXTRACT(YEAR FROM served_on)::integer"
        if connection.vendor == "postgresql"
        else "CAST(strftime('%Y', served_on) AS integer)"
    )
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"DELETE FROM {qn(tt)}")
        cur.execute(f"DELETE FROM {qn(ty)}")
        cur.execute(f"DELETE FROM {qn(rt)}")
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
        cur.execute(
            f"INSERT INTO {qn(rt)} (region_id, year, teams, volunteers, served, records, hours) "
            f"SELECT t.region_id, {REGISTER}, SUM(CASE WHEN t.active THEN 1 ELSE 0 END), "
            f"COALESCE(SUM(tt.volunteers), 0), 0, 0, 0 "
            f"FROM {qn(team)} t LEFT JOIN {qn(tt)} tt ON tt.team_id = t.id GROUP BY t.region_id"
        )
        cur.execute(
            f"INSERT INTO {qn(rt)} (region_id, year, teams, volunteers, served, records, hours) "
            f"SELECT t.region_id, y.year, 0, 0, SUM(y.served), SUM(y.records), SUM(y.hours) "
            f"FROM {qn(ty)} y JOIN {qn(team)} t ON t.id = y.team_id GROUP BY t.region_id, y.year"
        )
    return teams, years
