"""Writes for the registries: base applications and certification, score sheets, annual
reviews (self-report → scoring → warning/revocation), experts. Every write is checked by
the gate after it is made, versioned rows refuse stale saves, and the audit log records
every row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from kepu.core.files import SHEET, check_upload, new_workbook, workbook_bytes, write_row
from kepu.core.importing import DataImportError, RowErrors, SheetLimits, xlsx_rows
from kepu.core.validation import length_errors
from kepu.core.versioning import version_check
from kepu.orgs.models import Organisation
from kepu.orgs.scoping import Action, ensure_in_scope, save_in_scope, user_grants
from kepu.orgs.selectors import acting_office
from kepu.regions.models import Region
from kepu.registry import scoring
from kepu.registry.models import (
    BaseCategory,
    BaseLevel,
    BaseReview,
    BaseStatus,
    EducationBase,
    Expert,
    ReviewStatus,
    ScoreSheet,
)

SHEET_LIMITS = SheetLimits(rows=500, cells=500 * 12, unpacked_bytes=20 * 1024 * 1024)


def _office_over(user: Any, region: Region) -> Organisation:
    """The user's office (administrator) whose region contains ``region``."""
    if user.is_superuser:
        office = (
            Organisation.objects.filter(
                kind__in=["association", "office"], region__path__in=_ancestors(region.path)
            )
            .order_by("-region__level")
            .first()
        )
        if office:
            return office
    for g in user_grants(user):
        if (
            g.region_path is not None
            and g.role == "office_admin"
            and region.path.startswith(g.region_path)
        ):
            return Organisation.objects.get(pk=g.organisation_id)
    raise PermissionDenied("只有所在区域的办公室管理员可以进行此操作。")


def _ancestors(path: str) -> list[str]:
    return [path[: i + 1] for i, ch in enumerate(path) if ch == "/"]


# --- bases --------------------------------------------------------------------------------
@dataclass
class BaseFields:
    name: str
    level: str
    category: str
    region: Region
    address: str = ""
    exhibition_area: int = 0
    opening_days: int = 0
    annual_visitors: int = 0
    free_days: int = 0
    contact_name: str = ""
    contact_phone: str = ""


def _check_base(organisation: Organisation, f: BaseFields) -> None:
    errors: dict[str, str] = {}
    if not f.name.strip():
        errors["name"] = "请填写基地名称。"
    if f.level not in BaseLevel.values:
        errors["level"] = "级别无效。"
    if f.category not in BaseCategory.values:
        errors["category"] = "类型无效。"
    if not f.region.path.startswith(organisation.region.path):
        errors["region"] = f"基地应在依托单位所在的{organisation.region.name}范围内。"
    if f.opening_days > 366:
        errors["opening_days"] = "年开放天数不能超过 366。"
    if f.free_days > f.opening_days:
        errors["free_days"] = "免费/优惠开放天数不能超过年开放天数。"
    errors.update(length_errors(EducationBase, f.__dict__))
    if errors:
        raise ValidationError(errors)


def base_apply(*, user: Any, organisation: Organisation, fields: BaseFields) -> EducationBase:
    """The applicant (the base's own organisation, or an office for it) files an application."""
    ensure_in_scope(user, organisation, Action.ADD)
    _check_base(organisation, fields)
    base = EducationBase(organisation=organisation, status=BaseStatus.APPLYING)
    for k, v in fields.__dict__.items():
        setattr(base, k, v.strip() if isinstance(v, str) else v)
    return save_in_scope(user, base, Action.ADD)


def base_update(
    *, user: Any, base: EducationBase, fields: BaseFields, version: int | None
) -> EducationBase:
    ensure_in_scope(user, base, Action.CHANGE)
    _check_base(base.organisation, fields)
    with transaction.atomic():
        for k, v in fields.__dict__.items():
            setattr(base, k, v.strip() if isinstance(v, str) else v)
        version_check(
            base,
            expected=version,
            fields=["name", "exhibition_area", "opening_days", "annual_visitors"],
        )
        save_in_scope(user, base, Action.CHANGE)
    return base


def base_endorse(*, user: Any, base: EducationBase) -> EducationBase:
    if base.status != BaseStatus.APPLYING:
        raise ValidationError("只有申报中的基地可以推荐。")
    office = _office_over(user, base.region)
    with transaction.atomic():
        version_check(base, expected=None)
        base.status, base.recommended_by = BaseStatus.ENDORSED, office
        save_in_scope(user, base, Action.CHANGE)
    return base


def base_certify(
    *,
    user: Any,
    base: EducationBase,
    approve: bool,
    batch: str = "",
    valid_from: int | None = None,
    valid_to: int | None = None,
) -> EducationBase:
    """The certifying office decides on an endorsed application."""
    if base.status not in (BaseStatus.ENDORSED, BaseStatus.APPLYING):
        raise ValidationError("该基地不在待认定状态。")
    office = _office_over(user, base.region)
    if office.pk == base.organisation_id:
        raise PermissionDenied("不能认定本单位的基地。")
    if approve and (not valid_from or not valid_to or valid_to < valid_from):
        raise ValidationError("请填写有效期 (如 2026—2030)。")
    with transaction.atomic():
        version_check(base, expected=None)
        base.status = BaseStatus.CERTIFIED if approve else BaseStatus.REJECTED
        base.certified_by = office
        base.batch, base.valid_from, base.valid_to = batch.strip()[:50], valid_from, valid_to
        save_in_scope(user, base, Action.CHANGE)
    return base


# --- score sheets -------------------------------------------------------------------------
def sheet_create(
    *,
    user: Any,
    year: int,
    data: dict[str, Any],
    owner_id: int | None = None,
    warn_after: int = 1,
    revoke_after: int = 2,
) -> ScoreSheet:
    owner = acting_office(user=user, owner_id=owner_id, denied="只有办公室可以制定评分表。")
    try:
        clean = scoring.validate_sheet(data)
    except scoring.SheetError as exc:
        raise ValidationError(exc.errors) from exc
    if not 1 <= warn_after <= revoke_after:
        raise ValidationError("预警年数应不大于摘牌年数。")
    sheet = ScoreSheet(
        owner=owner,
        region=owner.region,
        year=year,
        name=clean["name"],
        data=clean,
        warn_after=warn_after,
        revoke_after=revoke_after,
    )
    return save_in_scope(user, sheet, Action.ADD)


SHEET_HEADER = [
    "代码",
    "评分项",
    "分值",
    "数据指标",
    "单位",
    "档次(下限:得分比例[:说明], 用分号分隔)",
]
METRICS = {
    "exhibition_area": "展示面积",
    "opening_days": "年开放天数",
    "annual_visitors": "年接待人次",
    "free_days": "免费/优惠开放天数",
    "campaign_activities": "科普活动场次 (系统统计)",
}


def sheet_xlsx(sheet: dict[str, Any]) -> bytes:
    """A score sheet as Excel: items, then grades (the same layout imports back)."""
    wb = new_workbook()
    ws = wb.active
    ws.title = "评分表"
    write_row(ws, 1, [sheet["name"]])
    write_row(ws, 2, SHEET_HEADER)
    row = 3
    for item in sheet["items"]:
        levels = "; ".join(
            f"{lv['min']:g}:{lv['fraction']:g}" + (f":{lv['label']}" if lv.get("label") else "")
            for lv in item.get("levels", [])
        )
        write_row(
            ws,
            row,
            [
                item["code"],
                item["name"],
                item["points"],
                item["metric"] or "",
                item.get("unit", ""),
                levels,
            ],
        )
        row += 1
    row += 1
    write_row(ws, row, ["等级", "得分率下限", "是否不合格"])
    for g in sheet["grades"]:
        row += 1
        write_row(
            ws,
            row,
            [g["label"], g["min"], "是" if g["label"] in sheet.get("fail_grades", []) else ""],
        )
    return workbook_bytes(wb)


def sheet_from_xlsx(name: str, data: bytes) -> dict[str, Any]:
    """Read a score sheet from Excel (the layout of :func:`sheet_xlsx`); Chinese row errors."""
    check_upload(name, data, SHEET)
    rows = list(xlsx_rows(data, SHEET_LIMITS))
    errors = RowErrors()
    title = next((r[0] for r in rows if r and r[0]), "")
    items: list[dict[str, Any]] = []
    grades: list[dict[str, Any]] = []
    fail: list[str] = []
    section = None
    for line, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row] + [""] * 6
        if cells[0] == "代码":
            section = "items"
            continue
        if cells[0] == "等级":
            section = "grades"
            continue
        if not any(cells) or section is None:
            continue
        if section == "items":
            levels = []
            for part in filter(None, (p.strip() for p in cells[5].replace("；", ";").split(";"))):
                lo, _, rest = part.partition(":")
                frac, _, label = rest.partition(":")
                try:
                    levels.append(
                        {"min": float(lo), "fraction": float(frac), "label": label.strip()}
                    )
                except ValueError:
                    errors.add(line, f"档次「{part}」应写成 下限:得分比例")
            try:
                points = float(cells[2])
            except ValueError:
                errors.add(line, "分值必须是数字")
                continue
            items.append(
                {
                    "code": cells[0],
                    "name": cells[1],
                    "points": points,
                    "metric": cells[3] or None,
                    "unit": cells[4],
                    "levels": levels,
                }
            )
        else:
            try:
                grades.append({"label": cells[0], "min": float(cells[1])})
            except ValueError:
                errors.add(line, "得分率下限必须是 0—1 之间的数字")
                continue
            if cells[2] in ("是", "Y", "y", "1"):
                fail.append(cells[0])
    errors.raise_if_any()
    unknown = sorted({i["metric"] for i in items if i["metric"] and i["metric"] not in METRICS})
    if unknown:
        raise DataImportError(f"未知的数据指标: {'、'.join(unknown)} (可用: {'、'.join(METRICS)})")
    try:
        return scoring.validate_sheet(
            {"name": title, "items": items, "grades": grades, "fail_grades": fail}
        )
    except scoring.SheetError as exc:
        raise DataImportError(exc.errors) from exc


# --- annual reviews -----------------------------------------------------------------------
def system_figures(base: EducationBase, year: int) -> dict[str, Any]:
    """Figures the platform already knows: the base's record and its campaign activities."""
    figures: dict[str, Any] = {
        "exhibition_area": base.exhibition_area,
        "opening_days": base.opening_days,
        "annual_visitors": base.annual_visitors,
        "free_days": base.free_days,
    }
    try:
        from kepu.campaigns.models import PUBLISHED, Activity
    except ImportError:  # campaigns not installed
        return figures
    figures["campaign_activities"] = Activity.objects.filter(
        organiser_id=base.organisation_id, status__in=PUBLISHED, starts_at__year=year
    ).count()
    return figures


def review_open(*, user: Any, base: EducationBase, sheet: ScoreSheet, year: int) -> BaseReview:
    """Start (or return) the base's review of ``year`` on ``sheet``, prefilled from the system."""
    ensure_in_scope(user, base, Action.CHANGE)
    if base.status not in (BaseStatus.CERTIFIED, BaseStatus.WARNING):
        raise ValidationError("只有已认定或预警的基地参加年度评估。")
    if not base.region.path.startswith(sheet.region.path):
        raise ValidationError("该评分表不适用于本基地所在区域。")
    existing = BaseReview.objects.filter(base=base, year=year).first()
    if existing:
        return existing
    review = BaseReview(base=base, year=year, sheet=sheet, figures=system_figures(base, year))
    return save_in_scope(user, review, Action.CHANGE)


def review_save(
    *,
    user: Any,
    review: BaseReview,
    figures: dict[str, Any],
    summary: str,
    evidence_links: str,
    version: int | None,
    submit: bool = False,
) -> BaseReview:
    ensure_in_scope(user, review, Action.CHANGE)
    if review.status != ReviewStatus.DRAFT:
        raise ValidationError("自评已提交, 不能再修改。")
    bad = [
        k for k, v in figures.items() if v is not None and (not isinstance(v, int | float) or v < 0)
    ]
    if bad:
        raise ValidationError(f"数据必须是非负数: {'、'.join(METRICS.get(k, k) for k in bad)}")
    with transaction.atomic():
        review.figures = {**review.figures, **figures}
        # What the system counts is not the base's to change.
        review.figures["campaign_activities"] = system_figures(review.base, review.year).get(
            "campaign_activities", 0
        )
        review.summary, review.evidence_links = summary.strip(), evidence_links.strip()
        version_check(review, expected=version, fields=["summary"])
        if submit:
            review.status, review.submitted_at = ReviewStatus.SUBMITTED, timezone.now()
        save_in_scope(user, review, Action.CHANGE)
    return review


def _failures_in_a_row(base: EducationBase, year: int) -> int:
    n = 0
    for r in BaseReview.objects.filter(
        base=base, year__lte=year, status=ReviewStatus.SCORED
    ).order_by("-year"):
        if not r.failed:
            break
        n += 1
    return n


def review_score(*, user: Any, review: BaseReview, reviewer_scores: dict[str, Any]) -> BaseReview:
    """An office over the base scores the items the sheet leaves to reviewers; the grade
    follows, and the warning/revocation rule updates the base's status."""
    if review.status != ReviewStatus.SUBMITTED:
        raise ValidationError("只有已提交的自评可以评分。")
    office = _office_over(user, review.base.region)
    if office.pk == review.base.organisation_id:
        raise PermissionDenied("不能为本单位的基地评分。")
    try:
        result = scoring.evaluate(review.sheet.data, review.figures, reviewer_scores)
    except scoring.SheetError as exc:
        raise ValidationError(exc.errors) from exc
    if not result.complete:
        missing = "、".join(i.name for i in result.items if i.source == "missing")
        raise ValidationError(f"还有未评分或缺少数据的项目: {missing}")
    with transaction.atomic():
        version_check(review, expected=None)
        review.reviewer_scores = {k: v for k, v in reviewer_scores.items()}
        review.item_scores = [i.__dict__ for i in result.items]
        review.total, review.grade, review.failed = result.total, result.grade or "", result.failed
        review.status, review.scored_by, review.scored_at = (
            ReviewStatus.SCORED,
            user,
            timezone.now(),
        )
        review.save()
        base = review.base
        state = scoring.status_after(
            _failures_in_a_row(base, review.year),
            warn_after=review.sheet.warn_after,
            revoke_after=review.sheet.revoke_after,
        )
        new = {
            "ok": BaseStatus.CERTIFIED,
            "warning": BaseStatus.WARNING,
            "revoked": BaseStatus.REVOKED,
        }[state]
        if base.status != new:
            version_check(base, expected=None)
            base.status = new
            base.save()
    return review


# --- experts ------------------------------------------------------------------------------
@dataclass
class ExpertFields:
    name: str
    region: Region
    fields: list[str]
    title: str = ""
    employer: str = ""
    available: bool = True
    bio: str = ""
    phone: str = ""


def expert_save(
    *,
    user: Any,
    fields: ExpertFields,
    expert: Expert | None = None,
    owner_id: int | None = None,
    version: int | None = None,
) -> Expert:
    if not fields.name.strip():
        raise ValidationError({"name": "请填写姓名。"})
    too_long = length_errors(Expert, fields.__dict__)
    if too_long:
        raise ValidationError(too_long)
    tags = [t.strip()[:20] for t in fields.fields if t.strip()][:20]
    if not tags:
        raise ValidationError({"fields": "请至少填写一个专业领域。"})
    with transaction.atomic():
        if expert is None:
            owner = acting_office(user=user, owner_id=owner_id, denied="只有办公室可以管理专家库。")
            expert = Expert(owner=owner)
            action = Action.ADD
        else:
            ensure_in_scope(user, expert, Action.CHANGE)
            version_check(expert, expected=version, fields=["name", "fields"])
            action = Action.CHANGE
        for k, v in fields.__dict__.items():
            setattr(expert, k, v.strip() if isinstance(v, str) else v)
        expert.fields = tags
        if not fields.region.path.startswith(expert.owner.region.path):
            raise ValidationError({"region": "专家所在区域应在管理单位的区域内。"})
        save_in_scope(user, expert, action)
    return expert


__all__ = [
    "BaseFields",
    "ExpertFields",
    "base_apply",
    "base_certify",
    "base_endorse",
    "base_update",
    "expert_save",
    "review_open",
    "review_save",
    "review_score",
    "sheet_create",
    "sheet_from_xlsx",
    "sheet_xlsx",
    "system_figures",
]
