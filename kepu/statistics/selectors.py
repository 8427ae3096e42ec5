"""Reads for the annual statistics: scoped lists, the report form's rows and the
roll-ups per region and per department kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from kepu.core.types import UserLike
from kepu.orgs.scoping import Action
from kepu.regions.models import Region
from kepu.statistics import core
from kepu.statistics.models import Collection, Population, ReportStatus, StatReport


def collection_list(*, user: UserLike) -> QuerySet[Collection]:
    return (
        Collection.objects.restrict(user, Action.VIEW)
        .select_related("office", "region")
        .order_by("-year", "region__code")
    )


def my_reports(*, user: UserLike) -> QuerySet[StatReport]:
    """Reports of the user's own organisations (what a unit fills in)."""
    from kepu.orgs.scoping import user_grants

    orgs = [g.organisation_id for g in user_grants(user)]
    return (
        StatReport.objects.restrict(user, Action.VIEW)
        .filter(organisation_id__in=orgs)
        .select_related("collection", "organisation")
        .order_by("-collection__year", "organisation__name")
    )


def collection_reports(
    *, user: UserLike, collection: Collection, status: str = "", q: str = ""
) -> QuerySet[StatReport]:
    qs = (
        StatReport.objects.restrict(user, Action.VIEW)
        .filter(collection=collection)
        .select_related("organisation", "region")
    )
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(organisation__name__icontains=q)
    return qs.order_by("region__code", "organisation__name")


def status_counts(*, user: UserLike, collection: Collection) -> dict[str, int]:
    from django.db.models import Count

    rows = (
        StatReport.objects.restrict(user, Action.VIEW)
        .filter(collection=collection)
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
    )
    counts = {s: 0 for s in ReportStatus.values}
    counts.update({r["status"]: r["n"] for r in rows})
    return counts


@dataclass
class RollupRow:
    key: str
    label: str
    values: dict[str, int]
    reports: int
    population: int | None = None
    derived: dict[str, float | None] = field(default_factory=dict)


@dataclass
class Rollup:
    by: str
    rows: list[RollupRow]
    total: RollupRow


def rollup(*, user: UserLike, collection: Collection, by: str = "region") -> Rollup:
    """Accepted reports summed per region one level below the collection's region (the
    region's own units as 本级) or per department kind; with derived indicators."""
    catalogue = collection.catalogue.parsed()
    codes = catalogue.codes()
    base = collection.region.path
    qs = (
        StatReport.objects.restrict(user, Action.VIEW)
        .filter(collection=collection, status=ReportStatus.ACCEPTED)
        .order_by()
    )
    if by == "department":
        data = qs.values_list("department", "department_name", "values")
        labels: dict[str, str] = {}

        def rows_by_department() -> Any:
            for dept, name, values in data.iterator(chunk_size=5000):
                labels[dept] = name
                yield dept, values

        groups = core.rollup(rows_by_department(), codes)
        population: dict[str, int] = {}
    else:
        data = qs.values_list("region__path", "values")
        groups = core.rollup(
            (
                (core.region_group(path, base), values)
                for path, values in data.iterator(chunk_size=5000)
            ),
            codes,
        )
        regions = {
            r.path: r
            for r in Region.objects.filter(path__in=list(groups)).only("path", "name", "code")
        }
        labels = {p: (f"{r.name}(本级)" if p == base else r.name) for p, r in regions.items()}
        population = {
            p.region.path: p.population
            # unscoped: published population figures of the regions rolled up (not personal)
            for p in Population.objects.filter(
                region__path__in=list(groups), year=collection.year
            ).select_related("region")
        }
    region_pop = (
        # unscoped: the published population of the collection's own region
        Population.objects.filter(region=collection.region, year=collection.year)
        .values_list("population", flat=True)
        .first()
    )
    rows = []
    for key in sorted(groups):
        values = groups[key]
        reports = values.pop("_reports")
        pop = population.get(key)
        rows.append(
            RollupRow(
                key=key,
                label=labels.get(key, key),
                values=values,
                reports=reports,
                population=pop,
                derived=core.derive(catalogue.derived, values, pop),
            )
        )
    total_values = core.total_of({r.key: r.values for r in rows}, codes)
    total_values.pop("_reports", None)
    total = RollupRow(
        key="",
        label=f"{collection.region.name}合计",
        values=total_values,
        reports=sum(r.reports for r in rows),
        population=region_pop,
        derived=core.derive(catalogue.derived, total_values, region_pop),
    )
    return Rollup(by=by, rows=rows, total=total)


def series(*, user: UserLike, collection: Collection, code: str) -> list[tuple[int, int]]:
    """(year, accepted total) of one indicator over the office's collections."""
    # The office's collections of every year, then each one's accepted total.
    collections = (
        Collection.objects.restrict(user, Action.VIEW)
        .filter(office_id=collection.office_id)
        .order_by("year")
        .values_list("pk", "year")
    )
    years = dict(collections)
    totals = dict.fromkeys(years.values(), 0)
    for cid, values in (
        StatReport.objects.restrict(user, Action.VIEW)
        .filter(collection_id__in=list(years), status=ReportStatus.ACCEPTED)
        .order_by()
        .values_list("collection_id", "values")
        .iterator(chunk_size=5000)
    ):
        totals[years[cid]] += int(values.get(code, 0))
    return sorted(totals.items())
