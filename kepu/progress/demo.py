"""Demo: a quarter's reporting round in progress on the demo plan, with reports at every
stage, a late unit, an earlier closed round, and an open supervision notice."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from kepu.core.demo import DemoContext
from kepu.plans.models import Plan
from kepu.progress import services
from kepu.progress.models import Notice, Report, ReportingRound, ReportStatus, TaskLink


def _write(report: Report, user, state: str, text: str, *, submit: bool) -> None:  # type: ignore[no-untyped-def]
    services.report_save(user=user, report=report, version=None, state=state, narrative=text)
    if submit:
        services.report_submit(user=user, report=report)


def load(ctx: DemoContext) -> None:
    association = ctx.data["association"]
    plan = Plan.objects.filter(owner=association).order_by("pk").first()
    if plan is None or ReportingRound.objects.filter(office=association).exists():
        return
    from django.contrib.auth import get_user_model

    User = get_user_model()
    admin = User.objects.get(username="city_admin")
    edu = User.objects.get(username="edu_staff")
    health = User.objects.get(username="health_staff")
    county = User.objects.get(username="county_admin")
    today = timezone.localdate()
    year = today.year

    # An earlier round, closed: the education bureau reported after the deadline.
    past = services.round_open(
        user=admin,
        office=association,
        title=f"{year}年第二季度 (已结束)",
        plans=[plan],
        opens_on=today - dt.timedelta(days=60),
        closes_on=today - dt.timedelta(days=20),
    )
    for r in Report.objects.filter(round=past, organisation__memberships__user=edu):
        _write(r, edu, "on_track", "已按计划推进, 本季度培训科学教师120人。", submit=True)
        services.report_review(user=admin, report=r, accept=True)
    services.round_close(user=admin, round_=past)

    # The current quarter, in progress.
    current = services.round_open(
        user=admin,
        office=association,
        title=f"{year}年第三季度",
        plans=[plan],
        opens_on=today - dt.timedelta(days=20),
        closes_on=today + dt.timedelta(days=5),
    )
    edu_reports = list(
        Report.objects.filter(round=current, organisation__memberships__user=edu).order_by("pk")
    )
    for i, r in enumerate(edu_reports):
        if i == 0:
            _write(r, edu, "done", "全市已培训科学教师320人, 超额完成年度目标。", submit=True)
            services.report_review(user=admin, report=r, accept=True)
        elif i == 1:
            _write(r, edu, "on_track", "馆校合作接待中小学生3.2万人次。", submit=True)
        elif i == 2:
            _write(r, edu, "on_track", "已征集参赛作品500件。", submit=True)
            services.report_review(
                user=admin, report=r, accept=False, comment="请补充各县(市、区)参赛作品数。"
            )
        else:
            _write(r, edu, "on_track", "正在推进。", submit=False)
    for r in Report.objects.filter(round=current, organisation__memberships__user=health)[:1]:
        _write(r, health, "behind", "受场地影响, 智慧助老培训完成40场, 进度滞后。", submit=True)
    for r in Report.objects.filter(round=current, organisation__memberships__user=county)[:1]:
        _write(r, county, "on_track", "本区新建乡村科普站3个。", submit=False)

    # An open supervision notice to a unit that has not reported.
    pending = (
        Report.objects.filter(round=current, status=ReportStatus.PENDING)
        .exclude(organisation=association)
        .select_related("organisation", "task")
        .order_by("pk")
        .first()
    )
    if pending is not None and not Notice.objects.exists():
        notice = services.notice_create(
            user=admin,
            office=association,
            task=pending.task,
            organisation=pending.organisation,
            report=pending,
            level="yellow",
            subject=f"关于「{pending.task.title}」尚未填报进展的督办",
            requirement="请贵单位抓紧推进并在反馈期限前报送进展情况和佐证材料。",
            answer_by=today + dt.timedelta(days=7),
        )
        services.notice_advance(user=admin, notice=notice)
    _county_links(ctx, plan, county)
    ctx.notes.append(
        f"演示填报轮次「{current.title}」: {current.slot_count} 个单位任务, 含已通过、待审核、"
        "退回修改、进度滞后和未填报的报告, 以及一份已交办的督办单。"
    )


def _county_links(ctx: DemoContext, city_plan: Plan, county: Any) -> None:
    """The county's own work points linked to the city's: suggestions made by the matcher,
    the best one confirmed, the rest left for the county office to decide."""
    local = Plan.objects.filter(owner=ctx.data["county_associations"][0]).order_by("pk").first()
    if local is None:
        return
    made = services.links_suggest(user=county, local_plan=local, parent_plan=city_plan)
    best = (
        TaskLink.objects.filter(local__plan=local, parent__plan=city_plan)
        .order_by("-score", "pk")
        .first()
    )
    if best is not None:
        services.link_decide(user=county, link=best, confirm=True)
    ctx.notes.append(
        f"演示区县规划「{local.title}」: {local.tasks.count()} 项任务, {made} 条与市级任务的对应建议"
        "(一条已确认), 由 county_admin 在「上级任务对应」中处理。"
    )
