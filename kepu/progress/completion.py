"""Completion dashboards per plan and per office, computed in the database.

The task status of :func:`kepu.progress.selectors.task_status` (the rule shown in the
UI) written as SQL annotations, so a dashboard over 200,000 tasks costs a fixed number of
grouped queries instead of loading every task and report:

- ``st`` = terminated / done / late / in_progress / not_started;
- ``st_light`` = grey / green / yellow / red.

"Done" is the latest accepted report of the lead units (of any unit when the task has no
lead report) saying 已完成, latest by round then review time, as in ``task_status``.

Every figure is over the tasks the user may see (``Task.objects.restrict``) and the
reports the user may see; lists are paginated by the view and every per-page lookup is
one query for the whole page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from kepu.core.types import UserLike
from kepu.orgs.models import Organisation
from kepu.orgs.scoping import Action
from kepu.plans.models import Plan, Section, Task, TaskUnit, UnitRole
from kepu.progress.models import (
    ProgressState,
    Report,
    ReportStatus,
    RoundStatus,
    TaskTermination,
)

STATUS_LABELS = {
    "not_started": "未开始",
    "in_progress": "推进中",
    "done": "已完成",
    "late": "滞后",
    "terminated": "已终止",
}
LIGHT_NAMES = {"red": "红灯", "yellow": "黄灯", "green": "绿灯", "grey": "已终止"}
OPEN_SLOT = (ReportStatus.PENDING, ReportStatus.DRAFT, ReportStatus.RETURNED)
REPORTED = (ReportStatus.SUBMITTED, ReportStatus.ACCEPTED)
WRITTEN = (ReportStatus.DRAFT, ReportStatus.SUBMITTED, ReportStatus.RETURNED, ReportStatus.ACCEPTED)


def with_status(qs: QuerySet, *, today: dt.date, warn_days: int, task: str = "") -> QuerySet:
    """Annotate ``st`` and ``st_light`` on a queryset of tasks (``task=""``) or of rows
    pointing at a task (``task="task"``, e.g. TaskUnit)."""
    prefix = f"{task}__" if task else ""
    ref = OuterRef(f"{task}_id" if task else "pk")
    # unscoped: the status of tasks the caller restricted (no report content is shown)
    reports = Report.objects.filter(task_id=ref)
    accepted = reports.filter(status=ReportStatus.ACCEPTED).order_by(
        "-round_id", F("reviewed_at").desc(nulls_last=True)
    )
    qs = qs.annotate(
        st_term=Exists(
            # unscoped: terminations of the restricted tasks
            TaskTermination.objects.filter(task_id=ref)
        ),
        st_has_lead=Exists(reports.filter(role=UnitRole.LEAD)),
        st_lead_state=Subquery(accepted.filter(role=UnitRole.LEAD).values("state")[:1]),
        st_any_state=Subquery(accepted.values("state")[:1]),
        st_behind=Exists(reports.filter(status__in=REPORTED, state=ProgressState.BEHIND)),
        st_written=Exists(reports.filter(status__in=WRITTEN)),
    )
    done = Q(st_has_lead=True, st_lead_state=ProgressState.DONE) | Q(
        st_has_lead=False, st_any_state=ProgressState.DONE
    )
    overdue = Q(**{f"{prefix}due_on__lt": today})
    soon = Q(**{f"{prefix}due_on__lte": today + dt.timedelta(days=warn_days)})
    text = CharField()
    return qs.annotate(
        st=Case(
            When(st_term=True, then=Value("terminated")),
            When(done, then=Value("done")),
            When(overdue, then=Value("late")),
            When(st_behind=True, then=Value("late")),
            When(st_written=True, then=Value("in_progress")),
            default=Value("not_started"),
            output_field=text,
        ),
        st_light=Case(
            When(st_term=True, then=Value("grey")),
            When(done, then=Value("green")),
            When(overdue, then=Value("red")),
            When(st_behind=True, then=Value("yellow")),
            When(soon, then=Value("yellow")),
            default=Value("green"),
            output_field=text,
        ),
    )


def _counts(distinct_field: str = "pk") -> dict[str, Count]:
    d = distinct_field != "pk"
    return {
        "total": Count(distinct_field, distinct=d),
        "done": Count(distinct_field, filter=Q(st="done"), distinct=d),
        "late": Count(distinct_field, filter=Q(st="late"), distinct=d),
        "red": Count(distinct_field, filter=Q(st_light="red"), distinct=d),
        "yellow": Count(distinct_field, filter=Q(st_light="yellow"), distinct=d),
    }


@dataclass(frozen=True)
class Scope:
    """What a dashboard covers: a plan or an office's plans, optionally drilled down to
    one section or one responsible unit."""

    plans: QuerySet[Plan]
    warn_days: int
    section: Section | None = None
    unit: Organisation | None = None


def scope_tasks(*, user: UserLike, scope: Scope) -> QuerySet[Task]:
    qs = Task.objects.restrict(user, Action.VIEW).filter(plan__in=scope.plans)
    if scope.section is not None:
        qs = qs.filter(section=scope.section)
    if scope.unit is not None:
        qs = qs.filter(
            # unscoped: narrowing restricted tasks to those naming the unit
            pk__in=TaskUnit.objects.filter(organisation=scope.unit).values("task_id")
        )
    return qs


def summary(*, user: UserLike, scope: Scope, today: dt.date) -> dict[str, Any]:
    """Task counts by status and by light (one query)."""
    tasks = with_status(scope_tasks(user=user, scope=scope), today=today, warn_days=scope.warn_days)
    by_status = dict.fromkeys(STATUS_LABELS, 0)
    by_light = dict.fromkeys(LIGHT_NAMES, 0)
    for st, light, n in tasks.values_list("st", "st_light").annotate(n=Count("pk")).order_by():
        by_status[st] += n
        by_light[light] += n
    total = sum(by_status.values())
    return {
        "total": total,
        "by_status": by_status,
        "by_light": by_light,
        "rate": round(100 * by_status["done"] / total, 1) if total else 0.0,
    }


def by_plan(*, user: UserLike, scope: Scope, today: dt.date) -> QuerySet:
    """Per plan of the scope: task counts by status (paginate)."""
    tasks = with_status(scope_tasks(user=user, scope=scope), today=today, warn_days=scope.warn_days)
    return (
        tasks.values("plan_id", "plan__title")
        .annotate(**_counts())
        .order_by("plan__title", "plan_id")
    )


def by_section(*, user: UserLike, scope: Scope, today: dt.date) -> QuerySet:
    """Per section (the task's own section): task counts by status (paginate)."""
    tasks = with_status(scope_tasks(user=user, scope=scope), today=today, warn_days=scope.warn_days)
    return (
        tasks.values("section_id", "section__title", "plan_id")
        .annotate(**_counts())
        .order_by("plan_id", "section__order", "section_id")
    )


def by_unit(*, user: UserLike, scope: Scope, today: dt.date) -> QuerySet:
    """Per responsible organisation: its tasks by status, ranked by completion then
    by overdue count (paginate, then :func:`attach_unit_reports` on the page)."""
    task_ids = scope_tasks(user=user, scope=scope).values("pk")
    # unscoped: the units named on tasks restricted above
    named = TaskUnit.objects.filter(task_id__in=task_ids, organisation__isnull=False)
    rows: QuerySet[Any] = with_status(named, today=today, warn_days=scope.warn_days, task="task")
    grouped: QuerySet[Any] = rows.values("organisation_id", "organisation__name").annotate(
        **_counts(distinct_field="task_id")
    )
    return grouped.order_by("-done", "late", "organisation__name", "organisation_id")


def attach_unit_reports(rows: list[dict[str, Any]], *, user: UserLike, scope: Scope) -> None:
    """Per unit of one page: report slots, reported, on time and still unreported in open
    rounds, over the scope's tasks (one query)."""
    ids = [r["organisation_id"] for r in rows]
    task_ids = scope_tasks(user=user, scope=scope).values("pk")
    figures = {
        r["organisation_id"]: r
        for r in Report.objects.restrict(user, Action.VIEW)
        .filter(organisation_id__in=ids, task_id__in=task_ids)
        .values("organisation_id")
        .annotate(
            slots=Count("pk"),
            reported=Count("pk", filter=Q(status__in=REPORTED)),
            on_time=Count("pk", filter=Q(status__in=REPORTED, is_late=False)),
            unreported=Count("pk", filter=Q(status__in=OPEN_SLOT, round__status=RoundStatus.OPEN)),
        )
        .order_by()
    }
    for r in rows:
        f = figures.get(r["organisation_id"], {})
        r["slots"] = f.get("slots", 0)
        r["reported"] = f.get("reported", 0)
        r["on_time"] = f.get("on_time", 0)
        r["unreported"] = f.get("unreported", 0)
        r["on_time_rate"] = round(100 * r["on_time"] / r["reported"], 1) if r["reported"] else None
        r["done_rate"] = round(100 * r["done"] / r["total"], 1) if r["total"] else 0.0


def not_reported(*, user: UserLike, scope: Scope, today: dt.date) -> QuerySet:
    """Units with report slots still unwritten or unsubmitted in open rounds over the
    scope's tasks, those past the round's deadline first (paginate)."""
    task_ids = scope_tasks(user=user, scope=scope).values("pk")
    return (
        Report.objects.restrict(user, Action.VIEW)
        .filter(task_id__in=task_ids, status__in=OPEN_SLOT, round__status=RoundStatus.OPEN)
        .values("organisation_id", "organisation__name")
        .annotate(
            n=Count("pk"),
            overdue=Count("pk", filter=Q(round__closes_on__lt=today)),
        )
        .order_by("-overdue", "-n", "organisation__name", "organisation_id")
    )


def task_list(*, user: UserLike, scope: Scope, today: dt.date, status: str = "") -> QuerySet[Task]:
    """The scope's tasks with one status (``red`` / ``yellow`` lights too); by default
    the overdue ones (red light), earliest deadline first (paginate)."""
    tasks = with_status(scope_tasks(user=user, scope=scope), today=today, warn_days=scope.warn_days)
    if status in LIGHT_NAMES:
        tasks = tasks.filter(st_light=status)
    elif status in STATUS_LABELS:
        tasks = tasks.filter(st=status)
    else:
        tasks = tasks.filter(st_light="red")
    return tasks.select_related("plan", "section").order_by(
        F("due_on").asc(nulls_last=True), "plan_id", "order", "pk"
    )
