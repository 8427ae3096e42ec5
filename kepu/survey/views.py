"""Pages for literacy monitoring. Thin: scoping through ``restrict``, work in services."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from kepu.core import jobs
from kepu.core.files import csv_safe, xlsx_response
from kepu.core.pagination import paginate
from kepu.core.versioning import StaleEditError
from kepu.orgs.scoping import Action, can
from kepu.orgs.selectors import can_act_for_an_office
from kepu.plans.models import Target
from kepu.survey import adapter, config, excel, geo, selectors, services
from kepu.survey.forms import (
    DataImportForm,
    MarginEntryForm,
    MarginImportForm,
    TargetForm,
    WaveForm,
)
from kepu.survey.models import BREAKDOWN_LABELS, EstimationRun, Wave, WaveTarget
from kepu.survey.services import SurveyImportError, WaveFields


def _wave(request: HttpRequest, pk: int, action: Action = Action.VIEW) -> Wave:
    try:
        return selectors.wave_get(user=request.user, pk=pk, action=action)
    except Wave.DoesNotExist as exc:
        if action != Action.VIEW and Wave.objects.restrict(request.user).filter(pk=pk).exists():
            raise PermissionDenied("您只能查看该调查, 不能修改。") from exc
        raise Http404 from exc


# --- waves ------------------------------------------------------------------------------
@login_required
def wave_list(request: HttpRequest) -> HttpResponse:
    page = paginate(request, selectors.wave_list(user=request.user))
    return render(
        request,
        "survey/wave_list.html",
        {
            "page": page,
            "waves": selectors.with_respondent_counts(page.object_list),
            "can_create": can_act_for_an_office(user=request.user),
        },
    )


def _wave_fields(d: dict, *, region=None) -> WaveFields:
    return WaveFields(
        title=d["title"],
        kind=d["kind"],
        year=d["year"],
        region=region,
        questionnaire=d["questionnaire"],
        scoring=d["scoring"],
        min_n=d["min_n"],
        max_rse=d["max_rse"] / 100,
        notes=d["notes"],
        ci_method=d.get("ci_method") or "logit",
    )


@login_required
def wave_create(request: HttpRequest) -> HttpResponse:
    if not can_act_for_an_office(user=request.user):
        raise PermissionDenied("只有办公室管理员可以新建监测调查。")
    form = WaveForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            owner = services.office_for_survey(request.user, d["owner"])
            wave = services.wave_create(
                user=request.user, owner=owner, fields=_wave_fields(d, region=d["region"])
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, f"已新建「{wave.title}」, 请导入受访者数据。")
            return redirect("survey:import", pk=wave.pk)
    return render(request, "survey/wave_form.html", {"form": form, "wave": None})


def _wave_initial(wave: Wave) -> dict[str, Any]:
    return {
        "title": wave.title,
        "kind": wave.kind,
        "year": wave.year,
        "min_n": wave.min_n,
        "max_rse": round(wave.max_rse * 100, 2),
        "ci_method": wave.ci_method,
        "questionnaire": wave.questionnaire,
        "scoring": wave.scoring,
        "notes": wave.notes,
        "version": wave.version,
    }


@login_required
def wave_edit(request: HttpRequest, pk: int) -> HttpResponse:
    wave = _wave(request, pk, Action.CHANGE)
    form = WaveForm(
        request.POST or None,
        request.FILES or None,
        initial=_wave_initial(wave),
        user=request.user,
        editing=True,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.wave_update(
                user=request.user,
                wave=wave,
                fields=_wave_fields(form.cleaned_data),
                version=form.cleaned_data["version"],
            )
        except StaleEditError as exc:
            form.stale(exc, _wave_initial(exc.current))
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, "已保存。")
            return redirect("survey:wave", pk=wave.pk)
    return render(request, "survey/wave_form.html", {"form": form, "wave": wave})


@login_required
@require_POST
def wave_delete(request: HttpRequest, pk: int) -> HttpResponse:
    wave = _wave(request, pk, Action.DELETE)
    services.wave_delete(user=request.user, wave=wave)
    messages.success(request, f"已删除「{wave.title}」及其全部数据和结果。")
    return redirect("survey:waves")


def _run_param(request: HttpRequest) -> int | None:
    value = request.GET.get("run", "")
    return int(value) if value.isdigit() else None


@login_required
def wave_detail(request: HttpRequest, pk: int) -> HttpResponse:
    wave = _wave(request, pk)
    run = selectors.run_get(user=request.user, wave=wave, pk=_run_param(request))
    results = selectors.run_results(run) if run else None
    trend = selectors.trend(user=request.user, wave=wave)
    active = wave.runs.filter(status__in=["queued", "running"]).order_by("-pk").first()
    has_geometry = geo.has_geometry(wave.region)
    chart = _chart_data(wave, results, trend)
    from_below = selectors.reads_from_below_wave(user=request.user, wave=wave)
    own = selectors.own_cells(user=request.user, wave=wave, results=results) if from_below else []
    chart["own"] = [c.region.code for c in own]
    return render(
        request,
        "survey/wave_detail.html",
        {
            "wave": wave,
            "run": run,
            "results": results,
            "trend": trend,
            "active_run": active,
            "runs": wave.runs.order_by("-created_at", "-pk")[:10],
            "respondent_count": wave.respondents.count(),
            "margin_count": wave.margins.count(),
            "can_change": can(request.user, wave, Action.CHANGE),
            "can_delete": can(request.user, wave, Action.DELETE),
            "has_geometry": has_geometry,
            "chart": chart,
            "stale": run is not None and run.data_version != wave.data_version,
            "from_below": from_below,
            "own_cells": own,
        },
    )


def _pct2(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 2)


def _cell(e, method: str) -> dict:
    low, high = e.interval(method)
    return {
        "name": e.label,
        "code": e.category,
        "value": _pct2(e.estimate),
        "low": _pct2(low),
        "high": _pct2(high),
        "n": e.n,
        "flagged": e.flagged,
        "reason": e.flag_reason,
    }


def _chart_data(wave: Wave, results: selectors.Results | None, trend: selectors.Trend) -> dict:
    sub = results.subregions if results else None
    overall = results.overall_rate if results else None
    m = wave.ci_method
    return {
        "region": wave.region.name,
        "overall": _cell(overall, m) if overall else None,
        "subregions": [_cell(e, m) for e in (sub.rates if sub else [])],
        "breakdowns": [
            {"variable": b.variable, "label": b.label, "cells": [_cell(e, m) for e in b.rates]}
            for b in (results.demographic if results else [])
        ],
        "trend": [
            {
                "year": p.wave.year,
                "title": p.wave.title,
                "value": None if p.rate_pct is None else round(p.rate_pct, 2),
                "low": None if p.estimate is None else _pct2(p.estimate.interval(m)[0]),
                "high": None if p.estimate is None else _pct2(p.estimate.interval(m)[1]),
                "target": p.target.rate if p.target else None,
                "gap": None if p.gap is None else round(p.gap, 2),
            }
            for p in trend.points
        ],
        "targets": [{"year": t.year, "rate": t.rate, "label": t.display} for t in trend.targets],
        "geo_url": reverse("survey:geo", args=[wave.pk]) if geo.has_geometry(wave.region) else "",
    }


@login_required
def wave_geo(request: HttpRequest, pk: int) -> JsonResponse:
    wave = _wave(request, pk)
    data = geo.region_geojson(wave.region)
    if data is None:
        raise Http404("该区域没有地图边界数据")
    resp = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    resp["Cache-Control"] = "private, max-age=3600"
    return resp


@login_required
def results_export(request: HttpRequest, pk: int) -> HttpResponse:
    wave = _wave(request, pk)
    run = selectors.run_get(user=request.user, wave=wave, pk=_run_param(request))
    if run is None:
        raise Http404("没有估计结果")
    data = excel.results_workbook(
        wave=wave,
        results=selectors.run_results(run),
        trend=selectors.trend(user=request.user, wave=wave),
    )
    return xlsx_response(data, f"{wave.title} 估计结果.xlsx")


@login_required
def questionnaire_export(request: HttpRequest, pk: int) -> HttpResponse:
    wave = _wave(request, pk)
    tables = config.config_to_tables(wave.questionnaire, wave.scoring)
    return xlsx_response(excel.questionnaire_workbook(tables), f"{wave.title} 问卷与计分规则.xlsx")


@login_required
def questionnaire_template(request: HttpRequest) -> HttpResponse:
    """The platform's standard questionnaire and scoring rules, to edit and import."""
    tables = config.config_to_tables(adapter.default_questionnaire(), adapter.default_scoring())
    return xlsx_response(excel.questionnaire_workbook(tables), "标准问卷与计分规则.xlsx")


# --- data -------------------------------------------------------------------------------
@login_required
def data_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Import microdata: small files at once, large ones (KEPU_SURVEY_IMPORT_JOB_BYTES) as a job."""
    wave = _wave(request, pk, Action.CHANGE)
    form = DataImportForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["datafile"]
        if upload.size > settings.KEPU_SURVEY_IMPORT_JOB_BYTES:
            return _data_import_job(request, wave, upload)
        try:
            summary = services.respondents_import(
                user=request.user, wave=wave, name=upload.name, data=upload.read()
            )
        except SurveyImportError as exc:
            errors = exc.errors
        else:
            mode = "作答 (已按计分规则计分)" if summary.mode == "answers" else "得分"
            messages.success(
                request,
                f"已导入 {summary.rows} 名受访者的{mode}, 覆盖 {summary.subregions} 个下级区域。",
            )
            return redirect("survey:wave", pk=wave.pk)
    return render(
        request,
        "survey/data_import.html",
        {"wave": wave, "form": form, "errors": errors, "item_ids": wave.item_ids},
    )


def _data_import_job(request: HttpRequest, wave: Wave, upload) -> HttpResponse:
    """Save the upload to storage and import it in the background; show the job page."""
    suffix = Path(upload.name).suffix.lower()[:10]
    path = default_storage.save(f"job-uploads/survey-{uuid.uuid4().hex}{suffix}", upload)
    try:
        job = jobs.job_start(
            user=request.user,
            kind="survey_import",
            organisation=jobs.job_organisation(request.user),
            func="kepu.survey.tasks.respondents_import_job",
            params={"wave": wave.pk, "path": path, "name": upload.name},
            title=f"导入受访者数据: {wave.title}",
        )
    except Exception:
        if default_storage.exists(path):
            default_storage.delete(path)
        raise
    messages.info(request, "文件较大, 已转为后台任务导入; 完成前请勿重复上传。")
    return redirect("jobs:detail", pk=job.pk)


@login_required
def data_template(request: HttpRequest, pk: int) -> HttpResponse:
    wave = _wave(request, pk, Action.CHANGE)
    header = [*services.DATA_COLUMNS_ZH.values(), *wave.item_ids]
    # Item ids come from the office's questionnaire: written so no spreadsheet evaluates them.
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([csv_safe(h) for h in header])
    for row in services.template_example_rows(wave):
        writer.writerow([csv_safe(v) for v in row])
    body = buf.getvalue()
    resp = HttpResponse(("\ufeff" + body).encode("utf-8"), content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(wave.title + ' 模板.csv')}"
    return resp


@login_required
def margins(request: HttpRequest, pk: int) -> HttpResponse:
    wave = _wave(request, pk)
    if selectors.reads_from_below_wave(user=request.user, wave=wave):
        raise PermissionDenied("本调查由上级办公室负责, 您可以查看结果, 不能查看总体边际。")
    can_change = can(request.user, wave, Action.CHANGE)
    import_form = MarginImportForm(prefix="imp")
    entry_form = MarginEntryForm(prefix="ent")
    errors: list[str] = []
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied("您只能查看该调查, 不能修改。")
        action = request.POST.get("action")
        try:
            if action == "import":
                import_form = MarginImportForm(request.POST, request.FILES, prefix="imp")
                if import_form.is_valid():
                    upload = import_form.cleaned_data["marginfile"]
                    created = services.margins_import(
                        user=request.user,
                        wave=wave,
                        name=upload.name,
                        data=upload.read(),
                        variable=import_form.cleaned_data["variable"],
                    )
                    messages.success(request, f"已导入 {len(created)} 条总体边际。")
                    return redirect("survey:margins", pk=wave.pk)
            elif action == "entry":
                entry_form = MarginEntryForm(request.POST, prefix="ent")
                if entry_form.is_valid():
                    d = entry_form.cleaned_data
                    created = services.margins_set(
                        user=request.user, wave=wave, variable=d["variable"], rows=d["lines"]
                    )
                    messages.success(request, f"已保存 {len(created)} 条总体边际。")
                    return redirect("survey:margins", pk=wave.pk)
            elif action == "clear":
                services.margins_clear(
                    user=request.user, wave=wave, variable=request.POST.get("variable", "")
                )
                messages.success(request, "已删除总体边际。")
                return redirect("survey:margins", pk=wave.pk)
        except SurveyImportError as exc:
            errors = exc.errors
    grouped = selectors.margins_by_variable(wave)
    sample = selectors.sample_categories(wave)
    labels = _category_labels(wave)
    rows = []
    for variable, items in grouped.items():
        in_sample = sample.get(variable, {})
        rows.append(
            {
                "variable": variable,
                "label": BREAKDOWN_LABELS.get(variable, variable),
                "total": sum(m.population for m in items),
                "items": [
                    (
                        m,
                        labels.get(variable, {}).get(m.category, m.category),
                        in_sample.get(m.category, 0),
                    )
                    for m in items
                ],
                "missing": [
                    labels.get(variable, {}).get(c, c)
                    for c in in_sample
                    if c and c not in {m.category for m in items}
                ],
            }
        )
    return render(
        request,
        "survey/margins.html",
        {
            "wave": wave,
            "rows": rows,
            "import_form": import_form,
            "entry_form": entry_form,
            "errors": errors,
            "can_change": can_change,
        },
    )


def _category_labels(wave: Wave) -> dict[str, dict[str, str]]:
    from kepu.survey.tasks import category_labels

    return category_labels(wave.region)


# --- targets ----------------------------------------------------------------------------
@login_required
def targets(request: HttpRequest, pk: int) -> HttpResponse:
    wave = _wave(request, pk, Action.CHANGE)
    plan_targets = (
        Target.objects.restrict(request.user, Action.VIEW)
        .filter(unit="%")
        .select_related("plan")
        .order_by("plan__title", "pk")
    )
    form = TargetForm(request.POST or None, targets=plan_targets)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.wave_target_add(
                user=request.user,
                wave=wave,
                year=d["year"],
                rate=d["rate"],
                label=d["label"],
                plan_target=d["plan_target"],
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, "已添加目标。")
            return redirect("survey:targets", pk=wave.pk)
    return render(
        request,
        "survey/targets.html",
        {"wave": wave, "form": form, "targets": wave.targets.select_related("plan_target__plan")},
    )


@login_required
@require_POST
def target_delete(request: HttpRequest, pk: int, target_pk: int) -> HttpResponse:
    wave = _wave(request, pk, Action.CHANGE)
    target = get_object_or_404(
        WaveTarget.objects.restrict(request.user, Action.CHANGE), wave=wave, pk=target_pk
    )
    services.wave_target_delete(user=request.user, target=target)
    messages.success(request, "已删除目标。")
    return redirect("survey:targets", pk=wave.pk)


# --- estimation -------------------------------------------------------------------------
@login_required
@require_POST
def run_start(request: HttpRequest, pk: int) -> HttpResponse:
    wave = _wave(request, pk, Action.CHANGE)
    # A run whose worker died must not block a new one: give it up first.
    jobs.reap_stale_quietly(model=EstimationRun)
    try:
        run = services.run_start(user=request.user, wave=wave, rake=request.POST.get("rake") != "0")
    except ValidationError as exc:
        for m in exc.messages:
            messages.error(request, m)
        return redirect("survey:wave", pk=wave.pk)
    if run.status == "done":
        messages.success(request, "估计完成。")
    return redirect(f"{reverse('survey:wave', args=[wave.pk])}#run-{run.pk}")


@login_required
def run_status(request: HttpRequest, pk: int, run_pk: int) -> HttpResponse:
    wave = _wave(request, pk)
    jobs.reap_stale_quietly(model=EstimationRun)
    run = get_object_or_404(
        EstimationRun.objects.restrict(request.user, Action.VIEW), wave=wave, pk=run_pk
    )
    resp = render(
        request,
        "survey/_run_status.html",
        {
            "wave": wave,
            "active_run": run,
            "can_change": can(request.user, wave, Action.CHANGE),
        },
    )
    if not run.is_active and request.htmx:  # type: ignore[attr-defined]  # set by HtmxMiddleware
        # finished while the page was polling: reload it to show the results
        resp["HX-Refresh"] = "true"
    return resp


@login_required
@require_POST
def run_cancel(request: HttpRequest, pk: int, run_pk: int) -> HttpResponse:
    wave = _wave(request, pk, Action.CHANGE)
    run = get_object_or_404(
        EstimationRun.objects.restrict(request.user, Action.VIEW), wave=wave, pk=run_pk
    )
    if jobs.work_cancel(user=request.user, obj=run):
        messages.success(request, f"已取消估计任务 #{run.pk}。")
    else:
        messages.info(request, "该估计任务已经结束, 无需取消。")
    return redirect("survey:wave", pk=wave.pk)
