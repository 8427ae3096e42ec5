"""Reads for the annual statistics: scoped lists, the report form's rows and the
roll-ups per region and per department kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import connections
from django.db.models import BigIntegerField, CharField, F, QuerySet, Sum, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Concat, StrIndex, Substr

from kepu.core.types import UserLike
from kepu.orgs.scoping import Action
from kepu.regions.models import Region
from kepu.statistics import core
from kepu.statistics.models import (
    Collection,
    CollectionTotal,
    Population,
    ReportStatus,
    StatReport,
)


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


def group_key(by: str, base: str) -> Any:
    """The roll-up group of a report as an SQL expression: its department kind, or the
    region path one level below ``base`` (``base`` itself for the region's own units):
    ``base`` + the next path segment of the report's region (paths end with "/")."""
    if by == "department":
        return F("department")
    start = len(base) + 1
    rest = Substr("region__path", start)
    return Concat(
        Value(base),
        Substr("region__path", start, StrIndex(rest, Value("/"))),
        output_field=CharField(),
    )


def _quoted_codes(codes: list[str]) -> list[str]:
    # Codes are catalogue data (CODE_RE: a letter then letters, digits, "_"); checked again
    # here because they are written into the SQL text (as quoted names / JSON paths).
    for code in codes:
        if not core.CODE_RE.match(code):
            raise ValueError(f"invalid indicator code {code!r}")
    return codes


def group_sums(
    qs: QuerySet[StatReport], *, key: Any, codes: list[str]
) -> dict[str, dict[str, int]]:
    """``{group: {code: sum, …, "_reports": n}}`` of the reports in ``qs`` (a queryset
    through the scoping gate), summed in the database in one pass.

    The values stay one JSON object per report; the sums are taken where they lie:
    PostgreSQL expands each report's object once into typed columns (``jsonb_to_record``,
    one detoast per report instead of one per indicator) and sums them per group;
    other databases (SQLite) walk each object once with ``json_each`` per group and key.
    """
    codes = _quoted_codes(list(codes))
    inner = qs.order_by().annotate(_g=key).values("_g", "values")
    using = qs.db
    connection = connections[using]
    sql, params = inner.query.get_compiler(using).as_sql()
    out: dict[str, dict[str, int]] = {}
    with connection.cursor() as cur:
        if connection.vendor == "postgresql" and codes:
            columns = ", ".join(f'"{c}" bigint' for c in codes)
            sums = ", ".join(f'SUM(x."{c}")' for c in codes)
            cur.execute(
                f'SELECT s."_g", COUNT(*), {sums} FROM ({sql}) s '
                f'CROSS JOIN LATERAL jsonb_to_record(s."values") AS x({columns}) '
                f'GROUP BY s."_g"',
                params,
            )
            for group, n, *values in cur.fetchall():
                row = {c: int(v or 0) for c, v in zip(codes, values, strict=True)}
                row["_reports"] = n
                out[group] = row
            return out
        cur.execute(f'SELECT s."_g", COUNT(*) FROM ({sql}) s GROUP BY s."_g"', params)
        for group, n in cur.fetchall():
            out[group] = {**dict.fromkeys(codes, 0), "_reports": n}
        cur.execute(
            f'SELECT s."_g", e.key, SUM(e.value) FROM ({sql}) s, json_each(s."values") e '
            f'GROUP BY s."_g", e.key',
            params,
        )
        for group, code, total in cur.fetchall():
            if code in out[group] and code != "_reports":
                out[group][code] = int(total or 0)
    return out


def kept_sums(
    *, user: UserLike, collection: Collection, by: str, codes: list[str]
) -> dict[str, dict[str, int]] | None:
    """The roll-up groups from the collection's kept totals (``CollectionTotal``: a few
    hundred rows however many reports), or None when the user does not see them all
    (an office below the collection's region) or the collection keeps none."""
    rows = list(
        CollectionTotal.objects.restrict(user, Action.VIEW)
        .filter(collection=collection)
        .only("group", "department", "reports", "values")
    )
    if not any(r.group == "" and r.department == "" for r in rows):
        return None
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        if r.group == "" and r.department == "":
            continue
        key = r.department if by == "department" else r.group
        group = out.get(key)
        if group is None:
            group = out[key] = {**dict.fromkeys(codes, 0), "_reports": 0}
        for code in codes:
            group[code] += int(r.values.get(code, 0))
        group["_reports"] += r.reports
    return out


def rollup(*, user: UserLike, collection: Collection, by: str = "region") -> Rollup:
    """Accepted reports summed per region one level below the collection's region (the
    region's own units as 本级) or per department kind; with derived indicators.

    Read from the kept totals when the user sees the whole collection (:func:`kept_sums`),
    else summed in the database (:func:`group_sums`) over the reports the user may see."""
    catalogue = collection.catalogue.parsed()
    codes = catalogue.codes()
    base = collection.region.path
    groups = kept_sums(user=user, collection=collection, by=by, codes=codes)
    if groups is None:
        qs = StatReport.objects.restrict(user, Action.VIEW).filter(
            collection=collection, status=ReportStatus.ACCEPTED
        )
        groups = group_sums(qs, key=group_key(by, base), codes=codes)
    population: dict[str, int] = {}
    if by == "department":
        # the names reports carry are the catalogue's (set when the collection opened)
        labels = {d.code: d.name for d in catalogue.departments}
        labels.setdefault(*core.OTHER_DEPARTMENT)
    else:
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
    """(year, accepted total) of one indicator over the office's collections: from the
    kept whole-collection totals, else summed in the database."""
    collections = (
        Collection.objects.restrict(user, Action.VIEW)
        .filter(office_id=collection.office_id)
        .order_by("year")
        .values_list("pk", "year")
    )
    years = dict(collections)
    totals = dict.fromkeys(years.values(), 0)
    _quoted_codes([code])
    kept = {
        t.collection_id: t
        for t in CollectionTotal.objects.restrict(user, Action.VIEW).filter(
            collection_id__in=list(years), group="", department=""
        )
    }
    for cid, t in kept.items():
        totals[years[cid]] += int(t.values.get(code, 0))
    rows = (
        StatReport.objects.restrict(user, Action.VIEW)
        .filter(
            collection_id__in=[c for c in years if c not in kept],
            status=ReportStatus.ACCEPTED,
        )
        .order_by()
        .values("collection_id")
        .annotate(total=Sum(Cast(KeyTextTransform(code, "values"), BigIntegerField())))
    )
    for row in rows:
        totals[years[row["collection_id"]]] += int(row["total"] or 0)
    return sorted(totals.items())
