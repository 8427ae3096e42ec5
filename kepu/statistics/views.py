"""Statistics pages: thin views over services and selectors."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from kepu.core.files import xlsx_response
from kepu.core.importing import DataImportError
from kepu.core.models import ACTIVE_STATUSES, Job
from kepu.core.pagination import paginate
from kepu.core.types import UserLike
from kepu.core.versioning import StaleEditError
from kepu.orgs.scoping import Action, can, get_in_scope, user_grants
from kepu.orgs.selectors import acting_office, can_act_for_an_office
from kepu.regions.models import Region
from kepu.statistics import core, exports, selectors, services
from kepu.statistics.models import Catalogue, Collection, ReportStatus, StatReport
from kepu.statistics.prefill import SOURCE_LABELS, prefill_values

SHIPPED_CATALOGUE = Path(__file__).parent / "catalogues" / "kepu-2026.json"


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _is_office_member(user: UserLike) -> bool:
    return user.is_superuser or any(g.region_path is not None for g in user_grants(user))


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = request.user
    office = _is_office_member(user)
    to_review = None
    if office:
        to_review = paginate(
            request,
            StatReport.objects.restrict(user, Action.VIEW)
            .filter(status=ReportStatus.SUBMITTED)
            # a unit's own report is reviewed by the office above it, not by itself
            .exclude(organisation_id__in=[g.organisation_id for g in user_grants(user)])
            .select_related("organisation", "collection")
            .order_by("submitted_at", "pk"),
            param="review_page",
        )
    return render(
        request,
        "statistics/index.html",
        {
            "collections": paginate(request, selectors.collection_list(user=user)),
            "mine": paginate(request, selectors.my_reports(user=user), param="mine_page"),
            "to_review": to_review,
            "can_create": can_act_for_an_office(user=user),
            # the user's collections being created and population imports still running
            "running": list(
                Job.objects.restrict(user, Action.VIEW)
                .filter(
                    created_by_id=user.pk,
                    kind__in=["statistics_collection", "statistics_population"],
                    status__in=ACTIVE_STATUSES,
                )
                .order_by("-pk")[:5]
            ),
        },
    )


# --- catalogues ---------------------------------------------------------------------------
@login_required
def catalogue_list(request: HttpRequest) -> HttpResponse:
    # unscoped: the catalogues are reference data every signed-in user reads
    qs = Catalogue.objects.order_by("-year")
    return render(request, "statistics/catalogues.html", {"page": paginate(request, qs)})


@login_required
def catalogue_detail(request: HttpRequest, pk: int) -> HttpResponse:
    catalogue = get_object_or_404(Catalogue, pk=pk)
    parsed = catalogue.parsed()
    names = parsed.by_code()
    rules = [
        f"{names[r.left].label} ≤ {names[r.right].label}"
        if r.kind == "le"
        else f"{names[r.total].label} = " + " + ".join(names[p].label for p in r.parts)
        for r in parsed.rules
    ]
    return render(
        request,
        "statistics/catalogue.html",
        {
            "catalogue": catalogue,
            "groups": _grouped(parsed.indicators),
            "rules": rules,
            "derived": parsed.derived,
            "departments": parsed.departments,
            "sources": SOURCE_LABELS,
        },
    )


@login_required
def catalogue_import(request: HttpRequest) -> HttpResponse:
    if not request.user.is_superuser:
        raise PermissionDenied("只有系统管理员可以导入指标目录。")
    errors: list[str] = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        year = _int(request.POST.get("year"), 0) or None
        try:
            if request.POST.get("shipped"):
                name = SHIPPED_CATALOGUE.name
                data = json.loads(SHIPPED_CATALOGUE.read_text(encoding="utf-8"))
                if year:
                    data["year"] = year
            elif upload is None:
                raise DataImportError("请选择目录文件 (JSON 或 xlsx)。")
            else:
                name = upload.name or ""
                if upload.size and upload.size > 5 * 1024 * 1024:
                    raise DataImportError("目录文件过大 (上限 5 MB)。")
                data = services.catalogue_data_from_file(name=name, data=upload.read(), year=year)
            catalogue = services.catalogue_import(user=request.user, data=data, source_name=name)
        except DataImportError as exc:
            errors = exc.errors
        else:
            messages.success(request, f"已导入「{catalogue.name}」。")
            return redirect("statistics:catalogue", pk=catalogue.pk)
    return render(request, "statistics/catalogue_import.html", {"errors": errors})


def _grouped(indicators: list[core.Indicator]) -> list[tuple[str, list[core.Indicator]]]:
    return [
        (label, [i for i in indicators if i.category == key])
        for key, label in core.CATEGORIES.items()
        if any(i.category == key for i in indicators)
    ]


# --- collections --------------------------------------------------------------------------
@login_required
def collection_new(request: HttpRequest) -> HttpResponse:
    office = acting_office(user=request.user, denied="只有办公室可以组织科普统计。")
    # unscoped: reference data
    catalogues = list(Catalogue.objects.order_by("-year")[:20])
    errors: dict[str, Any] = {}
    values = {"title": "", "year": "", "due_date": "", "jump_threshold": "50"}
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in values}
        catalogue = next((c for c in catalogues if str(c.year) == values["year"]), None)
        due = None
        if values["due_date"]:
            try:
                due = dt.date.fromisoformat(values["due_date"])
            except ValueError:
                errors["due_date"] = ["日期格式应为 年-月-日。"]
        if catalogue is None:
            errors["year"] = ["请选择已导入指标目录的年度。"]
        if not errors and catalogue is not None:
            try:
                job = services.collection_start(
                    user=request.user,
                    catalogue=catalogue,
                    fields=services.CollectionFields(
                        title=values["title"],
                        year=catalogue.year,
                        due_date=due,
                        jump_threshold=_int(values["jump_threshold"], 0),
                    ),
                    office_id=office.pk,
                )
            except ValidationError as exc:
                errors = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
            else:
                return _after_job(
                    request, job, done_url=_collection_url(job), failed_url="statistics:index"
                )
    return render(
        request,
        "statistics/collection_new.html",
        {"catalogues": catalogues, "office": office, "values": values, "errors": errors},
    )


@login_required
def collection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    collection = get_in_scope(
        Collection.objects.select_related("region", "office"), request.user, pk=pk
    )
    status = request.GET.get("status", "")
    status = status if status in ReportStatus.values else ""
    q = request.GET.get("q", "").strip()[:100]
    reports = selectors.collection_reports(
        user=request.user, collection=collection, status=status, q=q
    )
    counts = selectors.status_counts(user=request.user, collection=collection)
    return render(
        request,
        "statistics/collection.html",
        {
            "collection": collection,
            "page": paginate(request, reports),
            "counts": [(s, label, counts[s]) for s, label in ReportStatus.choices],
            "status": status,
            "q": q,
        },
    )


def _rollup_context(request: HttpRequest, pk: int) -> tuple[Collection, Any, str]:
    collection = get_in_scope(
        Collection.objects.select_related("region", "office", "catalogue"), request.user, pk=pk
    )
    by = "department" if request.GET.get("by") == "department" else "region"
    return collection, selectors.rollup(user=request.user, collection=collection, by=by), by


@login_required
def rollup(request: HttpRequest, pk: int) -> HttpResponse:
    collection, result, by = _rollup_context(request, pk)
    catalogue = collection.catalogue.parsed()
    code = request.GET.get("indicator", "")
    names = catalogue.by_code()
    if code not in names:
        code = catalogue.indicators[0].code
    chart = {
        "indicator": names[code].label,
        "unit": names[code].unit,
        "groups": [{"name": r.label, "value": r.values.get(code, 0)} for r in result.rows],
        "series": [
            {"year": y, "value": v}
            for y, v in selectors.series(user=request.user, collection=collection, code=code)
        ],
    }
    return render(
        request,
        "statistics/rollup.html",
        {
            "collection": collection,
            "rollup": result,
            "by": by,
            "groups": _grouped(catalogue.indicators),
            "indicators": catalogue.indicators,
            "derived": catalogue.derived,
            "indicator": code,
            "chart": chart,
        },
    )


@login_required
def rollup_export(request: HttpRequest, pk: int) -> HttpResponse:
    collection, result, by = _rollup_context(request, pk)
    title = f"{collection.title}汇总表({'按部门' if by == 'department' else '按地区'})"
    data = exports.rollup_workbook(
        title=title, catalogue=collection.catalogue.parsed(), rollup=result
    )
    return xlsx_response(data, f"{title}.xlsx")


def _collection_url(job: Job) -> str:
    pk = job.params.get("collection")
    return reverse("statistics:collection", args=[pk]) if pk else reverse("statistics:index")


def _after_job(
    request: HttpRequest, job: Job, *, done_url: str, failed_url: str | None
) -> HttpResponse:
    """Where to go once a job is started: its result when it already finished (a small
    region, or the immediate backend), else the job's page, which shows the progress."""
    if job.status == "done":
        messages.success(request, job.message)
        return redirect(done_url)
    if job.status == "failed" and failed_url is not None:
        messages.error(request, job.message)
    return redirect("jobs:detail", pk=job.pk)


# --- population ---------------------------------------------------------------------------
def _population_job(request: HttpRequest, upload: Any) -> Job:
    """Save the upload to storage and import it in the background (all or nothing)."""
    import uuid

    from django.core.files.storage import default_storage

    from kepu.core.jobs import job_start

    office = acting_office(user=request.user, denied="只有办公室可以导入人口数据。")
    suffix = Path(upload.name or "").suffix.lower()[:10]
    path = default_storage.save(f"job-uploads/population-{uuid.uuid4().hex}{suffix}", upload)
    try:
        return job_start(
            user=request.user,
            kind="statistics_population",
            organisation=office,
            func="kepu.statistics.jobs.population_import_job",
            params={"path": path, "name": upload.name or ""},
            title=f"导入常住人口: {upload.name or ''}"[:200],
        )
    except Exception:
        if default_storage.exists(path):
            default_storage.delete(path)
        raise


@login_required
def population(request: HttpRequest) -> HttpResponse:
    office = acting_office(user=request.user, denied="只有办公室可以导入人口数据。")
    errors: list[str] = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            errors = ["请选择人口数据文件 (xlsx 或 csv)。"]
        elif upload.size and upload.size > 100 * 1024 * 1024:
            errors = ["文件过大。"]
        else:
            job = _population_job(request, upload)
            if job.status == "failed":
                # the uploader's own file: every row error (the job keeps them all)
                details = job.error.splitlines() if job.message.startswith("导入失败") else []
                errors = details[:100] or [job.message]
            else:
                return _after_job(request, job, done_url="statistics:population", failed_url=None)
    from kepu.statistics.models import Population

    rows = (
        Population.objects.restrict(request.user, Action.VIEW)
        .select_related("region")
        .order_by("-year", "region__code")
    )
    return render(
        request,
        "statistics/population.html",
        {"office": office, "errors": errors, "page": paginate(request, rows)},
    )


@login_required
def population_template(request: HttpRequest) -> HttpResponse:
    office = acting_office(user=request.user, denied="只有办公室可以导入人口数据。")
    regions = Region.objects.filter(path__startswith=office.region.path).order_by("code")[:5000]
    year = dt.date.today().year
    data = exports.population_template(rows=[(r.code, r.name, year, "") for r in regions])
    return xlsx_response(data, "常住人口导入模板.xlsx")


# --- reports ------------------------------------------------------------------------------
def _report(request: HttpRequest, pk: int, action: Action = Action.VIEW) -> StatReport:
    return get_in_scope(
        StatReport.objects.select_related(
            "collection__catalogue", "collection__region", "organisation", "region"
        ),
        request.user,
        action,
        pk=pk,
    )


@login_required
def report(request: HttpRequest, pk: int) -> HttpResponse:
    rep = _report(request, pk)
    catalogue = rep.collection.catalogue.parsed()
    can_edit = rep.editable and can(request.user, rep, Action.CHANGE)
    errors: dict[str, list[str]] = {}
    general: list[str] = []
    raw: dict[str, Any] = {k: str(v) for k, v in rep.values.items()}
    notes: dict[str, str] = dict(rep.explanations)
    prefilled: dict[str, int] = {}
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("您不能修改这份报表。")
        raw = {i.code: request.POST.get(f"v_{i.code}", "") for i in catalogue.indicators}
        notes = {
            i.code: request.POST.get(f"e_{i.code}", "")
            for i in catalogue.indicators
            if request.POST.get(f"e_{i.code}")
        }
        submit = request.POST.get("action") == "submit"
        try:
            services.report_save(
                user=request.user,
                report=rep,
                raw=raw,
                explanations=notes,
                version=_int(request.POST.get("version"), 0),
                submit=submit,
            )
        except StaleEditError as exc:
            general = list(exc.messages)
            rep.version = exc.current.version  # type: ignore[attr-defined]
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                errors = exc.message_dict
            else:
                general = list(exc.messages)
        else:
            messages.success(request, "已提交, 等待上级审核。" if submit else "已保存。")
            return redirect("statistics:report", pk=rep.pk)
    elif can_edit and not rep.values:
        prefilled = prefill_values(
            user=request.user,
            organisation=rep.organisation,
            year=rep.collection.year,
            indicators=catalogue.indicators,
        )
        raw = {k: str(v) for k, v in prefilled.items()}
    previous = services.previous_values(rep) or {}
    jumps = {
        j.code: j
        for j in core.yoy_jumps(
            {k: v for k, v in rep.values.items()},
            previous,
            threshold_pct=rep.collection.jump_threshold,
        )
    }
    sections = []
    for label, inds in _grouped(catalogue.indicators):
        rows = []
        for ind in inds:
            rows.append(
                {
                    "ind": ind,
                    "value": raw.get(ind.code, ""),
                    "errors": errors.get(ind.code, []),
                    "explain_errors": errors.get(f"explain:{ind.code}", []),
                    "note": notes.get(ind.code, ""),
                    "previous": previous.get(ind.code),
                    "jump": jumps.get(ind.code),
                    "prefilled": ind.code in prefilled,
                }
            )
        sections.append((label, rows))
    error_count = sum(len(v) for v in errors.values())
    return render(
        request,
        "statistics/report.html",
        {
            "report": rep,
            "sections": sections,
            "can_edit": can_edit,
            "can_review": rep.status == ReportStatus.SUBMITTED
            and services.can_review(request.user, rep),
            "general": general,
            "error_count": error_count,
            "has_previous": bool(previous),
        },
    )


@login_required
def report_template(request: HttpRequest, pk: int) -> HttpResponse:
    rep = _report(request, pk)
    data = exports.report_template(
        catalogue=rep.collection.catalogue.parsed(),
        values=dict(rep.values),
        notes=dict(rep.explanations),
    )
    return xlsx_response(data, f"{rep.organisation.name}{rep.collection.year}年科普统计报表.xlsx")


@login_required
@require_POST
def report_upload(request: HttpRequest, pk: int) -> HttpResponse:
    rep = _report(request, pk, Action.CHANGE)
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise DataImportError("请选择填好的报表文件 (xlsx)。")
        if upload.size and upload.size > 20 * 1024 * 1024:
            raise DataImportError("文件过大 (上限 20 MB)。")
        services.report_upload(
            user=request.user, report=rep, name=upload.name or "", data=upload.read()
        )
    except DataImportError as exc:
        for msg in exc.errors:
            messages.error(request, msg)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "已从 Excel 导入报表数据 (尚未提交)。")
    return redirect("statistics:report", pk=rep.pk)


@login_required
@require_POST
def report_review(request: HttpRequest, pk: int) -> HttpResponse:
    rep = _report(request, pk)
    if not services.can_review(request.user, rep):
        raise PermissionDenied("只有上级办公室的管理员可以审核统计报表。")
    accept = request.POST.get("decision") == "accept"
    try:
        services.report_review(
            user=request.user, report=rep, accept=accept, comment=request.POST.get("comment", "")
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "已通过。" if accept else "已退回。")
    return redirect("statistics:report", pk=rep.pk)
