"""Reads for plans: scoped plan lists, the ledger with its filters, my tasks, previews."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from kepu.core.autocomplete import Choice
from kepu.core.types import UserLike
from kepu.orgs.models import Organisation
from kepu.orgs.scoping import Action, user_grants
from kepu.orgs.selectors import OrgMatch, organisation_match
from kepu.plans.models import Plan, PlanDraft, Section, Target, Task, TaskUnit, UnitRole

# A plan's structure shown on its page: beyond this many sections the page says how
# many more there are (the ledger filters by any of them).
MAX_SECTIONS_SHOWN = 300


def plan_list(*, user: UserLike) -> QuerySet[Plan]:
    """Plans ``user`` sees, newest first; paginate it, then :func:`with_task_counts`."""
    return (
        Plan.objects.restrict(user, Action.VIEW)
        .select_related("region", "owner")
        .order_by("-created_at", "-pk")
    )


def with_task_counts(plans: Iterable[Plan]) -> list[Plan]:
    """Set ``task_count`` on each plan of one page (one grouped query over their tasks)."""
    plans = list(plans)
    counts = dict(
        # unscoped: counts for plans the caller already restricted
        Task.objects.filter(plan__in=[p.pk for p in plans])
        .values("plan")
        .annotate(n=Count("pk"))
        .values_list("plan", "n")
    )
    for p in plans:
        p.task_count = counts.get(p.pk, 0)  # type: ignore[attr-defined]
    return plans


def plan_search(*, user: UserLike, query: str, limit: int) -> list[Choice]:
    """Autocomplete source: plans in ``user``'s view scope whose title contains ``query``."""
    qs = Plan.objects.restrict(user, Action.VIEW)
    if query:
        qs = qs.filter(title__icontains=query)
    rows = qs.select_related("region").order_by("-created_at", "-pk")[:limit]
    return [
        Choice(
            id=str(p.pk),
            label=p.title,
            hint=" · ".join(filter(None, [p.region.name, p.doc_number])),
        )
        for p in rows
    ]


def _with_details(qs: QuerySet[Task]) -> QuerySet[Task]:
    return qs.select_related("plan", "section").prefetch_related(
        Prefetch("units", queryset=TaskUnit.objects.select_related("organisation")),
        Prefetch("targets", queryset=Target.objects.order_by("pk")),
    )


@dataclass
class LedgerFilters:
    plan: int | None = None
    section: int | None = None
    organisation: int | None = None
    role: str = ""  # lead | cooperate | ""
    key_group: str = ""
    has_target: bool = False
    query: str = ""
    region_path: str = ""  # a region's materialised path: it and everything below it


def task_ledger(*, user: UserLike, filters: LedgerFilters) -> QuerySet[Task]:
    qs = Task.objects.restrict(user, Action.VIEW)
    if filters.plan:
        qs = qs.filter(plan_id=filters.plan)
    if filters.region_path:
        # the indexed prefix of the materialised path (varchar_pattern_ops on PostgreSQL)
        qs = qs.filter(plan__region__path__startswith=filters.region_path)
    if filters.section:
        section = Section.objects.filter(pk=filters.section).first()
        ids = [filters.section]
        if section is not None:
            frontier = [section.pk]
            while frontier:
                frontier = list(
                    Section.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
                )
                ids.extend(frontier)
        qs = qs.filter(section_id__in=ids)
    if filters.organisation:
        unit_q = Q(units__organisation_id=filters.organisation)
        if filters.role:
            unit_q &= Q(units__role=filters.role)
        qs = qs.filter(pk__in=Task.objects.filter(unit_q).values("pk"))
    elif filters.role:
        qs = qs.filter(pk__in=Task.objects.filter(units__role=filters.role).values("pk"))
    if filters.key_group:
        # JSON list membership, portable across SQLite and PostgreSQL
        qs = qs.filter(key_groups__icontains=f'"{filters.key_group}"')
    if filters.has_target:
        qs = qs.filter(pk__in=Target.objects.filter(task__isnull=False).values("task_id"))
    if filters.query:
        # plain icontains: served by the trigram GIN indexes on PostgreSQL, a scan on SQLite
        qs = qs.filter(Q(title__icontains=filters.query) | Q(text__icontains=filters.query))
    return _with_details(qs).order_by("plan_id", "order", "pk")


def task_detail(*, user: UserLike, pk: int) -> Task:
    return _with_details(Task.objects.restrict(user, Action.VIEW)).get(pk=pk)


def my_tasks(*, user: UserLike, role: str = "") -> QuerySet[Task]:
    """Tasks the user's organisations lead, cooperate on or are responsible for."""
    org_ids = [g.organisation_id for g in user_grants(user)]
    unit_q = Q(units__organisation_id__in=org_ids)
    if role:
        unit_q &= Q(units__role=role)
    ids = Task.objects.filter(unit_q).values("pk")
    return _with_details(Task.objects.restrict(user, Action.VIEW).filter(pk__in=ids)).order_by(
        "plan_id", "order", "pk"
    )


def my_role_in(task: Task, org_ids: set[int]) -> str:
    roles = {u.role for u in task.units.all() if u.organisation_id in org_ids}
    for role in (UnitRole.LEAD, UnitRole.COOPERATE, UnitRole.RESPONSIBLE):
        if role in roles:
            return UnitRole(role).label
    return ""


@dataclass
class UnitPreview:
    name: str
    count: int
    matches: list[OrgMatch] = field(default_factory=list)

    @property
    def best(self) -> OrgMatch | None:
        return self.matches[0] if self.matches else None

    @property
    def status(self) -> str:
        if self.best is None:
            return "unmatched"
        return self.best.how  # exact | alias | fuzzy


def draft_unit_counts(parsed: dict[str, Any]) -> dict[str, int]:
    """Each unit name of a parsed document with the number of tasks naming it (in order)."""
    counts: dict[str, int] = {}
    for t in parsed.get("tasks", []):
        for name in t.get("responsible") or []:
            counts[name] = counts.get(name, 0) + 1
    return counts


def draft_preview(*, user: UserLike, draft: PlanDraft) -> dict[str, Any]:
    """What the preview page shows: metadata, the section tree, tasks, and unit matches."""
    parsed = draft.parsed
    tasks = parsed.get("tasks", [])
    candidates = Organisation.objects.restrict(user, Action.VIEW)
    units = [
        UnitPreview(name=n, count=c, matches=organisation_match(name=n, candidates=candidates))
        for n, c in draft_unit_counts(parsed).items()
    ]
    # Sections in document order, each with the number of tasks below it (one pass).
    task_counts: dict[tuple[str, ...], int] = {}
    for t in tasks:
        path = tuple(t.get("path") or [])
        for depth in range(1, len(path) + 1):
            key = path[:depth]
            task_counts[key] = task_counts.get(key, 0) + 1
    tree = [
        {"title": key[-1], "depth": len(key) - 1, "count": count}
        for key, count in task_counts.items()
    ]
    return {
        "parsed": parsed,
        "tasks": list(enumerate(tasks)),
        "units": units,
        "tree": tree,
        "unmatched": sum(1 for u in units if u.status == "unmatched"),
    }


APPENDIX_PREFIX = "附件"


@dataclass
class TaskRow:
    """A task of the plan page with the section headings that begin before it."""

    task: Any
    headings: list[tuple[int, str]]  # (depth within its group, title)


@dataclass
class TaskGroup:
    """The plan's body (``appendix`` is ``None``) or one appendix ledger: its own table."""

    appendix: str | None
    rows: list[TaskRow] = field(default_factory=list)
    last_path: list[str] = field(default_factory=list)


def plan_task_groups(tasks: Iterable[Any]) -> list[TaskGroup]:
    """Tasks in order (one page of them), split into the body and each appendix ledger
    (a path starting with ``附件 …``), each row carrying the headings that open before it:
    the first row of a page repeats its whole path, later rows only what changed."""
    groups: list[TaskGroup] = []
    for task in tasks:
        path = [str(p) for p in (task.path or [])]
        appendix = path[0] if path and path[0].startswith(APPENDIX_PREFIX) else None
        body = path[1:] if appendix else path
        if not groups or groups[-1].appendix != appendix:
            groups.append(TaskGroup(appendix=appendix))
        group = groups[-1]
        same = 0
        while same < min(len(body), len(group.last_path)) and body[same] == group.last_path[same]:
            same += 1
        group.rows.append(
            TaskRow(task=task, headings=[(d, body[d]) for d in range(same, len(body))])
        )
        group.last_path = body
    return groups


def organisation_names(*, user: UserLike, ids: Iterable[int]) -> dict[str, str]:
    """Names of the organisations ``ids`` that ``user`` sees, keyed by the id as text."""
    ids = list(dict.fromkeys(ids))[:1000]
    if not ids:
        return {}
    rows = Organisation.objects.restrict(user, Action.VIEW).filter(pk__in=ids)
    return {str(pk): name for pk, name in rows.values_list("pk", "name")}


def plan_sections(plan: Plan, *, limit: int = MAX_SECTIONS_SHOWN) -> list[Section]:
    """The plan's sections in order, at most ``limit`` (plus one to tell that more exist)."""
    return list(plan.sections.order_by("order", "pk")[: limit + 1])
