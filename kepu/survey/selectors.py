"""Reads for literacy monitoring: scoped wave lists, results, breakdowns, trend."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import cast

from django.db.models import Count, OuterRef, QuerySet, Subquery

from kepu.core.types import UserLike
from kepu.orgs.scoping import Action, reads_from_below, user_grants
from kepu.regions.models import Region
from kepu.survey.models import (
    BREAKDOWNS,
    Estimate,
    EstimationRun,
    Margin,
    Measure,
    Respondent,
    RunStatus,
    Wave,
    WaveTarget,
)


def wave_list(*, user: UserLike) -> QuerySet[Wave]:
    latest_rate = Estimate.objects.filter(
        run__wave=OuterRef("pk"),
        run__status=RunStatus.DONE,
        measure=Measure.RATE,
        variable="overall",
    ).order_by("-run__created_at", "-run_id")
    # restrict() returns the untyped ScopedQuerySet; the rows are Waves.
    return cast(
        "QuerySet[Wave]",
        Wave.objects.restrict(user, Action.VIEW)
        .select_related("region", "owner")
        .annotate(latest_rate=Subquery(latest_rate.values("estimate")[:1]))
        .order_by("region__code", "-year", "-pk"),
    )


def with_respondent_counts(waves: Iterable[Wave]) -> list[Wave]:
    """Set ``respondent_count`` on each wave of one page: one query grouped by wave id
    over the respondents' wave index (never a GROUP BY over the wave rows and their JSON)."""
    waves = list(waves)
    counts = dict(
        # unscoped: counts for waves the caller already restricted
        Respondent.objects.filter(wave__in=[w.pk for w in waves])
        .values("wave")
        .annotate(n=Count("pk"))
        .values_list("wave", "n")
    )
    for w in waves:
        w.respondent_count = counts.get(w.pk, 0)  # type: ignore[attr-defined]
    return waves


def wave_get(*, user: UserLike, pk: int, action: Action | str = Action.VIEW) -> Wave:
    return (
        Wave.objects.restrict(user, action)
        .select_related("region", "owner", "created_by")
        .get(pk=pk)
    )


def latest_done_run(wave: Wave) -> EstimationRun | None:
    return wave.runs.filter(status=RunStatus.DONE).order_by("-created_at", "-pk").first()


def run_get(*, user: UserLike, wave: Wave, pk: int | None) -> EstimationRun | None:
    """The run to show: the requested one (if in scope and of this wave) or the latest done."""
    if pk is None:
        return latest_done_run(wave)
    return (
        EstimationRun.objects.restrict(user, Action.VIEW)
        .filter(wave=wave, pk=pk, status=RunStatus.DONE)
        .first()
    )


@dataclass
class Breakdown:
    variable: str
    label: str
    rates: list[Estimate] = field(default_factory=list)
    means: list[Estimate] = field(default_factory=list)

    @property
    def rows(self) -> list[tuple[Estimate, Estimate | None]]:
        means = {m.category: m for m in self.means}
        return [(r, means.get(r.category)) for r in self.rates]

    @property
    def flagged(self) -> int:
        return sum(1 for r in self.rates if r.flagged)


@dataclass
class Results:
    run: EstimationRun
    overall_rate: Estimate | None
    overall_mean: Estimate | None
    breakdowns: list[Breakdown]

    def breakdown(self, variable: str) -> Breakdown | None:
        return next((b for b in self.breakdowns if b.variable == variable), None)

    @property
    def subregions(self) -> Breakdown | None:
        return self.breakdown("subregion")

    @property
    def demographic(self) -> list[Breakdown]:
        return [b for b in self.breakdowns if b.variable != "subregion" and b.rates]


def run_results(run: EstimationRun) -> Results:
    cells = list(run.estimates.all().order_by("measure", "variable", "order"))
    overall = {c.measure: c for c in cells if c.variable == "overall"}
    breakdowns = []
    for variable, label, _ in BREAKDOWNS:
        b = Breakdown(variable=variable, label=label)
        b.rates = [c for c in cells if c.variable == variable and c.measure == Measure.RATE]
        b.means = [c for c in cells if c.variable == variable and c.measure == Measure.MEAN]
        breakdowns.append(b)
    return Results(
        run=run,
        overall_rate=overall.get(Measure.RATE),
        overall_mean=overall.get(Measure.MEAN),
        breakdowns=breakdowns,
    )


@dataclass
class TrendPoint:
    wave: Wave
    estimate: Estimate | None
    target: WaveTarget | None

    @property
    def rate_pct(self) -> float | None:
        if self.estimate is None or self.estimate.estimate is None:
            return None
        return self.estimate.estimate * 100

    @property
    def gap(self) -> float | None:
        """Target − estimate, in percentage points (positive: still below target)."""
        if self.target is None or self.rate_pct is None:
            return None
        return self.target.rate - self.rate_pct


@dataclass
class Trend:
    points: list[TrendPoint]
    targets: list[WaveTarget]


def trend(*, user: UserLike, wave: Wave) -> Trend:
    """The region's waves (that the user may see) with their latest overall rate, and targets.

    Each wave is compared with the target for its own year, or else the nearest later one.
    """
    waves = list(
        Wave.objects.restrict(user, Action.VIEW)
        .filter(region=wave.region)
        .select_related("region")
        .order_by("year", "pk")
    )
    wave_ids = [w.pk for w in waves]
    rates: dict[int, Estimate] = {}
    for est in (
        Estimate.objects.filter(
            run__wave_id__in=wave_ids,
            run__status=RunStatus.DONE,
            measure=Measure.RATE,
            variable="overall",
        )
        .select_related("run")
        .order_by("run__created_at", "run_id")
    ):
        rates[est.run.wave_id] = est  # the latest done run wins
    targets = list(
        WaveTarget.objects.filter(wave_id__in=wave_ids)
        .select_related("plan_target")
        .order_by("year", "pk")
    )
    unique: dict[tuple[int, float], WaveTarget] = {}
    for t in targets:
        unique.setdefault((t.year, t.rate), t)
    targets = list(unique.values())
    points = []
    for w in waves:
        later = [t for t in targets if t.year >= w.year]
        points.append(
            TrendPoint(wave=w, estimate=rates.get(w.pk), target=later[0] if later else None)
        )
    return Trend(points=points, targets=targets)


def margins_by_variable(wave: Wave) -> dict[str, list[Margin]]:
    grouped: dict[str, list[Margin]] = {}
    for m in wave.margins.all().order_by("variable", "category"):
        grouped.setdefault(m.variable, []).append(m)
    return grouped


def sample_categories(wave: Wave) -> dict[str, dict[str, int]]:
    """Respondent counts per category of each breakdown (to check margins against)."""
    counts: dict[str, dict[str, int]] = {}
    for variable, _, _ in BREAKDOWNS:
        column = "subregion__code" if variable == "subregion" else variable
        rows = wave.respondents.values_list(column).annotate(n=Count("pk")).order_by(column)
        counts[variable] = {str(value or ""): n for value, n in rows}
    return counts


def reads_from_below_wave(*, user: UserLike, wave: Wave) -> bool:
    """Whether ``user`` sees ``wave`` only as an office below its region (a county office
    reading a city or provincial survey: results only, read-only)."""
    return reads_from_below(user, region_path=wave.region.path, owner_id=wave.owner_id)


def own_subregions(*, user: UserLike, wave: Wave) -> list[Region]:
    """For an office below the wave's region: the wave's sub-regions that contain it
    (its own county for a city survey; its city for a provincial survey)."""
    base = wave.region.path
    paths = []
    for g in user_grants(user):
        path = g.region_path
        if path is None or path == base or not path.startswith(base):
            continue
        paths.append(base + path[len(base) :].split("/", 1)[0] + "/")
    if not paths:
        return []
    return list(Region.objects.filter(path__in=paths).order_by("code"))


@dataclass
class OwnCell:
    """A reader's own sub-region in a survey of the region above it."""

    region: Region
    estimate: Estimate | None
    exact: bool  # the reader's own region (not the sub-region containing it)


def own_cells(*, user: UserLike, wave: Wave, results: Results | None) -> list[OwnCell]:
    if results is None:
        return []
    sub = results.subregions
    by_code = {e.category: e for e in (sub.rates if sub else [])}
    grant_paths = {g.region_path for g in user_grants(user)}
    return [
        OwnCell(region=r, estimate=by_code.get(r.code), exact=r.path in grant_paths)
        for r in own_subregions(user=user, wave=wave)
    ]
