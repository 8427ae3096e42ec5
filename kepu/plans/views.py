from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from kepu.core.files import xlsx_response
from kepu.core.jobs import job_organisation, job_start
from kepu.core.pagination import paginate
from kepu.core.versioning import StaleEditError
from kepu.orgs.models import OrgKind
from kepu.orgs.scoping import Action, can, get_in_scope, user_grants
from kepu.orgs.selectors import can_act_for_an_office
from kepu.orgs.services import split_names
from kepu.plans import excel, selectors, services
from kepu.plans.forms import (
    DocumentUploadForm,
    LedgerFilterForm,
    LedgerImportForm,
    PlanPreviewForms,
    TaskDeadlineForm,
    TaskUnitsForm,
)
from kepu.plans.ledger_import import duplicate_warnings, ledger_draft_create
from kepu.plans.models import KeyGroup, Plan, PlanDraft, PlanKind, Task, UnitRole

# --- plans ---------------------------------------------------------------------------
MAX_DRAFTS_SHOWN = 20
# the preview's 「采纳 N 分以上的建议」 starts at this score
ACCEPT_SUGGESTIONS_MIN = 90


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    page = paginate(request, selectors.plan_list(user=request.user))
    return render(
        request,
        "plans/plan_list.html",
        {
            "page": page,
            "plans": selectors.with_task_counts(page.object_list),
            "can_import": can_act_for_an_office(user=request.user),
            "drafts": PlanDraft.objects.restrict(request.user, Action.ADD)
            .only("pk", "source_name", "created_at")
            .order_by("-created_at", "-pk")[:MAX_DRAFTS_SHOWN],
        },
    )


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(selectors.plan_list(user=request.user), pk=pk)
    tasks = selectors.task_ledger(user=request.user, filters=selectors.LedgerFilters(plan=plan.pk))
    page = paginate(request, tasks)
    sections = selectors.plan_sections(plan)
    return render(
        request,
        "plans/plan_detail.html",
        {
            "plan": plan,
            "sections": sections[: selectors.MAX_SECTIONS_SHOWN],
            "more_sections": len(sections) > selectors.MAX_SECTIONS_SHOWN,
            "page": page,
            "groups": selectors.plan_task_groups(page.object_list),
            "doc_targets": plan.targets.filter(task__isnull=True).order_by("pk")[:100],
            "can_delete": can(request.user, plan, Action.DELETE),
        },
    )


@login_required
def plan_source(request: HttpRequest, pk: int) -> FileResponse:
    # The original document is the owner's: its office and the offices above it download
    # it; a unit named on some tasks sees those tasks, not the whole file (403).
    plan = get_in_scope(
        Plan,
        request.user,
        Action.VIEW,
        owned=True,
        message="只有导入该规划的办公室及其上级办公室可以下载原始文件。",
        pk=pk,
    )
    if not plan.source_file:
        raise Http404("没有原始文件")
    return FileResponse(
        plan.source_file.open("rb"), as_attachment=True, filename=plan.source_name or "plan"
    )


@login_required
@require_POST
def plan_delete(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(Plan.objects.restrict(request.user, Action.DELETE), pk=pk)
    services.plan_delete(user=request.user, plan=plan)
    messages.success(request, f"已删除「{plan.title}」。")
    return redirect("plans:list")


# --- import a document: upload → preview → confirm -------------------------------------
@login_required
def document_upload(request: HttpRequest) -> HttpResponse:
    if not can_act_for_an_office(user=request.user):
        raise PermissionDenied("只有办公室管理员可以导入规划文件。")
    form = DocumentUploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["document"]
        if upload:
            name, data = upload.name, upload.read()
        else:
            name, data = "粘贴文本.txt", form.cleaned_data["text"].encode("utf-8")
        try:
            owner = services.office_for_upload(request.user, form.cleaned_data["owner"])
            draft = services.plan_draft_create(
                user=request.user, owner=owner, name=name, data=data, kind=form.cleaned_data["kind"]
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            for w in duplicate_warnings(owner=owner, parsed=draft.parsed):
                messages.warning(request, w)
            return redirect("plans:draft", pk=draft.pk)
    return render(request, "plans/upload.html", {"form": form})


@login_required
def draft_preview(request: HttpRequest, pk: int) -> HttpResponse:
    draft = get_object_or_404(PlanDraft.objects.restrict(request.user, Action.ADD), pk=pk)
    context = selectors.draft_preview(user=request.user, draft=draft)
    units: list[selectors.UnitPreview] = context["units"]
    forms = PlanPreviewForms(
        request.POST if request.method == "POST" else None,
        parsed=draft.parsed,
        unit_names=[u.name for u in units],
        default_kind=draft.kind,
        default_title=draft.source_name,
        unit_initial={
            u.name: str(u.best.organisation_id)
            for u in units
            if u.best is not None and u.status != "fuzzy"  # a fuzzy guess is never preselected
        },
    )
    errors: list[str] = []
    if request.method == "POST" and forms.is_valid():
        try:
            plan = services.plan_draft_confirm(
                user=request.user,
                draft=draft,
                fields=forms.plan_fields(),
                unit_choices=forms.unit_choices(),
            )
        except services.DraftGone as exc:
            messages.warning(request, exc.messages[0])
            return redirect("plans:list")
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, f"已保存「{plan.title}」, 共 {plan.tasks.count()} 项任务。")
            return redirect("plans:detail", pk=plan.pk)
    # an organisation chosen by search (not among the suggestions) stays chosen on re-display
    chosen = selectors.organisation_names(
        user=request.user,
        ids=[
            int(f["org"].value())
            for f in forms.units
            if f.is_bound and str(f["org"].value() or "").isdigit()
        ],
    )
    context.update(
        draft=draft,
        forms=forms,
        errors=errors,
        field_error_count=forms.error_count() if forms.plan.is_bound else 0,
        task_rows=list(zip(draft.parsed.get("tasks") or [], forms.tasks, strict=True)),
        unit_rows=[
            (u, f, _chosen_elsewhere(u, str(f["org"].value() or ""), chosen))
            for u, f in zip(units, forms.units, strict=True)
        ],
        kinds=PlanKind.choices,
        org_kinds=OrgKind.choices,
        accept_min=ACCEPT_SUGGESTIONS_MIN,
    )
    return render(request, "plans/preview.html", context)


def _chosen_elsewhere(unit: selectors.UnitPreview, value: str, names: dict[str, str]) -> str | None:
    """The name of the organisation chosen for ``unit`` when it is not a suggestion."""
    if value in {str(m.organisation_id) for m in unit.matches}:
        return None
    return names.get(value)


@login_required
@require_POST
def draft_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    draft = get_object_or_404(PlanDraft.objects.restrict(request.user, Action.ADD), pk=pk)
    try:
        services.plan_draft_cancel(user=request.user, draft=draft)
    except services.DraftGone as exc:
        messages.warning(request, exc.messages[0])
        return redirect("plans:list")
    messages.success(request, "已取消导入, 没有保存任何内容。")
    return redirect("plans:list")


@login_required
def ledger_import(request: HttpRequest) -> HttpResponse:
    if not can_act_for_an_office(user=request.user):
        raise PermissionDenied("只有办公室管理员可以导入任务台账。")
    form = LedgerImportForm(request.POST or None, request.FILES or None, user=request.user)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["workbook"]
        try:
            owner = services.office_for_upload(request.user, form.cleaned_data["owner"])
            draft, warnings = ledger_draft_create(
                user=request.user,
                owner=owner,
                name=upload.name,
                data=upload.read(),
                title=form.cleaned_data["title"],
                kind=form.cleaned_data["kind"],
            )
        except ValidationError as exc:
            errors = exc.messages
        else:
            for w in warnings:
                messages.warning(request, w)
            return redirect("plans:draft", pk=draft.pk)
    return render(request, "plans/ledger_import.html", {"form": form, "errors": errors})


# --- ledger ------------------------------------------------------------------------------
def _ledger_filters(
    request: HttpRequest,
) -> tuple[LedgerFilterForm, selectors.LedgerFilters | None]:
    """The ledger's filter form and filters; ``None`` when a filter is invalid or out of
    the user's scope (an unknown plan, unit or region must never widen the ledger)."""
    form = LedgerFilterForm(request.GET or None, user=request.user)
    if not form.is_bound:
        return form, selectors.LedgerFilters()
    if not form.is_valid():
        return form, None
    d = form.cleaned_data
    return form, selectors.LedgerFilters(
        plan=d["plan"].pk if d["plan"] else None,
        section=d["section"],
        organisation=d["organisation"].pk if d["organisation"] else None,
        role=d["role"],
        key_group=d["key_group"],
        has_target=d["has_target"],
        query=d["q"].strip(),
        region_path=d["region"].path if d["region"] else "",
    )


@login_required
def ledger(request: HttpRequest) -> HttpResponse:
    form, filters = _ledger_filters(request)
    tasks: QuerySet[Task]
    if filters is None:
        tasks = Task.objects.restrict(request.user, Action.VIEW).none()
    else:
        tasks = selectors.task_ledger(user=request.user, filters=filters)
    page = paginate(request, tasks)
    from django.utils import timezone

    from kepu.progress.selectors import STATUS_RULE_ANY, attach_status

    attach_status(page.object_list, today=timezone.localdate())
    export_query = request.GET.copy()
    export_query.pop("page", None)
    export_query.pop("per_page", None)
    return render(
        request,
        "plans/ledger.html",
        {
            "form": form,
            "page": page,
            "tasks": page.object_list,
            "query_string": export_query.urlencode(),
            "key_groups": dict(KeyGroup.choices),
            "can_import": can_act_for_an_office(user=request.user),
            "status_rule": STATUS_RULE_ANY,
        },
    )


@login_required
def ledger_export(request: HttpRequest) -> HttpResponse:
    """The ledger as xlsx: immediate when small, a background job above the threshold."""
    form, filters = _ledger_filters(request)
    if filters is None:
        raise Http404("筛选条件无效或不在您的范围内。")
    tasks = selectors.task_ledger(user=request.user, filters=filters)
    title = "任务台账"
    if form.is_bound and form.cleaned_data["plan"] is not None:
        title = f"{form.cleaned_data['plan'].title} 任务台账"
    if form.is_bound and form.cleaned_data["region"] is not None:
        title = f"{form.cleaned_data['region'].name} {title}"
    if tasks.count() > settings.KEPU_LEDGER_EXPORT_JOB_ROWS:
        job = job_start(
            user=request.user,
            kind="ledger_export",
            organisation=job_organisation(request.user),
            func="kepu.plans.jobs.ledger_export",
            params={"filters": asdict(filters), "title": title},
            title=f"导出{title}",
        )
        messages.info(request, "台账行数较多, 已转为后台任务导出; 完成后可在此页下载。")
        return redirect("jobs:detail", pk=job.pk)
    data = excel.ledger_workbook(title=title, tasks=tasks)
    return xlsx_response(data, f"{title}.xlsx")


@login_required
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        task = selectors.task_detail(user=request.user, pk=pk)
    except Task.DoesNotExist as exc:
        raise Http404 from exc
    return render(
        request,
        "plans/task_detail.html",
        {
            "task": task,
            "can_change": can(request.user, task.plan, Action.CHANGE),
            "key_groups": dict(KeyGroup.choices),
        },
    )


def _task_initial(task: Task) -> dict[str, Any]:
    return {
        "title": task.title,
        "lead": "、".join(u.name for u in task.lead_units),
        "cooperate": "、".join(u.name for u in task.cooperating_units),
        "responsible": "、".join(u.name for u in task.unroled_units),
        "version": task.version,
    }


@login_required
def task_edit(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(Task.objects.restrict(request.user, Action.VIEW), pk=pk)
    if not can(request.user, task.plan, Action.CHANGE):
        raise PermissionDenied
    form = TaskUnitsForm(request.POST or None, initial=_task_initial(task))
    deadline_form = TaskDeadlineForm(
        request.POST or None, initial={"deadline": task.deadline, "due_on": task.due_on}
    )
    if request.method == "POST" and form.is_valid() and deadline_form.is_valid():
        d = form.cleaned_data
        try:
            services.task_update_units(
                user=request.user,
                task=task,
                title=d["title"],
                lead=split_names(d["lead"]),
                cooperate=split_names(d["cooperate"]),
                responsible=split_names(d["responsible"]),
                version=d["version"],
            )
        except StaleEditError as exc:
            form.stale(exc, _task_initial(exc.current))
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            services.task_set_deadline(
                user=request.user,
                task=task,
                text=deadline_form.cleaned_data["deadline"],
                due_on=deadline_form.cleaned_data["due_on"],
            )
            messages.success(request, "任务已更新。")
            return redirect("plans:task", pk=task.pk)
    return render(
        request,
        "plans/task_edit.html",
        {"form": form, "deadline_form": deadline_form, "task": task},
    )


@login_required
def my_tasks(request: HttpRequest) -> HttpResponse:
    role = request.GET.get("role", "")
    if role not in ("", UnitRole.LEAD, UnitRole.COOPERATE):
        role = ""
    page = paginate(request, selectors.my_tasks(user=request.user, role=role))
    org_ids = {g.organisation_id for g in user_grants(request.user)}
    rows = [(t, selectors.my_role_in(t, org_ids)) for t in page.object_list]
    from django.utils import timezone

    from kepu.progress.selectors import STATUS_RULE_ANY, attach_status, open_reports_by_task

    tasks = [t for t, _ in rows]
    attach_status(tasks, today=timezone.localdate())  # N of each plan's office
    reports = open_reports_by_task(user=request.user, task_ids=[t.pk for t in tasks])
    return render(
        request,
        "plans/my_tasks.html",
        {
            "rows": [(t, role_, reports.get(t.pk)) for t, role_ in rows],
            "role": role,
            "page": page,
            "status_rule": STATUS_RULE_ANY,
        },
    )
