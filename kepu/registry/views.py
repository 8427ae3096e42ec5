"""Registry pages: thin views over services and selectors."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from kepu.core.files import SPREADSHEET, xlsx_response
from kepu.core.forms import form_errors
from kepu.core.importing import DataImportError
from kepu.core.pagination import paginate
from kepu.orgs.models import Organisation, OrgKind
from kepu.orgs.scoping import Action, can
from kepu.orgs.selectors import office_choices
from kepu.orgs.services import split_names
from kepu.registry import selectors, services
from kepu.registry.forms import (
    BaseForm,
    CertifyForm,
    ExpertForm,
    MuseumForm,
    MuseumReportForm,
    ServiceDeleteForm,
    ServiceEditForm,
    ServiceForm,
    SheetForm,
    TeamForm,
    VolunteerForm,
    VolunteerImportForm,
)
from kepu.registry.models import (
    MUSEUM_FIGURES,
    BaseLevel,
    BaseReview,
    BaseStatus,
    EducationBase,
    Expert,
    Museum,
    MuseumReport,
    ReportStatus,
    ReviewStatus,
    ScoreSheet,
    ServiceRecord,
    TeamKind,
    Volunteer,
    VolunteerTeam,
)
from kepu.registry.scoring import DEFAULT_SHEET, validate_sheet

# Any organisation but an office may run a base (a museum, a hospital, a farm, a school …).
APPLICANT_KINDS = [k for k in OrgKind.values if k not in (OrgKind.ASSOCIATION, OrgKind.OFFICE)]


def _get(request: HttpRequest, model: Any, pk: int, action: Action = Action.VIEW) -> Any:
    """The object if visible (else 404) and allowed ``action`` (else 403)."""
    obj = get_object_or_404(model.objects.restrict(request.user, Action.VIEW), pk=pk)
    if action != Action.VIEW and not can(request.user, obj, action):
        raise PermissionDenied("您无权进行此操作。")
    return obj


# --- bases --------------------------------------------------------------------------------
@login_required
def base_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    level = request.GET.get("level", "")
    q = request.GET.get("q", "").strip()[:100]
    qs = selectors.base_list(
        user=request.user,
        status=status if status in BaseStatus.values else "",
        level=level if level in BaseLevel.values else "",
        q=q,
    )
    return render(
        request,
        "registry/bases.html",
        {
            "page": paginate(request, qs),
            "statuses": BaseStatus.choices,
            "levels": BaseLevel.choices,
            "status": status,
            "level": level,
            "q": q,
        },
    )


def _base_fields(d: dict[str, Any]) -> services.BaseFields:
    return services.BaseFields(
        **{k: d[k] for k in services.BaseFields.__dataclass_fields__ if k in d}
    )


@login_required
def base_apply(request: HttpRequest) -> HttpResponse:
    orgs = list(
        Organisation.objects.restrict(request.user, Action.ADD)
        .filter(kind__in=APPLICANT_KINDS, is_active=True)
        .order_by("name")
        .values_list("pk", "name")[:500]
    )
    if not orgs:
        raise PermissionDenied("您所在的单位不能申报科普教育基地。")
    form = BaseForm(request.POST or None, organisations=orgs)
    if request.method == "POST" and form.is_valid():
        organisation = get_object_or_404(
            Organisation.objects.restrict(request.user, Action.ADD),
            pk=form.cleaned_data["organisation"],
        )
        try:
            base = services.base_apply(
                user=request.user, organisation=organisation, fields=_base_fields(form.cleaned_data)
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, f"已提交「{base.name}」的申报。")
            return redirect("registry:base", pk=base.pk)
    return render(request, "registry/base_form.html", {"form": form, "title": "申报科普教育基地"})


@login_required
def base_detail(request: HttpRequest, pk: int) -> HttpResponse:
    base = _get(request, EducationBase, pk)
    office = selectors.is_office_over(request.user, base.region)
    return render(
        request,
        "registry/base_detail.html",
        {
            "base": base,
            "reviews": base.reviews.select_related("sheet").order_by("-year"),
            "can_change": can(request.user, base, Action.CHANGE),
            "is_office": office,
            "can_endorse": office and base.status == BaseStatus.APPLYING,
            "can_certify": office and base.status in (BaseStatus.APPLYING, BaseStatus.ENDORSED),
            "certify_form": CertifyForm(
                initial={
                    "valid_from": timezone.localdate().year,
                    "valid_to": timezone.localdate().year + 4,
                }
            ),
            "sheets": selectors.sheets_for(user=request.user, base=base)[:10],
            "year": timezone.localdate().year,
        },
    )


@login_required
def base_edit(request: HttpRequest, pk: int) -> HttpResponse:
    base = _get(request, EducationBase, pk, Action.CHANGE)
    initial = {k: getattr(base, k) for k in services.BaseFields.__dataclass_fields__}
    initial["region"] = base.region.code
    initial["version"] = base.version
    form = BaseForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.base_update(
                user=request.user,
                base=base,
                fields=_base_fields(form.cleaned_data),
                version=form.cleaned_data.get("version"),
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("registry:base", pk=base.pk)
    return render(
        request,
        "registry/base_form.html",
        {"form": form, "title": f"编辑: {base.name}", "base": base},
    )


@login_required
@require_POST
def base_endorse(request: HttpRequest, pk: int) -> HttpResponse:
    base = _get(request, EducationBase, pk)
    try:
        services.base_endorse(user=request.user, base=base)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "已推荐。")
    return redirect("registry:base", pk=pk)


@login_required
@require_POST
def base_certify(request: HttpRequest, pk: int) -> HttpResponse:
    base = _get(request, EducationBase, pk)
    form = CertifyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写有效的批次和有效期。")
        return redirect("registry:base", pk=pk)
    try:
        services.base_certify(
            user=request.user,
            base=base,
            approve=request.POST.get("decision") == "approve",
            batch=form.cleaned_data["batch"] or "",
            valid_from=form.cleaned_data["valid_from"],
            valid_to=form.cleaned_data["valid_to"],
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "已作出认定决定。")
    return redirect("registry:base", pk=pk)


# --- annual reviews -----------------------------------------------------------------------
@login_required
@require_POST
def review_open(request: HttpRequest, pk: int) -> HttpResponse:
    base = _get(request, EducationBase, pk, Action.CHANGE)
    sheet_id = request.POST.get("sheet", "")
    sheet = get_object_or_404(
        selectors.sheets_for(user=request.user, base=base), pk=sheet_id if sheet_id.isdigit() else 0
    )
    try:
        review = services.review_open(user=request.user, base=base, sheet=sheet, year=sheet.year)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("registry:base", pk=pk)
    return redirect("registry:review", pk=review.pk)


def _number(text: str) -> float | None:
    try:
        value = float(text.replace(",", "").strip())
    except (ValueError, AttributeError):
        return None
    return int(value) if value.is_integer() else value


@login_required
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    review = get_object_or_404(
        BaseReview.objects.restrict(request.user, Action.VIEW).select_related(
            "base__region", "sheet"
        ),
        pk=pk,
    )
    can_fill = can(request.user, review, Action.CHANGE) and review.status == ReviewStatus.DRAFT
    office = selectors.is_office_over(request.user, review.base.region)
    items = review.sheet.data["items"]
    metrics = [i for i in items if i["metric"]]
    manual = [i for i in items if not i["metric"]]
    errors: list[str] = []
    if request.method == "POST" and request.POST.get("form") == "self" and can_fill:
        figures: dict[str, Any] = {}
        for item in metrics:
            if item["metric"] == "campaign_activities":
                continue
            raw = request.POST.get(f"m_{item['metric']}", "")
            value = _number(raw)
            if raw.strip() and value is None:
                errors.append(f"「{item['name']}」必须是数字。")
            figures[item["metric"]] = value
        if not errors:
            try:
                services.review_save(
                    user=request.user,
                    review=review,
                    figures=figures,
                    summary=request.POST.get("summary", "")[:5000],
                    evidence_links=request.POST.get("evidence_links", "")[:2000],
                    version=int(request.POST.get("version", "0") or 0),
                    submit="submit" in request.POST,
                )
            except ValidationError as exc:
                errors = exc.messages
            else:
                messages.success(
                    request, "已提交自评。" if "submit" in request.POST else "已保存。"
                )
                return redirect("registry:review", pk=review.pk)
    if request.method == "POST" and request.POST.get("form") == "score":
        scores = {i["code"]: request.POST.get(f"s_{i['code']}", "") for i in manual}
        try:
            services.review_score(user=request.user, review=review, reviewer_scores=scores)
        except ValidationError as exc:
            errors = exc.messages
        else:
            review.refresh_from_db()
            messages.success(request, f"已评分: {review.total} 分, {review.grade}。")
            return redirect("registry:review", pk=review.pk)
    return render(
        request,
        "registry/review.html",
        {
            "review": review,
            "base": review.base,
            "metrics": [{**i, "value": review.figures.get(i["metric"])} for i in metrics],
            "manual": [{**i, "value": review.reviewer_scores.get(i["code"], "")} for i in manual],
            "can_fill": can_fill,
            "can_score": office and review.status == ReviewStatus.SUBMITTED,
            "errors": errors,
        },
    )


# --- score sheets -------------------------------------------------------------------------
@login_required
def sheet_list(request: HttpRequest) -> HttpResponse:
    owners = office_choices(user=request.user)
    form = SheetForm(
        request.POST or None, request.FILES or None, initial={"year": timezone.localdate().year}
    )
    errors: list[str] = []
    if request.method == "POST":
        if not owners:
            raise PermissionDenied("只有办公室可以制定评分表。")
        if form.is_valid():
            data: dict[str, Any] = DEFAULT_SHEET
            upload = form.cleaned_data.get("file")
            try:
                if upload is not None:
                    if (upload.size or 0) > SPREADSHEET.max_bytes:
                        raise DataImportError("文件过大。")
                    data = services.sheet_from_xlsx(upload.name or "", upload.read())
                sheet = services.sheet_create(
                    user=request.user,
                    year=form.cleaned_data["year"],
                    data=data,
                    warn_after=form.cleaned_data["warn_after"],
                    revoke_after=form.cleaned_data["revoke_after"],
                )
            except DataImportError as exc:
                errors = exc.errors
            except ValidationError as exc:
                errors = exc.messages
            else:
                messages.success(request, f"已创建评分表「{sheet}」。")
                return redirect("registry:sheet", pk=sheet.pk)
    return render(
        request,
        "registry/sheets.html",
        {
            "page": paginate(request, selectors.sheet_list(user=request.user)),
            "form": form,
            "can_create": bool(owners),
            "errors": errors,
        },
    )


@login_required
def sheet_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sheet = _get(request, ScoreSheet, pk)
    return render(
        request, "registry/sheet_detail.html", {"sheet": sheet, "metrics": services.METRICS}
    )


@login_required
def sheet_export(request: HttpRequest, pk: int) -> HttpResponse:
    sheet = _get(request, ScoreSheet, pk)
    return xlsx_response(services.sheet_xlsx(sheet.data), f"{sheet.year}年{sheet.name}.xlsx")


@login_required
def sheet_template(request: HttpRequest) -> HttpResponse:
    return xlsx_response(services.sheet_xlsx(validate_sheet(DEFAULT_SHEET)), "评分表模板.xlsx")


# --- experts ------------------------------------------------------------------------------
@login_required
def expert_list(request: HttpRequest) -> HttpResponse:
    field = request.GET.get("field", "").strip()[:20]
    region = request.GET.get("region", "").strip()[:12]
    available = request.GET.get("available") == "1"
    qs = selectors.expert_search(
        user=request.user, field=field, region_code=region, available=available
    )
    return render(
        request,
        "registry/experts.html",
        {
            "page": paginate(request, qs),
            "field": field,
            "region": region,
            "available": available,
            "can_add": bool(office_choices(user=request.user)),
        },
    )


def _expert_fields(d: dict[str, Any]) -> services.ExpertFields:
    return services.ExpertFields(
        name=d["name"],
        region=d["region"],
        fields=split_names(d["fields_text"]),
        title=d.get("title", ""),
        employer=d.get("employer", ""),
        available=d.get("available", False),
        bio=d.get("bio", ""),
        phone=d.get("phone", ""),
    )


@login_required
def expert_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    expert = _get(request, Expert, pk, Action.CHANGE) if pk else None
    if expert is None and not office_choices(user=request.user):
        raise PermissionDenied("只有办公室可以管理专家库。")
    initial = {}
    if expert is not None:
        initial = {
            k: getattr(expert, k)
            for k in ("name", "title", "employer", "available", "bio", "phone", "version")
        }
        initial["fields_text"] = "、".join(expert.fields)
        initial["region"] = expert.region.code
    form = ExpertForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            expert = services.expert_save(
                user=request.user,
                fields=_expert_fields(form.cleaned_data),
                expert=expert,
                version=form.cleaned_data.get("version"),
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("registry:experts")
    return render(
        request,
        "registry/expert_form.html",
        {"form": form, "title": "编辑专家" if expert else "添加专家"},
    )


# --- science museums ----------------------------------------------------------------------
def _year(request: HttpRequest) -> int:
    text = request.GET.get("year", "")
    this = timezone.localdate().year
    return int(text) if text.isdigit() and 2000 <= int(text) <= this else this


@login_required
def museum_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:100]
    region = request.GET.get("region", "").strip()[:12]
    qs = selectors.museum_list(user=request.user, q=q, region_code=region)
    return render(
        request,
        "registry/museums.html",
        {
            "page": paginate(request, qs),
            "q": q,
            "region": region,
            "year": timezone.localdate().year,
        },
    )


def _museum_fields(d: dict[str, Any]) -> services.MuseumFields:
    return services.MuseumFields(
        **{k: d[k] for k in services.MuseumFields.__dataclass_fields__ if k in d}
    )


@login_required
def museum_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    museum = _get(request, Museum, pk, Action.CHANGE) if pk else None
    orgs = None
    initial: dict[str, Any] = {}
    if museum is None:
        orgs = list(
            Organisation.objects.restrict(request.user, Action.ADD)
            .filter(kind__in=APPLICANT_KINDS, is_active=True)
            .order_by("name")
            .values_list("pk", "name")[:500]
        )
        if not orgs:
            raise PermissionDenied("您所在的单位不能登记科技馆。")
    else:
        initial = {k: getattr(museum, k) for k in services.MuseumFields.__dataclass_fields__}
        initial["region"], initial["version"] = museum.region.code, museum.version
    form = MuseumForm(request.POST or None, initial=initial, organisations=orgs)
    if request.method == "POST" and form.is_valid():
        organisation = None
        if museum is None:
            organisation = get_object_or_404(
                Organisation.objects.restrict(request.user, Action.ADD),
                pk=form.cleaned_data["organisation"],
            )
        try:
            museum = services.museum_save(
                user=request.user,
                fields=_museum_fields(form.cleaned_data),
                organisation=organisation,
                museum=museum,
                version=form.cleaned_data.get("version"),
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("registry:museum", pk=museum.pk)
    return render(
        request,
        "registry/museum_form.html",
        {"form": form, "title": f"编辑: {museum.name}" if museum else "登记科技馆"},
    )


@login_required
def museum_detail(request: HttpRequest, pk: int) -> HttpResponse:
    museum = _get(request, Museum, pk)
    return render(
        request,
        "registry/museum_detail.html",
        {
            "museum": museum,
            "reports": museum.reports.order_by("-year")[:20],
            "can_change": can(request.user, museum, Action.CHANGE),
            "year": timezone.localdate().year,
        },
    )


@login_required
@require_POST
def museum_report_open(request: HttpRequest, pk: int) -> HttpResponse:
    museum = _get(request, Museum, pk, Action.CHANGE)
    text = request.POST.get("year", "")
    try:
        report = services.museum_report_open(
            user=request.user, museum=museum, year=int(text) if text.isdigit() else 0
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("registry:museum", pk=pk)
    return redirect("registry:museum_report", pk=report.pk)


@login_required
def museum_report(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_object_or_404(
        MuseumReport.objects.restrict(request.user, Action.VIEW).select_related("museum__region"),
        pk=pk,
    )
    museum = report.museum
    editable = report.status in (ReportStatus.DRAFT, ReportStatus.RETURNED)
    can_fill = editable and can(request.user, report, Action.CHANGE)
    office = selectors.is_office_over(request.user, museum.region)
    initial = {k: getattr(report, k) for k, _, _ in MUSEUM_FIGURES}
    initial.update(summary=report.summary, subsidy_use=report.subsidy_use, version=report.version)
    form = MuseumReportForm(
        request.POST if request.POST.get("form") == "report" else None, initial=initial
    )
    if not can_fill:
        for f in form.fields.values():
            f.disabled = True
    errors: list[str] = []
    if request.method == "POST" and request.POST.get("form") == "report":
        if not can_fill:
            raise PermissionDenied("您不能修改这份年度报告。")
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.museum_report_save(
                    user=request.user,
                    report=report,
                    figures={k: d.get(k) for k, _, _ in MUSEUM_FIGURES},
                    summary=d.get("summary") or "",
                    subsidy_use=d.get("subsidy_use") or "",
                    version=d.get("version"),
                    submit="submit" in request.POST,
                )
            except ValidationError as exc:
                form_errors(form, exc)
            else:
                messages.success(
                    request, "已提交年度报告。" if "submit" in request.POST else "已保存。"
                )
                return redirect("registry:museum_report", pk=report.pk)
    if request.method == "POST" and request.POST.get("form") == "review":
        try:
            services.museum_report_review(
                user=request.user,
                report=report,
                accept=request.POST.get("decision") == "accept",
                comment=request.POST.get("comment", "")[:500],
            )
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, "已审核。")
            return redirect("registry:museum_report", pk=report.pk)
    return render(
        request,
        "registry/museum_report.html",
        {
            "report": report,
            "museum": museum,
            "form": form,
            "can_fill": can_fill,
            "can_review": office and report.status == ReportStatus.SUBMITTED,
            "errors": errors,
        },
    )


def _region_param(request: HttpRequest) -> Any:
    code = request.GET.get("region", "").strip()[:12]
    if not code:
        return None
    from kepu.regions.models import Region

    return Region.objects.filter(code=code).first()


@login_required
def museum_summary(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    region = _region_param(request)
    data = selectors.museum_summary(user=request.user, year=year, region=region)
    columns = [(k, label) for k, label, _ in MUSEUM_FIGURES if k in selectors.MUSEUM_SUM_FIELDS]
    return render(
        request,
        "registry/museum_summary.html",
        {
            "year": year,
            "summary": data,
            "columns": columns,
            "rows": [(r, [r[k] for k, _ in columns]) for r in data["rows"]],
            "total": [data["total"].get(k, 0) for k, _ in columns],
        },
    )


@login_required
def museum_export(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    reports = selectors.museum_reports(user=request.user, year=year)[:20000]
    return xlsx_response(
        services.museum_reports_xlsx(title=f"{year}年度科技馆年度报告汇总", reports=reports),
        f"{year}年度科技馆年度报告.xlsx",
    )


# --- volunteer teams and volunteers -------------------------------------------------------
@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:100]
    kind = request.GET.get("kind", "")
    kind = kind if kind in TeamKind.values else ""
    region = request.GET.get("region", "").strip()[:12]
    year = _year(request)
    page = paginate(
        request,
        selectors.team_list(user=request.user, q=q, kind=kind, region_code=region),
        max_pages=TEAM_LIST_PAGES,
    )
    totals = selectors.team_year_totals(user=request.user, year=year, teams=list(page))
    return render(
        request,
        "registry/teams.html",
        {
            "page": page,
            "rows": [(t, totals[t.pk]) for t in page],
            "q": q,
            "kind": kind,
            "kinds": TeamKind.choices,
            "region": region,
            "year": year,
            "can_add": bool(office_choices(user=request.user)),
        },
    )


@login_required
def team_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    team = _get(request, VolunteerTeam, pk, Action.CHANGE) if pk else None
    if team is None and not office_choices(user=request.user):
        raise PermissionDenied("只有办公室可以登记志愿服务队。")
    initial: dict[str, Any] = {}
    if team is not None:
        initial = {
            k: getattr(team, k)
            for k in ("name", "kind", "leader", "founded_on", "description", "active", "version")
        }
        initial["region"], initial["host"] = team.region.code, team.host_id
    form = TeamForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        host = d.get("host")
        try:
            team = services.team_save(
                user=request.user,
                team=team,
                version=d.get("version"),
                fields=services.TeamFields(
                    name=d["name"],
                    kind=d["kind"],
                    region=d["region"],
                    host=host,
                    leader=d.get("leader", ""),
                    founded_on=d.get("founded_on"),
                    description=d.get("description", ""),
                    active=d.get("active", False),
                ),
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("registry:team", pk=team.pk)
    return render(
        request,
        "registry/museum_form.html",
        {"form": form, "title": f"编辑: {team.name}" if team else "登记志愿服务队"},
    )


@login_required
def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_object_or_404(
        VolunteerTeam.objects.restrict(request.user, Action.VIEW).select_related(
            "region", "office", "host"
        ),
        pk=pk,
    )
    year = _year(request)
    personal = selectors.personal_access(request.user, team)
    page = paginate(request, selectors.volunteer_search(user=request.user, team=team))
    return render(
        request,
        "registry/team_detail.html",
        {
            "team": team,
            "page": page,
            "personal": personal,
            "can_change": personal and can(request.user, team, Action.CHANGE),
            "year": year,
            "totals": selectors.team_year_totals(user=request.user, year=year, teams=[team])[
                team.pk
            ],
        },
    )


def _personal_team(request: HttpRequest, pk: int, action: Action) -> VolunteerTeam:
    team = _get(request, VolunteerTeam, pk, action)
    if not selectors.personal_access(request.user, team):
        raise PermissionDenied("志愿者个人信息只有服务队的管理办公室可以查看和维护。")
    return team


def _volunteer(request: HttpRequest, pk: int, action: Action = Action.VIEW) -> Volunteer:
    volunteer = get_object_or_404(
        Volunteer.objects.restrict(request.user, Action.VIEW).select_related(
            "team__office", "team__region"
        ),
        pk=pk,
    )
    if not selectors.personal_access(request.user, volunteer.team):
        raise PermissionDenied("志愿者个人信息只有服务队的管理办公室可以查看。")
    if action != Action.VIEW and not can(request.user, volunteer, action):
        raise PermissionDenied("您无权进行此操作。")
    return volunteer


@login_required
def volunteer_form(
    request: HttpRequest, team_pk: int | None = None, pk: int | None = None
) -> HttpResponse:
    volunteer = _volunteer(request, pk, Action.CHANGE) if pk else None
    team = volunteer.team if volunteer else _personal_team(request, team_pk or 0, Action.CHANGE)
    initial: dict[str, Any] = {}
    if volunteer is not None:
        initial = {
            k: getattr(volunteer, k)
            for k in ("name", "phone", "skills", "joined_on", "active", "version")
        }
    form = VolunteerForm(request.POST or None, initial=initial)
    if volunteer is not None:
        form.fields["id_number"].help_text = f"已登记: {volunteer.id_masked} (留空则不修改)"
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            volunteer = services.volunteer_save(
                user=request.user,
                team=team,
                volunteer=volunteer,
                version=d.get("version"),
                fields=services.VolunteerFields(
                    name=d["name"],
                    id_number=d.get("id_number", ""),
                    phone=d.get("phone", ""),
                    skills=d.get("skills", ""),
                    joined_on=d.get("joined_on"),
                    active=d.get("active", False),
                ),
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("registry:volunteer", pk=volunteer.pk)
    return render(
        request,
        "registry/museum_form.html",
        {
            "form": form,
            "title": f"编辑志愿者: {volunteer.name}" if volunteer else f"登记志愿者: {team.name}",
        },
    )


@login_required
def volunteer_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:50]
    qs = selectors.volunteer_search(user=request.user, q=q, personal_only=True)
    page = paginate(request, qs, max_pages=VOLUNTEER_LIST_PAGES)
    return render(request, "registry/volunteers.html", {"page": page, "q": q})


# Across teams the list goes newest first along the primary key; 10 pages (500
# volunteers) keep every page an index walk of bounded length at 5.2 million (a city
# office's volunteers are one in twenty of the rows walked).
VOLUNTEER_LIST_PAGES = 10
# 110,000 teams nationally: 20 pages (1,000 teams); filters by region, kind and name
# narrow it.
TEAM_LIST_PAGES = 20


@login_required
def volunteer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = _volunteer(request, pk)
    year = _year(request)
    return render(
        request,
        "registry/volunteer_detail.html",
        {
            "volunteer": volunteer,
            "year": year,
            "records": selectors.service_records(user=request.user, volunteer=volunteer, year=year)[
                :500
            ],
            "years": selectors.volunteer_year_hours(user=request.user, volunteer=volunteer),
            "can_change": can(request.user, volunteer, Action.CHANGE),
            "service_form": ServiceForm(initial={"served_on": timezone.localdate()}),
        },
    )


@login_required
@require_POST
def service_add(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = _volunteer(request, pk, Action.CHANGE)
    form = ServiceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写有效的服务日期和时长 (0—24 小时)。")
        return redirect("registry:volunteer", pk=pk)
    d = form.cleaned_data
    try:
        services.service_add(
            user=request.user,
            volunteer=volunteer,
            served_on=d["served_on"],
            hours=d["hours"],
            description=d.get("description", ""),
            activity_id=d.get("activity"),
            task_id=d.get("task"),
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"已记录服务时长 {d['hours']:g} 小时。")
    return redirect("registry:volunteer", pk=pk)


def _service_record(request: HttpRequest, pk: int) -> ServiceRecord:
    """A service record the team's office may change: 404 outside the user's sight, 403
    for those who see the team but not its volunteers' personal data."""
    record = get_object_or_404(
        ServiceRecord.objects.restrict(request.user, Action.VIEW).select_related(
            "team__office", "team__region", "volunteer"
        ),
        pk=pk,
    )
    if not selectors.personal_access(request.user, record.team) or not can(
        request.user, record, Action.CHANGE
    ):
        raise PermissionDenied("志愿服务记录只有服务队的管理办公室可以修改。")
    return record


@login_required
def service_edit(request: HttpRequest, pk: int) -> HttpResponse:
    record = _service_record(request, pk)
    initial = {
        "served_on": record.served_on,
        "hours": record.hours,
        "activity": record.activity_id,
        "task": record.task_id,
        "description": record.description,
        "version": record.version,
    }
    form = ServiceEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.service_update(
                user=request.user,
                record=record,
                served_on=d["served_on"],
                hours=d["hours"],
                description=d.get("description", ""),
                activity_id=d.get("activity"),
                task_id=d.get("task"),
                version=d.get("version"),
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, "已修改服务记录。")
            return redirect(
                f"{reverse('registry:volunteer', args=[record.volunteer_id])}"
                f"?year={record.served_on.year}"
            )
    return render(
        request,
        "registry/service_edit.html",
        {
            "form": form,
            "record": record,
            "delete_form": ServiceDeleteForm(initial={"version": record.version}),
            "title": f"修改服务记录: {record.served_on:%Y-%m-%d}",
        },
    )


@login_required
@require_POST
def service_delete(request: HttpRequest, pk: int) -> HttpResponse:
    record = _service_record(request, pk)
    form = ServiceDeleteForm(request.POST)
    back = reverse("registry:volunteer", args=[record.volunteer_id])
    if not form.is_valid():
        messages.error(request, "请填写删除原因 (不超过 200 字)。")
        return redirect("registry:service_edit", pk=pk)
    try:
        services.service_delete(
            user=request.user,
            record=record,
            reason=form.cleaned_data["reason"],
            version=form.cleaned_data.get("version"),
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("registry:service_edit", pk=pk)
    messages.success(request, "已删除服务记录。")
    return redirect(f"{back}?year={record.served_on.year}")


@login_required
def volunteer_certificate(request: HttpRequest, pk: int) -> HttpResponse:
    from kepu.progress.documents import docx_response

    volunteer = _volunteer(request, pk)
    year = _year(request)
    records = list(selectors.service_records(user=request.user, volunteer=volunteer, year=year))
    data = services.certificate_docx(volunteer=volunteer, year=year, records=records)
    return docx_response(data, f"{volunteer.name}{year}年科技志愿服务时长证明.docx")


@login_required
def team_import(request: HttpRequest, pk: int) -> HttpResponse:
    team = _personal_team(request, pk, Action.CHANGE)
    form = VolunteerImportForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if (upload.size or 0) > VOLUNTEER_IMPORT_JOB_BYTES():
            return _volunteer_import_job(request, team, upload)
        try:
            n = services.volunteers_import(
                user=request.user, team=team, name=upload.name or "", data=upload.read()
            )
        except DataImportError as exc:
            errors = exc.errors
        else:
            messages.success(request, f"已导入 {n} 名科技志愿者。")
            return redirect("registry:team", pk=team.pk)
    return render(
        request,
        "registry/team_import.html",
        {"team": team, "form": form, "errors": errors},
    )


def VOLUNTEER_IMPORT_JOB_BYTES() -> int:
    from django.conf import settings

    return int(getattr(settings, "KEPU_VOLUNTEER_IMPORT_JOB_BYTES", 512 * 1024))


def _volunteer_import_job(request: HttpRequest, team: VolunteerTeam, upload: Any) -> HttpResponse:
    """Save a large upload to storage and import it in the background; show the job page."""
    import uuid
    from pathlib import Path

    from django.core.files.storage import default_storage

    from kepu.core.jobs import job_organisation, job_start

    suffix = Path(upload.name or "").suffix.lower()[:10]
    path = default_storage.save(f"job-uploads/volunteers-{uuid.uuid4().hex}{suffix}", upload)
    try:
        job = job_start(
            user=request.user,
            kind="volunteer_import",
            organisation=job_organisation(request.user),
            func="kepu.registry.services.volunteers_import_job",
            params={"team": team.pk, "path": path, "name": upload.name or ""},
            title=f"导入科技志愿者: {team.name}",
        )
    except Exception:
        if default_storage.exists(path):
            default_storage.delete(path)
        raise
    messages.info(request, "文件较大, 已转为后台任务导入; 完成前请勿重复上传。")
    return redirect("jobs:detail", pk=job.pk)


@login_required
def volunteer_template(request: HttpRequest) -> HttpResponse:
    return xlsx_response(services.volunteer_template_xlsx(), "科技志愿者导入模板.xlsx")


@login_required
def volunteer_totals(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    data = selectors.volunteer_region_totals(
        user=request.user, year=year, region=_region_param(request)
    )
    return render(request, "registry/volunteer_totals.html", {"year": year, "totals": data})
