"""Writes for the registries: base applications and certification, score sheets, annual
reviews (self-report → scoring → warning/revocation), experts. Every write is checked by
the gate after it is made, versioned rows refuse stale saves, and the audit log records
every row."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from kepu.audit.services import audit_values
from kepu.core.bulk import insert_rows
from kepu.core.files import (
    DATA,
    SHEET,
    check_upload,
    new_workbook,
    workbook_bytes,
    write_row,
)
from kepu.core.importing import (
    DataImportError,
    RowErrors,
    SheetLimits,
    csv_rows,
    decode_csv,
    xlsx_rows,
)
from kepu.core.types import UserLike, as_account
from kepu.core.validation import length_errors
from kepu.core.versioning import version_check
from kepu.orgs.models import Organisation
from kepu.orgs.scoping import Action, can, ensure_in_scope, save_in_scope, user_grants
from kepu.orgs.selectors import acting_office
from kepu.regions.models import Region
from kepu.registry import identity, scoring, totals
from kepu.registry.identity import mask_name
from kepu.registry.models import (
    MUSEUM_FIGURES,
    BaseCategory,
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
    museum_scale,
)
from kepu.registry.museums import report_errors

SHEET_LIMITS = SheetLimits(rows=500, cells=500 * 12, unpacked_bytes=20 * 1024 * 1024)


def _office_over(user: UserLike, region: Region) -> Organisation:
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


def base_apply(*, user: UserLike, organisation: Organisation, fields: BaseFields) -> EducationBase:
    """The applicant (the base's own organisation, or an office for it) files an application."""
    ensure_in_scope(user, organisation, Action.ADD)
    _check_base(organisation, fields)
    base = EducationBase(organisation=organisation, status=BaseStatus.APPLYING)
    for k, v in fields.__dict__.items():
        setattr(base, k, v.strip() if isinstance(v, str) else v)
    return save_in_scope(user, base, Action.ADD)


def base_update(
    *, user: UserLike, base: EducationBase, fields: BaseFields, version: int | None
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


def base_endorse(*, user: UserLike, base: EducationBase) -> EducationBase:
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
    user: UserLike,
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
    user: UserLike,
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


def review_open(*, user: UserLike, base: EducationBase, sheet: ScoreSheet, year: int) -> BaseReview:
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
    user: UserLike,
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


def review_score(
    *, user: UserLike, review: BaseReview, reviewer_scores: dict[str, Any]
) -> BaseReview:
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
            as_account(user),
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
    user: UserLike,
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


# --- science museums ----------------------------------------------------------------------
@dataclass
class MuseumFields:
    name: str
    region: Region
    address: str = ""
    building_area: int = 0
    exhibition_area: int = 0
    opened_year: int | None = None
    free_entry: bool = True
    contact_name: str = ""
    contact_phone: str = ""


def _check_museum(organisation: Organisation, f: MuseumFields) -> None:
    errors: dict[str, str] = {}
    if not f.name.strip():
        errors["name"] = "请填写科技馆名称。"
    if not f.region.path.startswith(organisation.region.path):
        errors["region"] = f"科技馆应在运营单位所在的{organisation.region.name}范围内。"
    if f.exhibition_area > f.building_area:
        errors["exhibition_area"] = "展厅面积不能大于建筑面积。"
    if f.opened_year is not None and not 1900 <= f.opened_year <= timezone.localdate().year:
        errors["opened_year"] = "开馆年份无效。"
    errors.update(length_errors(Museum, f.__dict__))
    if errors:
        raise ValidationError(errors)


def museum_save(
    *,
    user: UserLike,
    fields: MuseumFields,
    organisation: Organisation | None = None,
    museum: Museum | None = None,
    version: int | None = None,
) -> Museum:
    """Register a museum (its operating unit or an office for it) or change its record."""
    with transaction.atomic():
        if museum is None:
            if organisation is None:
                raise ValidationError({"organisation": "请选择运营单位。"})
            ensure_in_scope(user, organisation, Action.ADD)
            museum, action = Museum(organisation=organisation), Action.ADD
        else:
            ensure_in_scope(user, museum, Action.CHANGE)
            version_check(museum, expected=version, fields=["name", "building_area"])
            action = Action.CHANGE
        _check_museum(museum.organisation, fields)
        for k, v in fields.__dict__.items():
            setattr(museum, k, v.strip() if isinstance(v, str) else v)
        museum.scale = museum_scale(museum.building_area)
        save_in_scope(user, museum, action)
    return museum


def museum_report_open(*, user: UserLike, museum: Museum, year: int) -> MuseumReport:
    """Start (or return) the museum's report of ``year``."""
    ensure_in_scope(user, museum, Action.CHANGE)
    if not 2000 <= year <= timezone.localdate().year:
        raise ValidationError("年度报告填报已结束的或当前的自然年度。")
    existing = MuseumReport.objects.filter(museum=museum, year=year).first()
    if existing:
        return existing
    report = MuseumReport(museum=museum, year=year)
    return save_in_scope(user, report, Action.CHANGE)


def museum_report_save(
    *,
    user: UserLike,
    report: MuseumReport,
    figures: dict[str, Any],
    summary: str,
    subsidy_use: str,
    version: int | None,
    submit: bool = False,
) -> MuseumReport:
    ensure_in_scope(user, report, Action.CHANGE)
    if report.status not in (ReportStatus.DRAFT, ReportStatus.RETURNED):
        raise ValidationError("年度报告已提交, 不能再修改。")
    known = {k for k, _, _ in MUSEUM_FIGURES}
    clean = {k: v for k, v in figures.items() if k in known}
    merged = {k: getattr(report, k) for k in known} | clean
    errors = report_errors(
        merged,
        year=report.year,
        current_year=timezone.localdate().year,
        summary=summary,
        subsidy_use=subsidy_use,
        free_entry=report.museum.free_entry,
        submit=submit,
    )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        for k, v in clean.items():
            setattr(report, k, v if v not in (None, "") else 0)
        report.summary, report.subsidy_use = summary.strip(), subsidy_use.strip()
        version_check(report, expected=version, fields=["visitors", "summary"])
        if submit:
            report.status, report.submitted_at = ReportStatus.SUBMITTED, timezone.now()
        save_in_scope(user, report, Action.CHANGE)
    return report


def museum_report_review(
    *, user: UserLike, report: MuseumReport, accept: bool, comment: str = ""
) -> MuseumReport:
    """An office over the museum accepts the submitted report or returns it."""
    if report.status != ReportStatus.SUBMITTED:
        raise ValidationError("只有已提交的年度报告可以审核。")
    office = _office_over(user, report.museum.region)
    if office.pk == report.museum.organisation_id:
        raise PermissionDenied("不能审核本单位的年度报告。")
    if not accept and not comment.strip():
        raise ValidationError("退回时请填写意见。")
    with transaction.atomic():
        version_check(report, expected=None)
        report.status = ReportStatus.ACCEPTED if accept else ReportStatus.RETURNED
        report.review_comment = comment.strip()[:500]
        report.reviewed_by, report.reviewed_at = as_account(user), timezone.now()
        report.save()
    return report


def museum_reports_xlsx(*, title: str, reports: Any) -> bytes:
    """The year's museum reports as one table (one row a museum; no private contacts)."""
    wb = new_workbook()
    ws = wb.active
    ws.title = "科技馆年度报告"
    write_row(ws, 1, [title])
    write_row(
        ws,
        2,
        ["科技馆", "所在区域", "区划代码", "状态", *[label for _, label, _ in MUSEUM_FIGURES]],
    )
    for i, r in enumerate(reports, start=3):
        write_row(
            ws,
            i,
            [
                r.museum.name,
                r.museum.region.name,
                r.museum.region.code,
                r.get_status_display(),
                *[getattr(r, k) for k, _, _ in MUSEUM_FIGURES],
            ],
        )
    return workbook_bytes(wb)


# --- volunteer teams and volunteers -------------------------------------------------------
@dataclass
class TeamFields:
    name: str
    kind: str
    region: Region
    host: Organisation | None = None
    leader: str = ""
    founded_on: dt.date | None = None
    description: str = ""
    active: bool = True


def team_save(
    *,
    user: UserLike,
    fields: TeamFields,
    team: VolunteerTeam | None = None,
    office_id: int | None = None,
    version: int | None = None,
) -> VolunteerTeam:
    """An office keeps its teams (the team's office is the one that creates it)."""
    errors: dict[str, str] = {}
    if not fields.name.strip():
        errors["name"] = "请填写服务队名称。"
    if fields.kind not in TeamKind.values:
        errors["kind"] = "类别无效。"
    errors.update(length_errors(VolunteerTeam, fields.__dict__))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        before: tuple[int, bool] | None = None
        if team is None:
            office = acting_office(
                user=user, owner_id=office_id, denied="只有办公室可以登记志愿服务队。"
            )
            team, action = VolunteerTeam(office=office), Action.ADD
        else:
            ensure_in_scope(user, team, Action.CHANGE)
            version_check(team, expected=version, fields=["name", "kind"])
            action = Action.CHANGE
            before = (
                VolunteerTeam.objects.filter(pk=team.pk)  # unscoped: the locked row
                .values_list("region_id", "active")
                .get()
            )
        if not fields.region.path.startswith(team.office.region.path):
            raise ValidationError({"region": "服务队应在管理办公室的区域内。"})
        if fields.host is not None and not can(user, fields.host, Action.VIEW):
            raise ValidationError({"host": "依托单位不在您的范围内。"})
        for k, v in fields.__dict__.items():
            setattr(team, k, v.strip() if isinstance(v, str) else v)
        save_in_scope(user, team, action)
        totals.team_changed(before=before, team=team)
    return team


def _id_key() -> bytes:
    key = getattr(settings, "KEPU_ID_HASH_KEY", "") or settings.SECRET_KEY
    return str(key).encode()


def id_number_hash(number: str) -> str:
    return identity.id_hash(number, _id_key())


def _require_personal(user: UserLike, team: VolunteerTeam) -> None:
    from kepu.registry.selectors import personal_access

    if not personal_access(user, team):
        raise PermissionDenied("志愿者个人信息只有服务队的管理办公室可以查看和维护。")


PHONE = re.compile(r"^1\d{10}$")


@dataclass
class VolunteerFields:
    name: str
    id_number: str = ""  # required for a new volunteer; blank keeps the stored one
    phone: str = ""
    skills: str = ""
    joined_on: dt.date | None = None
    active: bool = True


def _volunteer_errors(
    f: VolunteerFields, *, new: bool, today: dt.date | None = None
) -> tuple[dict[str, str], Any]:
    errors: dict[str, str] = {}
    parsed = None
    today = today or timezone.localdate()
    if not f.name.strip():
        errors["name"] = "请填写姓名。"
    elif len(f.name.strip()) > 50:
        errors["name"] = "姓名过长。"
    if f.id_number.strip() or new:
        try:
            parsed = identity.parse(f.id_number, today=today)
        except identity.IdNumberError as exc:
            errors["id_number"] = str(exc)
    if f.phone.strip() and not PHONE.match(f.phone.strip()):
        errors["phone"] = "手机号应为 11 位数字。"
    if len(f.skills) > 200:
        errors["skills"] = "专业特长不超过 200 字。"
    if f.joined_on and f.joined_on > today:
        errors["joined_on"] = "加入日期不能晚于今天。"
    return errors, parsed


def volunteer_save(
    *,
    user: UserLike,
    team: VolunteerTeam,
    fields: VolunteerFields,
    volunteer: Volunteer | None = None,
    version: int | None = None,
) -> Volunteer:
    """Register a volunteer in ``team`` (real name, identity number) or change the record."""
    _require_personal(user, team)
    errors, parsed = _volunteer_errors(fields, new=volunteer is None)
    if parsed is not None:
        digest = id_number_hash(parsed.number)
        # unscoped: one registration a person nationally (the message names no team)
        clash = Volunteer.objects.filter(id_hash=digest)
        if volunteer is not None:
            clash = clash.exclude(pk=volunteer.pk)
        if clash.exists():
            errors["id_number"] = "该身份证号已登记为科技志愿者 (每人只能登记一次)。"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if volunteer is None:
            volunteer, action = Volunteer(team=team), Action.ADD
            ensure_in_scope(user, team, Action.CHANGE)
            was_active = False
        else:
            ensure_in_scope(user, volunteer, Action.CHANGE)
            version_check(volunteer, expected=version, fields=["name", "phone"])
            action = Action.CHANGE
            was_active = Volunteer.objects.filter(pk=volunteer.pk, active=True).exists()
        volunteer.name = fields.name.strip()
        volunteer.phone, volunteer.skills = fields.phone.strip(), fields.skills.strip()
        volunteer.joined_on, volunteer.active = fields.joined_on, fields.active
        if parsed is not None:
            volunteer.id_hash, volunteer.id_masked = id_number_hash(parsed.number), parsed.masked
            volunteer.gender, volunteer.birth_year = parsed.gender, parsed.birth.year
        save_in_scope(user, volunteer, action)
        totals.volunteers_added(team=team, n=int(volunteer.active) - int(was_active))
    return volunteer


def _service_check(
    *,
    user: UserLike,
    served_on: dt.date,
    hours: Decimal,
    description: str,
    activity_id: int | None,
    task_id: int | None,
) -> tuple[Any, Any]:
    """The checks of a service record's values; the activity and task (in the user's sight)."""
    from kepu.campaigns.models import Activity
    from kepu.plans.models import Task

    errors: dict[str, str] = {}
    if not Decimal("0") < hours <= Decimal("24"):
        errors["hours"] = "服务时长应在 0—24 小时之间。"
    if served_on > timezone.localdate():
        errors["served_on"] = "服务日期不能晚于今天。"
    activity = task = None
    if activity_id:
        activity = Activity.objects.restrict(user, Action.VIEW).filter(pk=activity_id).first()
        if activity is None:
            errors["activity"] = "科普活动不存在或不在您的范围内。"
        elif not (
            timezone.localtime(activity.starts_at).date()
            <= served_on
            <= timezone.localtime(activity.ends_at).date()
        ):
            errors["served_on"] = "服务日期应在所选活动的举办时间内。"
    if task_id:
        task = Task.objects.restrict(user, Action.VIEW).filter(pk=task_id).first()
        if task is None:
            errors["task"] = "工作任务不存在或不在您的范围内。"
    if len(description) > 300:
        errors["description"] = "服务内容不超过 300 字。"
    if errors:
        raise ValidationError(errors)
    return activity, task


def service_add(
    *,
    user: UserLike,
    volunteer: Volunteer,
    served_on: dt.date,
    hours: Decimal,
    description: str = "",
    activity_id: int | None = None,
    task_id: int | None = None,
) -> ServiceRecord:
    """Record hours a volunteer served, against a campaign activity or a task if given."""
    _require_personal(user, volunteer.team)
    ensure_in_scope(user, volunteer, Action.CHANGE)
    activity, task = _service_check(
        user=user,
        served_on=served_on,
        hours=hours,
        description=description,
        activity_id=activity_id,
        task_id=task_id,
    )
    record = ServiceRecord(
        volunteer=volunteer,
        team=volunteer.team,
        served_on=served_on,
        hours=hours,
        activity=activity,
        task=task,
        description=description.strip() or (activity.title if activity else ""),
        created_by=as_account(user),
    )
    with transaction.atomic():
        save_in_scope(user, record, Action.ADD)
        totals.service_added(record)
    return record


def service_update(
    *,
    user: UserLike,
    record: ServiceRecord,
    served_on: dt.date,
    hours: Decimal,
    description: str = "",
    activity_id: int | None = None,
    task_id: int | None = None,
    version: int | None,
) -> ServiceRecord:
    """The team's office corrects a service record (a stale save is refused); the team's
    totals move with it; the audit log keeps the values before and after."""
    _require_personal(user, record.team)
    ensure_in_scope(user, record, Action.CHANGE)
    activity, task = _service_check(
        user=user,
        served_on=served_on,
        hours=hours,
        description=description,
        activity_id=activity_id,
        task_id=task_id,
    )
    with transaction.atomic():
        record.served_on, record.hours = served_on, hours
        record.activity, record.task = activity, task
        record.description = description.strip() or (activity.title if activity else "")
        version_check(record, expected=version, fields=["served_on", "hours", "description"])
        before = ServiceRecord.objects.get(pk=record.pk)  # unscoped: the locked row
        totals.service_removed(before)
        save_in_scope(user, record, Action.CHANGE)
        totals.service_added(record)
    return record


def service_delete(
    *, user: UserLike, record: ServiceRecord, reason: str, version: int | None
) -> None:
    """The team's office deletes a service record, giving the reason (kept in the audit
    log with the record's values); the team's totals move with it."""
    _require_personal(user, record.team)
    ensure_in_scope(user, record, Action.DELETE)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "请填写删除原因。"})
    if len(reason) > 200:
        raise ValidationError({"reason": "删除原因不超过 200 字。"})
    with transaction.atomic():
        version_check(record, expected=version)
        totals.service_removed(ServiceRecord.objects.get(pk=record.pk))  # unscoped: locked
        record.audit_note = reason  # type: ignore[attr-defined]  # the delete entry's reason
        record.delete()


# what a volunteer's create entry records (id_hash is a secret: never written)
AUDITED_VOLUNTEER = (
    "name",
    "id_masked",
    "gender",
    "birth_year",
    "phone",
    "skills",
    "joined_on",
    "active",
)
VOLUNTEER_HEADER = ["姓名", "身份证号", "手机号", "专业特长", "加入日期"]
VOLUNTEER_LIMITS = SheetLimits(rows=200_000, cells=200_000 * 8, unpacked_bytes=200 * 1024 * 1024)


def volunteer_template_xlsx() -> bytes:
    wb = new_workbook()
    ws = wb.active
    ws.title = "科技志愿者"
    write_row(ws, 1, VOLUNTEER_HEADER)
    write_row(ws, 2, ["张三", "11010519491231002X", "13800000000", "青少年科技教育", "2026-03-01"])
    return workbook_bytes(wb)


def _date(text: str) -> dt.date | None:
    text = text.strip().replace("/", "-").replace(".", "-")[:10]
    if not text:
        return None
    return dt.date.fromisoformat(text)


def volunteers_import(
    *,
    user: UserLike,
    team: VolunteerTeam,
    name: str,
    data: bytes,
    progress: Callable[[float, str], None] | None = None,
) -> int:
    """Import volunteers into ``team`` from Excel (or CSV): all rows or none, with row
    errors in Chinese. Returns the number of volunteers added."""
    _require_personal(user, team)
    ensure_in_scope(user, team, Action.CHANGE)
    try:
        kind = check_upload(name, data, DATA)
    except ValidationError as exc:
        raise DataImportError(exc.messages) from exc
    if kind == ".csv" or name.lower().endswith(".csv"):
        rows = list(csv_rows(decode_csv(data), max_rows=VOLUNTEER_LIMITS.rows + 1))
    else:
        rows = list(xlsx_rows(data, VOLUNTEER_LIMITS))
    if not rows:
        raise DataImportError("文件是空的。")
    header = [c.strip() for c in rows[0]]
    missing = [h for h in VOLUNTEER_HEADER[:2] if h not in header]
    if missing:
        raise DataImportError(f"缺少列: {'、'.join(missing)} (请使用模板)")
    col = {h: header.index(h) for h in VOLUNTEER_HEADER if h in header}
    errors = RowErrors()
    today = timezone.localdate()
    hasher = identity.id_hasher(_id_key())
    # (line, row values): checked rows, written without model instances (kepu.core.bulk)
    built: list[tuple[int, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    total = len(rows) - 1
    for line, row in enumerate(rows[1:], start=2):
        if progress and line % 5000 == 0:
            progress(0.5 * line / max(total, 1), f"校验第 {line} 行")
        cells = {h: (row[i].strip() if i < len(row) else "") for h, i in col.items()}
        if not any(cells.values()):
            continue
        try:
            joined = _date(cells.get("加入日期", ""))
        except ValueError:
            errors.add(line, "加入日期应写成 2026-03-01")
            joined = None
        f = VolunteerFields(
            name=cells.get("姓名", ""),
            id_number=cells.get("身份证号", ""),
            phone=cells.get("手机号", ""),
            skills=cells.get("专业特长", ""),
            joined_on=joined,
        )
        problems, parsed = _volunteer_errors(f, new=True, today=today)
        for msg in problems.values():
            errors.add(line, msg)
        if parsed is None:
            continue
        digest = hasher(parsed.number)
        if digest in seen:
            errors.add(line, f"身份证号与第 {seen[digest]} 行重复")
            continue
        seen[digest] = line
        if problems:
            continue
        built.append(
            (
                line,
                {
                    "team_id": team.pk,
                    "name": f.name.strip(),
                    "id_hash": digest,
                    "id_masked": parsed.masked,
                    "gender": parsed.gender,
                    "birth_year": parsed.birth.year,
                    "phone": f.phone.strip(),
                    "skills": f.skills.strip(),
                    "joined_on": f.joined_on or today,
                    "active": True,
                },
            )
        )
    if not seen and not errors:
        raise DataImportError("文件中没有志愿者。")
    # One registration a person: numbers already registered anywhere are refused.
    if progress:
        progress(0.55, "核对是否已登记")
    digests = list(seen)
    taken: set[str] = set()
    for start in range(0, len(digests), 5000):
        # unscoped: uniqueness is national (the message names no team)
        taken.update(
            Volunteer.objects.filter(id_hash__in=digests[start : start + 5000]).values_list(
                "id_hash", flat=True
            )
        )
    if taken:
        for line, v in built:
            if v["id_hash"] in taken:
                errors.add(line, "该身份证号已登记为科技志愿者 (每人只能登记一次)")
    errors.raise_if_any()
    if progress:
        progress(0.65, f"写入 {len(built)} 名志愿者")
    values = [v for _, v in built]
    region_path, office_id = team.audit_scope()
    with transaction.atomic():
        pks = insert_rows(Volunteer, values, ids=True)
        if progress:
            progress(0.85, "写入操作日志")
        audit_values(
            action="create",
            model=Volunteer,
            rows=[
                (
                    pk,
                    mask_name(v["name"]),
                    {"id": pk, "team": team.pk, **{k: v[k] for k in AUDITED_VOLUNTEER}},
                )
                for pk, v in zip(pks, values, strict=True)
            ],
            region_path=region_path,
            organisation_id=office_id,
            actor=user,
        )
        totals.volunteers_added(team=team, n=len(values))
        if progress:
            progress(0.98, "提交")
    return len(values)


def volunteers_import_job(ctx: Any) -> str:
    """Background import of a large volunteer file the web saved to storage."""
    from django.core.files.storage import default_storage

    from kepu.core.jobs import JobFailed

    path = ctx.params["path"]

    def report(fraction: float, message: str = "") -> None:
        ctx.progress(0.05 + 0.9 * fraction, message)

    try:
        team = VolunteerTeam.objects.get(pk=ctx.params["team"])  # unscoped: checked below
        ctx.progress(0.02, "读取上传的文件")
        with default_storage.open(path, "rb") as fh:
            data = fh.read()
        try:
            n = volunteers_import(
                user=ctx.user,
                team=team,
                name=ctx.params["name"],
                data=data,
                progress=report,
            )
        except DataImportError as exc:
            errors = list(exc.errors)
            text = "；".join(errors[:20])
            more = f" (另有 {len(errors) - 20} 处错误)" if len(errors) > 20 else ""
            raise JobFailed(f"导入失败, 未导入任何志愿者: {text}{more}", "\n".join(errors)) from exc
    finally:
        default_storage.delete(path)
    return f"已向「{team.name}」导入 {n} 名科技志愿者。"


def certificate_docx(*, volunteer: Volunteer, year: int, records: list[ServiceRecord]) -> bytes:
    """A certificate of service hours (公文 layout); the identity number only masked."""
    from kepu.progress.documents import GongwenDocument

    hours = sum((r.hours for r in records), Decimal(0))
    doc = GongwenDocument("科技志愿服务时长证明")
    doc.para(
        f"兹证明 {volunteer.name} (身份证号 {volunteer.id_masked}) 系{volunteer.team.name}"
        f"科技志愿者, {year}年累计参加科技志愿服务 {len(records)} 次, "
        f"服务时长共计 {hours:g} 小时。"
    )
    doc.para("特此证明。")
    rows = [
        [
            f"{r.served_on:%Y-%m-%d}",
            r.description or (r.activity.title if r.activity else "") or "科技志愿服务",
            f"{r.hours:g}",
        ]
        for r in records[:CERTIFICATE_ROWS]
    ]
    if rows:
        doc.heading("服务记录")
        doc.table(["日期", "服务内容", "时长(小时)"], rows)
        if len(records) > CERTIFICATE_ROWS:
            doc.para(f"(另有 {len(records) - CERTIFICATE_ROWS} 条记录未列出)", indent=False)
    doc.signature(volunteer.team.office.name, timezone.localdate())
    return doc.bytes()


CERTIFICATE_ROWS = 200


__all__ = [
    "BaseFields",
    "ExpertFields",
    "MuseumFields",
    "TeamFields",
    "VolunteerFields",
    "base_apply",
    "base_certify",
    "base_endorse",
    "base_update",
    "certificate_docx",
    "expert_save",
    "museum_report_open",
    "museum_report_review",
    "museum_report_save",
    "museum_reports_xlsx",
    "museum_save",
    "review_open",
    "review_save",
    "review_score",
    "service_add",
    "service_delete",
    "service_update",
    "sheet_create",
    "sheet_from_xlsx",
    "sheet_xlsx",
    "system_figures",
    "team_save",
    "volunteer_save",
    "volunteer_template_xlsx",
    "volunteers_import",
    "volunteers_import_job",
]
