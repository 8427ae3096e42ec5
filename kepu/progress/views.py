"""Thin views over progress services and selectors; every lookup goes through the gate."""

from __future__ import annotations

import dataclasses
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from kepu.core.pagination import paginate
from kepu.core.types import UserLike
from kepu.core.versioning import StaleEditError
from kepu.orgs.models import Organisation
from kepu.orgs.scoping import Action, can
from kepu.orgs.selectors import office_choices
from kepu.plans.models import Plan, Section, Task
from kepu.progress import completion, selectors, services
from kepu.progress.forms import (
    NoticeForm,
    NoticeStepForm,
    OfficeSettingForm,
    ReportForm,
    ReviewForm,
    RoundForm,
)
from kepu.progress.models import (
    Notice,
    NoticeStatus,
    Report,
    ReportEvidence,
    ReportStatus,
    TaskLink,
)


def _offices(user: UserLike) -> list[tuple[int, str]]:
    return office_choices(user=user)


# ------------------------------------------------------------------------------ rounds
@login_required
def round_list(request: HttpRequest) -> HttpResponse:
    page = paginate(request, selectors.round_list(user=request.user))
    return render(
        request,
        "progress/round_list.html",
        {"page": page, "can_open": bool(_offices(request.user))},
    )


@login_required
def round_create(request: HttpRequest) -> HttpResponse:
    offices = _offices(request.user)
    if not offices:
        raise PermissionDenied("只有办公室管理员可以发起填报轮次。")
    form = RoundForm(request.POST or None)
    cast(forms.ChoiceField, form.fields["office"]).choices = offices
    plans = Plan.objects.restrict(request.user, Action.VIEW).filter(
        owner_id__in=[pk for pk, _ in offices]
    )
    cast(forms.ChoiceField, form.fields["plans"]).choices = list(
        plans.order_by("-created_at").values_list("pk", "title")[:500]
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        office = get_object_or_404(Organisation.objects.restrict(request.user), pk=d["office"])
        try:
            round_ = services.round_open(
                user=request.user,
                office=office,
                title=d["title"],
                plans=list(plans.filter(pk__in=d["plans"])),
                opens_on=d["opens_on"],
                closes_on=d["closes_on"],
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(
                request, f"已发起「{round_.title}」, 共 {round_.slot_count} 个单位任务待填报。"
            )
            return redirect("progress:round", pk=round_.pk)
    return render(request, "progress/round_form.html", {"form": form})


@login_required
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    round_ = get_object_or_404(selectors.round_list(user=request.user), pk=pk)
    page = paginate(request, selectors.round_rollup(user=request.user, round_=round_))
    selectors.attach_rollup(page.object_list, user=request.user, round_=round_)
    setting = services.office_setting(round_.office)
    selectors.attach_status(
        page.object_list, today=timezone.localdate(), warn_days=setting.warn_days
    )
    return render(
        request,
        "progress/round_detail.html",
        {
            "round": round_,
            "page": page,
            "totals": selectors.round_totals(user=request.user, round_=round_),
            "can_review": services.can_review(request.user, round_),
            "rule": selectors.STATUS_RULE.format(n=setting.warn_days),
        },
    )


@login_required
@require_POST
def round_close(request: HttpRequest, pk: int) -> HttpResponse:
    round_ = get_object_or_404(selectors.round_list(user=request.user), pk=pk)
    if not services.can_review(request.user, round_):
        raise PermissionDenied
    services.round_close(user=request.user, round_=round_)
    messages.success(request, f"「{round_.title}」已结束。")
    return redirect("progress:round", pk=pk)


@login_required
def review_queue(request: HttpRequest, pk: int) -> HttpResponse:
    round_ = get_object_or_404(selectors.round_list(user=request.user), pk=pk)
    if not services.can_review(request.user, round_):
        raise PermissionDenied("只有发起轮次的办公室可以审核报告。")
    if request.method == "POST":
        ids = [int(v) for v in request.POST.getlist("report") if v.isdigit()]
        n = services.reports_bulk_accept(user=request.user, round_=round_, report_ids=ids)
        messages.success(request, f"已批量通过 {n} 份报告。")
        return redirect("progress:review", pk=pk)
    page = paginate(request, selectors.review_queue(user=request.user, round_=round_))
    return render(request, "progress/review_queue.html", {"round": round_, "page": page})


# ------------------------------------------------------------------------------ reports
@login_required
def my_reports(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in ReportStatus.values:
        status = ""
    round_id = request.GET.get("round", "")
    qs = selectors.my_reports(
        user=request.user, status=status, round_id=int(round_id) if round_id.isdigit() else None
    )
    page = paginate(request, qs)
    return render(
        request,
        "progress/my_reports.html",
        {"page": page, "status": status, "statuses": ReportStatus.choices},
    )


def _report_for(request: HttpRequest, pk: int) -> Report:
    return get_object_or_404(
        Report.objects.restrict(request.user, Action.VIEW).select_related(
            "round__office", "task__plan", "organisation"
        ),
        pk=pk,
    )


@login_required
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report_for(request, pk)
    can_write = services.can_write_report(request.user, report) and report.editable
    targets = list(report.task.targets.all())
    values = {p.target_id: p.value for p in report.progress.all()}
    initial = {
        "state": report.state,
        "narrative": report.narrative,
        "links": report.links,
        "version": report.version,
        **{f"target_{k}": v for k, v in values.items()},
    }
    form = ReportForm(initial=initial, targets=targets)
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied("只有填报单位本单位人员可以填写该报告。")
        form = ReportForm(request.POST, request.FILES, targets=targets)
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.report_save(
                    user=request.user,
                    report=report,
                    version=d["version"],
                    state=d["state"],
                    narrative=d["narrative"],
                    links=d["links"],
                    progress=form.progress(),
                    files=d["evidence"],
                )
                if "submit" in request.POST:
                    services.report_submit(user=request.user, report=report)
            except StaleEditError as exc:
                form.stale(exc)
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                messages.success(
                    request, "报告已提交。" if "submit" in request.POST else "草稿已保存。"
                )
                return redirect("progress:report", pk=report.pk)
    can_review = report.status == ReportStatus.SUBMITTED and services.can_review(
        request.user, report.round
    )
    return render(
        request,
        "progress/report_detail.html",
        {
            "report": report,
            "form": form,
            "can_write": can_write,
            "can_review": can_review,
            "review_form": ReviewForm(initial={"version": report.version}),
            "progress": [(t, values.get(t.pk)) for t in targets],
            "evidence": list(report.evidence.all()),
            "events": list(report.events.all()),
            "can_supervise": services.can_act_for_office(request.user, report.round.office),
            "split_choices": _split_choices(request.user, report)
            if services.can_act_for_unit(request.user, report.organisation_id)
            else [],
            "children": list(report.children.select_related("organisation")),
        },
    )


def _split_choices(user: UserLike, report: Report) -> Any:
    """Units inside the reporting office's region it may split its assignment to."""
    if not report.organisation.is_office:
        return Organisation.objects.restrict(user, Action.VIEW).none()
    return (
        Organisation.objects.restrict(user, Action.VIEW)
        .filter(region__path__startswith=report.organisation.region.path, is_active=True)
        .exclude(pk=report.organisation_id)
        .filter(models.Q(is_member_unit=True) | models.Q(kind="township"))
        .order_by("name")[:200]
    )


@login_required
@require_POST
def report_split(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report_for(request, pk)
    if not services.can_act_for_unit(request.user, report.organisation_id):
        raise PermissionDenied("只有承担该任务的办公室可以继续分解。")
    ids = [int(v) for v in request.POST.getlist("organisation") if v.isdigit()]
    chosen = [o for o in _split_choices(request.user, report) if o.pk in ids]
    try:
        new = services.report_split(user=request.user, report=report, organisations=chosen)
    except ValidationError as exc:
        for m in exc.messages:
            messages.error(request, m)
    else:
        messages.success(request, f"已分解给 {len(new)} 个单位。")
    return redirect("progress:report", pk=pk)


@login_required
@require_POST
def report_review(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report_for(request, pk)
    if not services.can_review(request.user, report.round):
        raise PermissionDenied("只有发起轮次的办公室可以审核报告。")
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.report_review(
                user=request.user,
                report=report,
                accept=request.POST.get("decision") == "accept",
                comment=form.cleaned_data["comment"],
                version=form.cleaned_data["version"],
            )
        except ValidationError as exc:
            for m in exc.messages:
                messages.error(request, m)
        else:
            messages.success(
                request, "已通过。" if report.status == ReportStatus.ACCEPTED else "已退回修改。"
            )
    return redirect("progress:report", pk=pk)


@login_required
def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    evidence = get_object_or_404(ReportEvidence.objects.restrict(request.user, Action.VIEW), pk=pk)
    return FileResponse(evidence.file.open("rb"), as_attachment=True, filename=evidence.name)


# ------------------------------------------------------------------------------ settings
@login_required
def office_settings(request: HttpRequest) -> HttpResponse:
    offices = Organisation.objects.restrict(request.user, Action.MANAGE).filter(
        pk__in=[pk for pk, _ in _offices(request.user)]
    )
    office = offices.first()
    if office is None:
        raise PermissionDenied("只有办公室管理员可以修改进展设置。")
    setting = services.office_setting(office)
    form = OfficeSettingForm(
        request.POST or None,
        initial={"warn_days": setting.warn_days, "remind_days": setting.remind_days},
    )
    if request.method == "POST" and form.is_valid():
        services.office_setting_update(user=request.user, office=office, **form.cleaned_data)
        messages.success(request, "设置已保存。")
        return redirect("progress:settings")
    return render(
        request,
        "progress/settings.html",
        {"form": form, "office": office, "rule": selectors.STATUS_RULE.format(n=setting.warn_days)},
    )


# ------------------------------------------------------------------------------ 督办
@login_required
def notice_list(request: HttpRequest) -> HttpResponse:
    qs = (
        Notice.objects.restrict(request.user, Action.VIEW)
        .select_related("office", "organisation", "task")
        .order_by("-created_at", "-pk")
    )
    status = request.GET.get("status", "")
    if status in NoticeStatus.values:
        qs = qs.filter(status=status)
    return render(
        request,
        "progress/notice_list.html",
        {"page": paginate(request, qs), "status": status, "statuses": NoticeStatus.choices},
    )


@login_required
def notice_create(request: HttpRequest, report_pk: int) -> HttpResponse:
    report = _report_for(request, report_pk)
    office = report.round.office
    if not services.can_act_for_office(request.user, office):
        raise PermissionDenied("只有办公室可以发起督办。")
    form = NoticeForm(
        request.POST or None,
        initial={
            "subject": f"关于「{report.task.title}」进展情况的督办",
            "requirement": f"请贵单位抓紧推进「{report.task.title}」, 按期反馈办理情况。",
            "answer_by": report.round.closes_on,
            "level": "yellow",
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            notice = services.notice_create(
                user=request.user,
                office=office,
                task=report.task,
                organisation=report.organisation,
                report=report,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, f"已立项 {notice.number}。")
            return redirect("progress:notice", pk=notice.pk)
    return render(request, "progress/notice_form.html", {"form": form, "report": report})


@login_required
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    notice = get_object_or_404(
        Notice.objects.restrict(request.user, Action.VIEW).select_related(
            "office", "organisation", "task"
        ),
        pk=pk,
    )
    form = NoticeStepForm(request.POST or None, initial={"version": notice.version})
    if request.method == "POST" and form.is_valid():
        try:
            if request.POST.get("send_back"):
                services.notice_send_back(
                    user=request.user,
                    notice=notice,
                    comment=form.cleaned_data["comment"],
                    version=form.cleaned_data["version"],
                )
            else:
                services.notice_advance(
                    user=request.user,
                    notice=notice,
                    comment=form.cleaned_data["comment"],
                    version=form.cleaned_data["version"],
                )
        except StaleEditError as exc:
            form.stale(exc)
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, f"督办单已进入「{notice.get_status_display()}」。")
            return redirect("progress:notice", pk=pk)
    step = services.NOTICE_FLOW.get(notice.status)
    next_label = NoticeStatus(step[0]).label if step else ""
    actor_ok = False
    if step:
        actor_ok = (
            services.can_act_for_office(request.user, notice.office)
            if step[1] == "office"
            else services.can_act_for_unit(request.user, notice.organisation_id)
        )
    return render(
        request,
        "progress/notice_detail.html",
        {
            "notice": notice,
            "form": form,
            "next_label": next_label,
            "can_step": actor_ok,
            "can_send_back": notice.status == NoticeStatus.ANSWERED
            and services.can_act_for_office(request.user, notice.office),
            "events": list(notice.events.all()),
            "flow": NoticeStatus.choices,
        },
    )


@login_required
def notice_docx(request: HttpRequest, pk: int) -> HttpResponse:
    from kepu.progress.documents import notice_document

    notice = get_object_or_404(
        Notice.objects.restrict(request.user, Action.VIEW).select_related(
            "office", "organisation", "task"
        ),
        pk=pk,
    )
    return notice_document(notice)


@login_required
def task_terminate(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(Task.objects.restrict(request.user, Action.VIEW), pk=pk)
    if request.method != "POST":
        return redirect("plans:task", pk=pk)
    try:
        services.task_terminate(user=request.user, task=task, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        for m in exc.messages:
            messages.error(request, m)
    else:
        messages.success(request, "任务已终止。")
    return redirect("plans:task", pk=pk)


# ------------------------------------------------------------------------------ dashboard
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    rounds = selectors.round_list(user=request.user)
    round_id = request.GET.get("round", "")
    round_ = get_object_or_404(rounds, pk=int(round_id)) if round_id.isdigit() else rounds.first()
    context: dict[str, Any] = {"round": round_, "rounds": rounds[:50]}
    if round_ is not None:
        data = selectors.dashboard(user=request.user, round_=round_, today=timezone.localdate())
        units = paginate(request, data["units"], param="upage")
        overdue = paginate(request, data["overdue"], param="opage")
        status_labels = dict(ReportStatus.choices)
        chart = {
            "status_title": "报告状态",
            "series": [
                {"name": "单位任务", "key": "total"},
                {"name": "已提交", "key": "reported"},
                {"name": "已完成", "key": "done"},
            ],
            "rate_label": "按时率",
            "status": [
                {"name": status_labels[k], "value": v} for k, v in data["by_status"].items()
            ],
            "sections": [
                {
                    "name": s["task__section__title"] or "(未分章节)",
                    "total": s["total"],
                    "reported": s["reported"],
                    "done": s["done"],
                }
                for s in data["sections"]
            ],
            "units": [
                {
                    "name": u["organisation__name"],
                    "rate": round(100 * u["on_time"] / u["total"], 1) if u["total"] else 0,
                }
                for u in list(units.object_list)[:20]
            ],
        }
        context.update(data, units=units, overdue=overdue, chart=chart)
    return render(request, "progress/dashboard.html", context)


def _round_export_job(request: HttpRequest, round_: Any, *, kind: str) -> HttpResponse | None:
    """Start a background job for a large round's export (None when small enough to
    answer inside the request)."""
    from kepu.core.jobs import job_organisation, job_start
    from kepu.progress.exports import job_threshold, round_task_queryset

    if round_task_queryset(request.user, round_)[: job_threshold() + 1].count() <= job_threshold():
        return None
    word = kind == "docx"
    job = job_start(
        user=request.user,
        kind="progress_report" if word else "progress_ledger",
        organisation=job_organisation(request.user),
        func="kepu.progress.jobs.round_report_export"
        if word
        else "kepu.progress.jobs.round_ledger_export",
        params={"round": round_.pk, "today": timezone.localdate().isoformat()},
        title=f"导出{round_.title}{'进展报告' if word else '进展台账'}",
    )
    messages.info(request, "该轮次任务较多, 已转为后台任务导出; 完成后可在此页下载。")
    return redirect("jobs:detail", pk=job.pk)


@login_required
def round_docx(request: HttpRequest, pk: int) -> HttpResponse:
    from kepu.progress.documents import docx_response
    from kepu.progress.exports import round_report_docx

    round_ = get_object_or_404(selectors.round_list(user=request.user), pk=pk)
    job = _round_export_job(request, round_, kind="docx")
    if job is not None:
        return job
    try:
        data = round_report_docx(user=request.user, round_=round_, today=timezone.localdate())
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("progress:round", pk=pk)
    return docx_response(data, f"{round_.title}进展情况报告.docx")


@login_required
def round_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    from kepu.core.files import xlsx_response
    from kepu.progress.exports import round_ledger_xlsx

    round_ = get_object_or_404(selectors.round_list(user=request.user), pk=pk)
    job = _round_export_job(request, round_, kind="xlsx")
    if job is not None:
        return job
    data = round_ledger_xlsx(user=request.user, round_=round_, today=timezone.localdate())
    return xlsx_response(data, f"{round_.title}进展台账.xlsx")


# ------------------------------------------------------------------------------ completion
def _completion(
    request: HttpRequest, *, scope: completion.Scope, heading: str, context: dict[str, Any]
) -> HttpResponse:
    """The task-status dashboard of a plan or an office, with drill-down by section,
    unit and status (every list paginated, query count fixed)."""
    user, today = request.user, timezone.localdate()
    section_id, unit_id = request.GET.get("section", ""), request.GET.get("unit", "")
    if section_id.isdigit():
        section = get_object_or_404(
            Section.objects.restrict(user, Action.VIEW).filter(plan__in=scope.plans),
            pk=int(section_id),
        )
        scope = dataclasses.replace(scope, section=section)
    if unit_id.isdigit():
        unit = get_object_or_404(Organisation.objects.restrict(user, Action.VIEW), pk=int(unit_id))
        scope = dataclasses.replace(scope, unit=unit)
    status = request.GET.get("status", "")
    if status not in completion.STATUS_LABELS and status not in completion.LIGHT_NAMES:
        status = ""
    summary = completion.summary(user=user, scope=scope, today=today)
    units = paginate(
        request, completion.by_unit(user=user, scope=scope, today=today), param="upage"
    )
    unit_rows = list(units.object_list)
    completion.attach_unit_reports(unit_rows, user=user, scope=scope)
    sections = paginate(
        request, completion.by_section(user=user, scope=scope, today=today), param="spage"
    )
    silent = paginate(
        request, completion.not_reported(user=user, scope=scope, today=today), param="npage"
    )
    tasks = paginate(
        request,
        completion.task_list(user=user, scope=scope, today=today, status=status),
        param="tpage",
    )
    chart = {
        "status_title": "任务状态",
        "series": [
            {"name": "任务", "key": "total"},
            {"name": "已完成", "key": "done"},
            {"name": "滞后", "key": "late"},
        ],
        "rate_label": "完成率",
        "status": [
            {"name": completion.STATUS_LABELS[k], "value": v}
            for k, v in summary["by_status"].items()
        ],
        "sections": [
            {
                "name": s["section__title"] or "(未分章节)",
                "total": s["total"],
                "done": s["done"],
                "late": s["late"],
            }
            for s in sections.object_list
        ],
        "units": [
            {"name": u["organisation__name"], "rate": u["done_rate"]} for u in unit_rows[:20]
        ],
    }
    drill = request.GET.copy()
    for key in ("upage", "spage", "npage", "tpage", "status"):
        drill.pop(key, None)
    context.update(
        heading=heading,
        scope=scope,
        summary=summary,
        status_labels=completion.STATUS_LABELS,
        light_names=completion.LIGHT_NAMES,
        status=status,
        status_title=completion.STATUS_LABELS.get(status)
        or completion.LIGHT_NAMES.get(status)
        or "逾期 (红灯)",
        units=units,
        unit_rows=unit_rows,
        sections=sections,
        silent=silent,
        tasks=tasks,
        chart=chart,
        drill_query=drill.urlencode(),
        rule=selectors.STATUS_RULE.format(n=scope.warn_days),
    )
    return render(request, "progress/completion.html", context)


@login_required
def plan_dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(
        Plan.objects.restrict(request.user, Action.VIEW).select_related("owner"), pk=pk
    )
    warn = services.office_setting(plan.owner).warn_days if plan.owner else 14
    # unscoped: the one plan fetched through restrict() above
    plans = Plan.objects.filter(pk=plan.pk)
    scope = completion.Scope(plans=plans, warn_days=warn)
    return _completion(
        request, scope=scope, heading=f"完成情况: {plan.title}", context={"plan": plan}
    )


@login_required
def office_dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    office = get_object_or_404(
        Organisation.objects.restrict(request.user, Action.VIEW).select_related("region"),
        pk=pk,
    )
    if not office.is_office:
        raise Http404("只有科协或纲要办有完成情况总览。")
    if not services.can_view_office(request.user, office):
        raise PermissionDenied("只有本办公室及上级办公室可以查看其完成情况。")
    plans = Plan.objects.restrict(request.user, Action.VIEW).filter(owner=office)
    scope = completion.Scope(plans=plans, warn_days=services.office_setting(office).warn_days)
    plan_rows = paginate(
        request,
        completion.by_plan(user=request.user, scope=scope, today=timezone.localdate()),
        param="ppage",
    )
    return _completion(
        request,
        scope=scope,
        heading=f"完成情况: {office.name}",
        context={"office": office, "plan_rows": plan_rows},
    )


# ------------------------------------------------------------------------------ 上下级任务对应
def _plan_for(request: HttpRequest, pk: int) -> Plan:
    return get_object_or_404(
        Plan.objects.restrict(request.user, Action.VIEW).select_related("region", "owner"), pk=pk
    )


@login_required
def plan_links(request: HttpRequest, pk: int) -> HttpResponse:
    """A local plan's tasks with the parent-plan tasks they implement (suggested by the
    matcher, confirmed or rejected by the plan's office)."""
    plan = _plan_for(request, pk)
    choices = list(selectors.parent_plan_choices(user=request.user, local_plan=plan))
    parent_id = request.GET.get("parent", "")
    parent = next((p for p in choices if str(p.pk) == parent_id), None)
    if parent_id and parent is None:
        raise Http404("上级规划不存在或不在您的范围内。")
    page = paginate(request, selectors.local_tasks_with_links(local_plan=plan))
    selectors.attach_links(page.object_list, user=request.user, parent_plan=parent)
    return render(
        request,
        "progress/plan_links.html",
        {
            "plan": plan,
            "parent": parent,
            "choices": choices,
            "page": page,
            "can_edit": can(request.user, plan, Action.CHANGE),
            # an office below reads the parent plan only here, not its task pages
            "parent_readable": parent is not None and can(request.user, parent, Action.VIEW),
        },
    )


@login_required
@require_POST
def plan_links_suggest(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_for(request, pk)
    if not can(request.user, plan, Action.CHANGE):
        raise PermissionDenied("只有制定该规划的办公室可以匹配上级任务。")
    parent_id = request.POST.get("parent", "")
    parent = get_object_or_404(
        Plan.objects.restrict(request.user, Action.VIEW, read_down=True).select_related("region"),
        pk=int(parent_id) if parent_id.isdigit() else 0,
    )
    try:
        n = services.links_suggest(user=request.user, local_plan=plan, parent_plan=parent)
    except ValidationError as exc:
        for m in exc.messages:
            messages.error(request, m)
        return redirect("progress:plan_links", pk=pk)
    messages.success(request, f"已生成 {n} 条对应建议, 请逐条确认或否决。")
    return redirect(f"{reverse('progress:plan_links', args=[pk])}?parent={parent.pk}")


@login_required
@require_POST
def link_decide(request: HttpRequest, pk: int) -> HttpResponse:
    link = get_object_or_404(
        TaskLink.objects.restrict(request.user, Action.VIEW).select_related(
            "local__plan__region", "parent__plan"
        ),
        pk=pk,
    )
    if not can(request.user, link.parent, Action.VIEW, read_down=True):
        raise Http404("上级任务不在您的范围内。")
    if not can(request.user, link, Action.CHANGE):
        raise PermissionDenied("只有可以修改本级规划的办公室可以确认对应关系。")
    services.link_decide(
        user=request.user, link=link, confirm=request.POST.get("decision") == "confirm"
    )
    messages.success(request, f"已{link.get_status_display().removeprefix('已')}。")
    url = reverse("progress:plan_links", args=[link.local.plan_id])
    page = request.POST.get("page", "")
    query = f"?parent={link.parent.plan_id}" + (f"&page={page}" if page.isdigit() else "")
    return redirect(url + query)


@login_required
@require_POST
def link_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Link a task of local plan ``pk`` to a parent task picked by hand (confirmed at
    once): the local task by id or 序号, the parent task by id or by 序号 in a parent plan."""
    plan = _plan_for(request, pk)
    if not can(request.user, plan, Action.CHANGE):
        raise PermissionDenied("只有可以修改本级规划的办公室可以确认对应关系。")
    post = request.POST
    back = post.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts=None) or not back.startswith("/"):
        back = reverse("progress:plan_links", args=[pk])
    local_q = (
        {"pk": int(post["local"])}
        if post.get("local", "").isdigit()
        else {"number": post.get("local_number", "").strip()}
    )
    parents = Task.objects.restrict(request.user, Action.VIEW, read_down=True)
    parent_plan = post.get("parent_plan", "")
    parent_q = (
        {"pk": int(post["parent_task"])}
        if post.get("parent_task", "").isdigit()
        else {
            "plan_id": int(parent_plan) if parent_plan.isdigit() else 0,
            "number": post.get("parent_number", "").strip(),
        }
    )
    locals_ = list(plan.tasks.filter(**local_q)[:2]) if any(local_q.values()) else []
    found = (
        list(parents.select_related("plan__region").filter(**parent_q)[:2])
        if all(parent_q.values())
        else []
    )
    for what, hits in (("本级规划", locals_), ("上级规划", found)):
        if len(hits) != 1:
            messages.error(
                request,
                f"{what}中{'没有' if not hits else '有多项'}该序号的任务; 请按台账中的「序号」填写"
                + ("。" if not hits else ", 或在建议列表中确认。"),
            )
            return redirect(back)
    local, parent = locals_[0], found[0]
    try:
        services.link_create(user=request.user, local=local, parent=parent)
    except ValidationError as exc:
        for m in exc.messages:
            messages.error(request, m)
        return redirect(back)
    messages.success(
        request, f"已确认: {local.number} {local.title} → {parent.number} {parent.title}"
    )
    return redirect(back)


@login_required
def plan_coverage(request: HttpRequest, pk: int) -> HttpResponse:
    """Which tasks of a (parent) plan have confirmed local counterparts, which have none.
    A county office reads a city plan here (``read_down``) to see which city tasks its
    own plan (``?local=``) does not implement yet, and links them."""
    plan = get_object_or_404(
        Plan.objects.restrict(request.user, Action.VIEW, read_down=True).select_related(
            "region", "owner"
        ),
        pk=pk,
    )
    local_id = request.GET.get("local", "")
    local_plan = None
    if local_id.isdigit():
        local_plan = (
            Plan.objects.restrict(request.user, Action.CHANGE)
            .select_related("region")
            .filter(pk=int(local_id))
            .first()
        )
        if local_plan is not None and not services.parent_plan_ok(local_plan, plan):
            local_plan = None
    uncovered = request.GET.get("uncovered") == "1"
    page = paginate(
        request, selectors.coverage(user=request.user, parent_plan=plan, uncovered=uncovered)
    )
    selectors.attach_local_tasks(page.object_list, user=request.user)
    return render(
        request,
        "progress/plan_coverage.html",
        {
            "plan": plan,
            "page": page,
            "uncovered": uncovered,
            "totals": selectors.coverage_totals(user=request.user, parent_plan=plan),
            "local_plan": local_plan,
            "readable": can(request.user, plan, Action.VIEW),
            "local_query": f"&local={local_plan.pk}" if local_plan else "",
        },
    )
