"""Registry pages: thin views over services and selectors."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
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
from kepu.registry.forms import BaseForm, CertifyForm, ExpertForm, SheetForm
from kepu.registry.models import (
    BaseLevel,
    BaseReview,
    BaseStatus,
    EducationBase,
    Expert,
    ReviewStatus,
    ScoreSheet,
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
