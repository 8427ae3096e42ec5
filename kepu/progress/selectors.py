"""Reads of progress reporting: scoped lists, the roll-up, task status and to-do counts.

Task status (the rule shown in the UI and in docs/progress.md):

- 已终止: the office terminated the task;
- 已完成: the lead unit's (if none, any unit's) latest accepted report says 已完成;
- 滞后: the due date has passed and the task is not done, or a submitted or accepted
  report says 进度滞后;
- 推进中: some unit has written (draft or later) a report;
- 未开始: no report yet.

Traffic light: red when overdue (due date passed, not done); yellow when due within
the office's N days and not done, or reported 进度滞后; green otherwise (grey for 已终止).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from kepu.core.types import UserLike
from kepu.notifications.models import Notification
from kepu.orgs.scoping import Action, user_grants
from kepu.plans.models import KeyGroup, Plan, Task, UnitRole
from kepu.progress.models import (
    LinkStatus,
    Notice,
    NoticeStatus,
    OfficeSetting,
    ProgressState,
    Report,
    ReportingRound,
    ReportStatus,
    TaskLink,
    TaskTermination,
)

STATUS_RULE = (
    "状态规则: 已终止 = 办公室已终止该任务; 已完成 = 牵头单位 (无牵头单位时任一单位) "
    "最近一次已通过的报告为「已完成」; 滞后 = 已过截止日期仍未完成, 或已提交的报告为"
    "「进度滞后」; 推进中 = 已有单位填写报告; 未开始 = 尚无报告。"
    "红灯 = 已逾期未完成; 黄灯 = 距截止日期不超过 {n} 天且未完成, 或报告进度滞后; 其余绿灯。"
)
LIGHT_LABELS = {"red": "红灯", "yellow": "黄灯", "green": "绿灯", "grey": "—"}
WRITTEN = (ReportStatus.DRAFT, ReportStatus.SUBMITTED, ReportStatus.RETURNED, ReportStatus.ACCEPTED)
REPORTED = (ReportStatus.SUBMITTED, ReportStatus.ACCEPTED)


@dataclass(frozen=True)
class TaskStatus:
    code: str  # not_started / in_progress / done / late / terminated
    label: str
    light: str  # green / yellow / red / grey

    @property
    def light_label(self) -> str:
        return LIGHT_LABELS[self.light]


def task_status(
    *,
    due_on: dt.date | None,
    reports: Iterable[Report],
    today: dt.date,
    warn_days: int,
    terminated: bool = False,
) -> TaskStatus:
    """Derive a task's status and traffic light from its reports (see module doc)."""
    if terminated:
        return TaskStatus("terminated", "已终止", "grey")
    reports = list(reports)
    leads = [r for r in reports if r.role == UnitRole.LEAD] or reports
    accepted = sorted(
        (r for r in leads if r.status == ReportStatus.ACCEPTED),
        key=lambda r: (r.round_id, r.reviewed_at or dt.datetime.min.replace(tzinfo=dt.UTC)),
    )
    if accepted and accepted[-1].state == ProgressState.DONE:
        return TaskStatus("done", "已完成", "green")
    if due_on is not None and due_on < today:
        return TaskStatus("late", "滞后", "red")
    behind = any(r.status in REPORTED and r.state == ProgressState.BEHIND for r in reports)
    if behind:
        return TaskStatus("late", "滞后", "yellow")
    soon = due_on is not None and (due_on - today).days <= warn_days
    light = "yellow" if soon else "green"
    if any(r.status in WRITTEN for r in reports):
        return TaskStatus("in_progress", "推进中", light)
    return TaskStatus("not_started", "未开始", light)


STATUS_RULE_ANY = STATUS_RULE.format(n="N") + (
    " N 为制定规划的办公室在「进展设置」中设定的天数 (未设置时为 14 天)。"
)
DEFAULT_WARN_DAYS = 14


def warn_days_by_plan(tasks: Iterable[Task]) -> dict[int, int]:
    """{plan id: N} where N is the yellow-light window of the office owning the plan
    (two queries at most, whatever the number of tasks)."""
    owners: dict[int, int | None] = {}
    missing: set[int] = set()
    for t in tasks:
        if t.plan_id in owners or t.plan_id in missing:
            continue
        plan = t._state.fields_cache.get("plan")
        if plan is not None:
            owners[t.plan_id] = plan.owner_id
        else:
            missing.add(t.plan_id)
    if missing:
        owners.update(
            # unscoped: owners of plans whose tasks the caller got through restrict()
            Plan.objects.filter(pk__in=missing).values_list("pk", "owner_id")
        )
    office_ids = {o for o in owners.values() if o is not None}
    days = (
        dict(
            # unscoped: settings of the offices owning plans the caller may see
            OfficeSetting.objects.filter(office_id__in=office_ids).values_list(
                "office_id", "warn_days"
            )
        )
        if office_ids
        else {}
    )
    return {
        plan_id: days.get(owner, DEFAULT_WARN_DAYS) if owner else DEFAULT_WARN_DAYS
        for plan_id, owner in owners.items()
    }


def attach_status(
    tasks: Iterable[Task],
    *,
    today: dt.date,
    warn_days: int | None = None,
    reports: Iterable[Report] | None = None,
) -> None:
    """Set ``task.progress_status`` on each task (two queries for the whole list, two
    more when ``warn_days`` is None: then each task uses its plan owner's setting)."""
    tasks = list(tasks)
    ids = [t.pk for t in tasks]
    per_plan = warn_days_by_plan(tasks) if warn_days is None else {}
    if reports is None:
        # unscoped: status of tasks the caller got through restrict() (no report content shown)
        reports = Report.objects.filter(task_id__in=ids).only(
            "task_id", "role", "status", "state", "round_id", "reviewed_at"
        )
    terminated = set(
        # unscoped: narrowing to tasks the caller got through restrict()
        TaskTermination.objects.filter(task_id__in=ids).values_list("task_id", flat=True)
    )
    by_task: dict[int, list[Report]] = defaultdict(list)
    for r in reports:
        by_task[r.task_id].append(r)
    for t in tasks:
        t.progress_status = task_status(
            due_on=t.due_on,
            reports=by_task.get(t.pk, []),
            today=today,
            warn_days=warn_days if warn_days is not None else per_plan[t.plan_id],
            terminated=t.pk in terminated,
        )


def round_list(*, user: UserLike) -> QuerySet[ReportingRound]:
    return (
        ReportingRound.objects.restrict(user, Action.VIEW)
        .select_related("office")
        .order_by("-opens_on", "-pk")
    )


def my_org_ids(user: UserLike) -> set[int]:
    return {g.organisation_id for g in user_grants(user)}


def my_reports(
    *, user: UserLike, status: str = "", round_id: int | None = None
) -> QuerySet[Report]:
    """Reports the user's own organisations must write (not those of units below)."""
    qs = Report.objects.restrict(user, Action.VIEW)
    if not user.is_superuser:
        qs = qs.filter(organisation_id__in=my_org_ids(user))
    if status:
        qs = qs.filter(status=status)
    if round_id:
        qs = qs.filter(round_id=round_id)
    return qs.select_related("round", "task__plan", "organisation").order_by(
        "round__closes_on", "task__plan_id", "task__order", "pk"
    )


def review_queue(*, user: UserLike, round_: ReportingRound) -> QuerySet[Report]:
    return (
        Report.objects.restrict(user, Action.VIEW)
        .filter(round=round_, status=ReportStatus.SUBMITTED)
        .select_related("task", "organisation")
        .order_by("submitted_at", "pk")
    )


def round_rollup(*, user: UserLike, round_: ReportingRound) -> QuerySet[Task]:
    """The round's tasks that have a report the user may see (paginate, then
    :func:`attach_rollup` on the page)."""
    ids = Report.objects.restrict(user, Action.VIEW).filter(round=round_).values("task_id")
    return (
        Task.objects.filter(pk__in=ids)  # unscoped: narrowing to tasks of visible reports
        .select_related("plan")
        .order_by("plan_id", "order")
    )


def attach_rollup(tasks: Iterable[Task], *, user: UserLike, round_: ReportingRound) -> None:
    """Per task of one page: how many visible reports are in each state (one query)."""
    tasks = list(tasks)
    counts: dict[int, dict[str, int]] = {
        t.pk: dict.fromkeys(
            ("total", "pending", "written", "submitted", "accepted", "late", "done"), 0
        )
        for t in tasks
    }
    rows = (
        Report.objects.restrict(user, Action.VIEW)
        .filter(round=round_, task_id__in=list(counts))
        .values_list("task_id", "status", "state", "is_late")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for task_id, status, state, late, n in rows:
        c = counts[task_id]
        c["total"] += n
        if status == ReportStatus.PENDING:
            c["pending"] += n
        elif status in (ReportStatus.DRAFT, ReportStatus.RETURNED):
            c["written"] += n
        elif status == ReportStatus.SUBMITTED:
            c["submitted"] += n
        elif status == ReportStatus.ACCEPTED:
            c["accepted"] += n
            if state == ProgressState.DONE:
                c["done"] += n
        if late:
            c["late"] += n
    for t in tasks:
        for k, v in counts[t.pk].items():
            setattr(t, f"n_{k}", v)


def round_totals(*, user: UserLike, round_: ReportingRound) -> dict[str, int]:
    visible = Report.objects.restrict(user, Action.VIEW).filter(round=round_)
    rows = dict(visible.values_list("status").annotate(n=Count("pk")).order_by())
    totals = {s: rows.get(s, 0) for s in ReportStatus.values}
    totals["total"] = sum(rows.values())
    totals["late"] = visible.filter(is_late=True).count()
    return totals


def todo_counts(*, user: UserLike) -> dict[str, int]:
    """工作台: reports to write, reports to review, notices to acknowledge, unread."""
    org_ids = my_org_ids(user)
    to_write = (
        # unscoped: the user's own organisations (from their memberships)
        Report.objects.filter(
            organisation_id__in=org_ids,
            round__status="open",
            status__in=(ReportStatus.PENDING, ReportStatus.DRAFT, ReportStatus.RETURNED),
        ).count()
        if org_ids
        else 0
    )
    reviewable = ReportingRound.objects.restrict(user, Action.CHANGE).filter(status="open")
    # unscoped: reports of rounds restricted above (reviewable)
    to_review = Report.objects.filter(round__in=reviewable, status=ReportStatus.SUBMITTED).count()
    notices = (
        # unscoped: notices to the user's own organisations
        Notice.objects.filter(
            organisation_id__in=org_ids,
            status__in=(NoticeStatus.ISSUED, NoticeStatus.ACKNOWLEDGED, NoticeStatus.HANDLING),
        ).count()
        if org_ids
        else 0
    )
    unread = Notification.objects.for_user(user).unread().count()
    return {"to_write": to_write, "to_review": to_review, "notices": notices, "unread": unread}


def dashboard(*, user: UserLike, round_: ReportingRound, today: dt.date) -> dict[str, Any]:
    """Completion figures of a round as the user may see them (bounded query count)."""
    visible = Report.objects.restrict(user, Action.VIEW).filter(round=round_)
    by_status = dict(visible.values_list("status").annotate(n=Count("pk")).order_by())
    reported = Q(status__in=REPORTED)
    units = (
        visible.values("organisation_id", "organisation__name")
        .annotate(
            total=Count("pk"),
            reported=Count("pk", filter=reported),
            on_time=Count("pk", filter=reported & Q(is_late=False)),
            done=Count("pk", filter=Q(status=ReportStatus.ACCEPTED, state=ProgressState.DONE)),
        )
        .order_by("-on_time", "-reported", "organisation__name")
    )
    sections = (
        visible.values("task__section__title")
        .annotate(
            total=Count("pk"),
            reported=Count("pk", filter=reported),
            done=Count("pk", filter=Q(status=ReportStatus.ACCEPTED, state=ProgressState.DONE)),
        )
        .order_by("task__section__title")[:50]
    )
    done_tasks = visible.filter(status=ReportStatus.ACCEPTED, state=ProgressState.DONE).values(
        "task_id"
    )
    overdue = (
        # unscoped: narrowing to tasks of reports restricted above (visible)
        Task.objects.filter(pk__in=visible.values("task_id"), due_on__lt=today)
        .exclude(pk__in=done_tasks)
        .exclude(termination__isnull=False)
        .select_related("plan")
        .order_by("due_on", "pk")
    )
    done_q = Q(status=ReportStatus.ACCEPTED, state=ProgressState.DONE)
    aggregates: dict[str, Any] = {}
    for g in KeyGroup.values:
        in_group = Q(task__key_groups__icontains=f'"{g}"')
        aggregates[f"{g}__total"] = Count("pk", filter=in_group)
        aggregates[f"{g}__reported"] = Count("pk", filter=in_group & reported)
        aggregates[f"{g}__done"] = Count("pk", filter=in_group & done_q)
    flat = visible.aggregate(**aggregates)
    key_groups = {
        label: {k: flat[f"{g}__{k}"] for k in ("total", "reported", "done")}
        for g, label in KeyGroup.choices
        if flat[f"{g}__total"]
    }
    return {
        "by_status": {s: by_status.get(s, 0) for s in ReportStatus.values},
        "units": units,
        "sections": list(sections),
        "overdue": overdue,
        "key_groups": key_groups,
    }


def open_reports_by_task(*, user: UserLike, task_ids: list[int]) -> dict[int, int]:
    """{task id: report id} of the user's own reports still to write in open rounds."""
    org_ids = my_org_ids(user)
    if not org_ids or not task_ids:
        return {}
    rows = (
        Report.objects.restrict(user, Action.VIEW)
        .filter(
            organisation_id__in=org_ids,
            task_id__in=task_ids,
            round__status="open",
            status__in=(ReportStatus.PENDING, ReportStatus.DRAFT, ReportStatus.RETURNED),
        )
        .order_by("task_id", "-round__closes_on")
        .values_list("task_id", "pk")
    )
    out: dict[int, int] = {}
    for task_id, pk in rows:
        out.setdefault(task_id, pk)
    return out


# ------------------------------------------------------------------------------ 上下级任务对应
def parent_plan_choices(*, user: UserLike, local_plan: Plan) -> QuerySet[Plan]:
    """Plans the local plan may implement: other plans of its region or of a region
    above that the user reads, an office below reading them for this (``read_down``),
    at most 200, the nearest level first."""
    path = local_plan.region.path
    prefixes = [path[: i + 1] for i, ch in enumerate(path) if ch == "/"]
    return (
        Plan.objects.restrict(user, Action.VIEW, read_down=True)
        .filter(region__path__in=prefixes)
        .exclude(pk=local_plan.pk)
        .select_related("region")
        .order_by("-region__level", "-created_at", "pk")[:200]
    )


def local_tasks_with_links(*, local_plan: Plan) -> QuerySet[Task]:
    """The local plan's tasks in order (paginate, then :func:`attach_links`)."""
    return local_plan.tasks.select_related("section").order_by("order", "pk")


def attach_links(tasks: Iterable[Task], *, user: UserLike, parent_plan: Plan | None) -> None:
    """``task.plan_links``: the page's links (to ``parent_plan`` when given), best first
    (one query)."""
    tasks = list(tasks)
    qs = TaskLink.objects.restrict(user, Action.VIEW).filter(
        local_id__in=[t.pk for t in tasks],
        parent__in=Task.objects.restrict(user, Action.VIEW, read_down=True).values("pk"),
    )
    if parent_plan is not None:
        qs = qs.filter(parent__plan=parent_plan)
    by_task: dict[int, list[TaskLink]] = defaultdict(list)
    for link in qs.select_related("parent__plan").order_by("local_id", "-score", "pk"):
        by_task[link.local_id].append(link)
    for t in tasks:
        setattr(t, "plan_links", by_task.get(t.pk, []))  # noqa: B010 (an attribute for the page)


def coverage(*, user: UserLike, parent_plan: Plan, uncovered: bool = False) -> QuerySet[Any]:
    """The parent plan's tasks with ``n_local``: how many local tasks the user may see are
    confirmed as implementing it (paginate, then :func:`attach_local_tasks`). A county
    office reads a city plan's tasks here (``read_down``) and counts its own links."""
    visible_links = TaskLink.objects.restrict(user, Action.VIEW).filter(
        status=LinkStatus.CONFIRMED, parent=OuterRef("pk")
    )
    qs: QuerySet[Any] = (
        Task.objects.restrict(user, Action.VIEW, read_down=True)
        .filter(plan=parent_plan)
        .annotate(
            n_local=Coalesce(
                Subquery(
                    visible_links.order_by()
                    .values("parent")
                    .annotate(n=Count("pk"))
                    .values("n")[:1]
                ),
                0,
            )
        )
        .select_related("section")
        .order_by("order", "pk")
    )
    if uncovered:
        qs = qs.filter(n_local=0)
    return qs


def coverage_totals(*, user: UserLike, parent_plan: Plan) -> dict[str, int]:
    qs = coverage(user=user, parent_plan=parent_plan)
    total = qs.count()
    covered = qs.filter(n_local__gt=0).count()
    return {"total": total, "covered": covered, "uncovered": total - covered}


def attach_local_tasks(tasks: Iterable[Task], *, user: UserLike) -> None:
    """``task.local_tasks``: the confirmed local tasks of the page's parent tasks (one
    query, at most 20 shown per parent task)."""
    tasks = list(tasks)
    by_parent: dict[int, list[TaskLink]] = defaultdict(list)
    for link in (
        TaskLink.objects.restrict(user, Action.VIEW)
        .filter(parent_id__in=[t.pk for t in tasks], status=LinkStatus.CONFIRMED)
        .select_related("local__plan")
        .order_by("parent_id", "local__plan_id", "local__order")
    ):
        if len(by_parent[link.parent_id]) < 20:
            by_parent[link.parent_id].append(link)
    for t in tasks:
        setattr(t, "local_tasks", by_parent.get(t.pk, []))  # noqa: B010 (an attribute for the page)
