"""Writes for the annual statistics: catalogue import, collections, reports (fill,
upload, submit, review) and population import. Every write goes through the scoping
gate and leaves an audit trail (bulk rows through ``audit_rows``)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from kepu.audit.services import audit_import_summary, audit_rows
from kepu.core.files import DATA, SPREADSHEET, check_upload
from kepu.core.importing import (
    DataImportError,
    RowErrors,
    SheetLimits,
    csv_rows,
    decode_csv,
    xlsx_rows,
)
from kepu.core.models import Job
from kepu.core.types import UserLike, as_account
from kepu.core.versioning import version_check
from kepu.orgs.models import Organisation
from kepu.orgs.scoping import Action, office_admin_above, save_in_scope
from kepu.orgs.selectors import acting_office
from kepu.regions.models import Region
from kepu.statistics import core
from kepu.statistics.models import (
    Catalogue,
    Collection,
    CollectionTotal,
    Population,
    ReportStatus,
    StatReport,
)

CATALOGUE_LIMITS = SheetLimits(rows=2000, cells=40_000, unpacked_bytes=20 * 1024 * 1024)
REPORT_LIMITS = SheetLimits(rows=1000, cells=20_000, unpacked_bytes=10 * 1024 * 1024)
POPULATION_LIMITS = SheetLimits(rows=50_000, cells=500_000, unpacked_bytes=50 * 1024 * 1024)
MAX_EXPLANATION = 500


# --- catalogue ----------------------------------------------------------------------------
def catalogue_data_from_file(*, name: str, data: bytes, year: int | None = None) -> dict[str, Any]:
    """Catalogue data from an uploaded JSON or Excel file (raises DataImportError)."""
    lower = (name or "").lower()
    if lower.endswith(".json"):
        if len(data) > 5 * 1024 * 1024:
            raise DataImportError("目录文件过大 (上限 5 MB)。")
        try:
            parsed = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataImportError(f"目录文件不是有效的 JSON ({exc.__class__.__name__})。") from exc
        if not isinstance(parsed, dict):
            raise DataImportError("目录文件的内容应为一个 JSON 对象。")
        if year is not None:
            parsed["year"] = year
        return parsed
    try:
        check_upload(name, data, SPREADSHEET)
    except ValidationError as exc:
        raise DataImportError(exc.messages) from exc
    if year is None:
        raise DataImportError("从 Excel 导入目录时请填写年度。")
    try:
        return core.catalogue_from_rows(
            year, f"{year}年度科普统计指标目录", xlsx_rows(data, CATALOGUE_LIMITS)
        )
    except core.CatalogueError as exc:
        raise DataImportError(exc.errors) from exc


def catalogue_import(
    *, user: UserLike, data: Mapping[str, Any], source_name: str = ""
) -> Catalogue:
    """Create (or replace, while no collection uses it) the catalogue of a year."""
    if not user.is_superuser:
        raise PermissionDenied("只有系统管理员(全国统计主管)可以导入指标目录。")
    try:
        parsed = core.parse_catalogue(data)
    except core.CatalogueError as exc:
        raise DataImportError(exc.errors) from exc
    from kepu.statistics.prefill import SOURCES

    unknown = [
        f"指标「{i.code}」的预填来源「{i.prefill}」不存在。"
        for i in parsed.indicators
        if i.prefill and i.prefill not in SOURCES
    ]
    if unknown:
        raise DataImportError([*unknown, f"可用的预填来源: {'、'.join(sorted(SOURCES))}。"])
    clean = parsed.to_data()
    if note := str(data.get("note") or "")[:500]:
        clean["note"] = note
    with transaction.atomic():
        existing = Catalogue.objects.select_for_update().filter(year=parsed.year).first()
        if existing is not None:
            if existing.collections.exists():
                raise DataImportError(
                    f"{parsed.year}年度的目录已被统计调查使用, 不能替换; 请导入新年度的目录。"
                )
            version_check(existing, expected=None)
            existing.name, existing.data, existing.source_name = parsed.name, clean, source_name
            existing.save()
            return existing
        return Catalogue.objects.create(
            year=parsed.year, name=parsed.name, data=clean, source_name=source_name[:200]
        )


# --- collections --------------------------------------------------------------------------
@dataclass
class CollectionFields:
    title: str
    year: int
    due_date: dt.date | None = None
    jump_threshold: int = 50


Progress = Callable[[float, str], None]


def _collection_check(
    *, user: UserLike, catalogue: Catalogue, fields: CollectionFields, office_id: int | None
) -> Organisation:
    """The acting office, after the checks a new collection must pass (ValidationError)."""
    office = acting_office(user=user, owner_id=office_id, denied="只有办公室可以组织科普统计。")
    if catalogue.year != fields.year:
        raise ValidationError({"year": "统计年度与指标目录的年度不一致。"})
    if not 1 <= fields.jump_threshold <= 1000:
        raise ValidationError({"jump_threshold": "同比变动阈值应在 1 至 1000 之间。"})
    # unscoped: the office's own collection of that year (uniqueness check)
    if Collection.objects.filter(office=office, year=fields.year).exists():
        raise ValidationError({"year": f"本单位已组织{fields.year}年度的科普统计。"})
    return office


def collection_start(
    *, user: UserLike, catalogue: Catalogue, fields: CollectionFields, office_id: int | None = None
) -> Job:
    """Check the new collection at once (errors for the form), then create it and its
    reports in the background (:func:`kepu.statistics.jobs.collection_create_job`): a
    national collection writes 60,000 reports and as many audit rows."""
    from kepu.core.jobs import job_start

    office = _collection_check(user=user, catalogue=catalogue, fields=fields, office_id=office_id)
    return job_start(
        user=user,
        kind="statistics_collection",
        organisation=office,
        func="kepu.statistics.jobs.collection_create_job",
        params={
            "catalogue": catalogue.pk,
            "office": office.pk,
            "title": fields.title,
            "year": fields.year,
            "due_date": fields.due_date.isoformat() if fields.due_date else "",
            "jump_threshold": fields.jump_threshold,
        },
        title=f"生成{fields.year}年度科普统计报表: {office.name}",
    )


def collection_create(
    *,
    user: UserLike,
    catalogue: Catalogue,
    fields: CollectionFields,
    office_id: int | None = None,
    progress: Progress | None = None,
) -> Collection:
    """An office opens the year's collection: one report for every active organisation
    in its region (offices below included), with its department from the catalogue.

    All or nothing: the units are read first (``progress`` reports while reading), then
    the collection, its reports and their audit rows are written in one transaction."""
    office = _collection_check(user=user, catalogue=catalogue, fields=fields, office_id=office_id)
    departments = catalogue.parsed().departments
    units = (
        Organisation.objects.restrict(user, Action.VIEW)
        .filter(region__path__startswith=office.region.path, is_active=True)
        .select_related("region")
        .only("pk", "name", "kind", "region__path", "region__name", "region__code")
        .order_by("pk")
    )
    total = units.count() if progress else 0
    if progress:
        progress(0.02, f"辖区内共 {total} 个填报单位, 开始读取")
    by_name: dict[tuple[str, str], tuple[str, str]] = {}
    reports = []
    for n, org in enumerate(units.iterator(chunk_size=2000), start=1):
        key = (org.kind, org.name)
        dept = by_name.get(key)
        if dept is None:
            dept = by_name[key] = core.department_for(org.kind, org.name, departments)
        # related objects set (not ids): the audit rows read them without a query each
        reports.append(
            StatReport(
                organisation=org,
                region=org.region,
                department=dept[0],
                department_name=dept[1],
            )
        )
        if progress and n % 5000 == 0:
            progress(0.02 + 0.38 * n / max(total, 1), f"已读取 {n}/{total} 个填报单位")
    if progress:
        progress(0.4, f"写入统计调查和 {len(reports)} 份报表 (含审计记录)")
    with transaction.atomic():
        # checked again inside the transaction: another request may have opened it meanwhile
        if Collection.objects.select_for_update().filter(office=office, year=fields.year).exists():
            raise ValidationError({"year": f"本单位已组织{fields.year}年度的科普统计。"})
        collection = save_in_scope(
            user,
            Collection(
                catalogue=catalogue,
                year=fields.year,
                title=fields.title.strip()[:200] or f"{fields.year}年度科普统计",
                office=office,
                region=office.region,
                due_date=fields.due_date,
                jump_threshold=fields.jump_threshold,
            ),
            Action.ADD,
        )
        for rep in reports:
            rep.collection = collection
        StatReport.objects.bulk_create(reports, batch_size=2000)
        audit_rows(action="create", rows=reports, actor=user)
        # the whole collection's total (empty so far): the roll-up reads the kept totals
        CollectionTotal.objects.create(collection=collection)
    return collection


def _totals_add(report: StatReport) -> None:
    """Add a report just accepted to its collection's kept totals (inside the review's
    transaction). The whole-collection row is locked first, so concurrent accepts queue
    in one order; a collection without kept totals (opened before they existed) is
    rolled up from its reports instead."""
    collection = report.collection
    # unscoped: derived rows kept by the service that accepts (the review is checked)
    kept = CollectionTotal.objects.select_for_update()
    whole = kept.filter(collection=collection, group="", department="").first()
    if whole is None:
        return
    group = core.region_group(report.region.path, collection.region.path)
    row, _ = kept.get_or_create(collection=collection, group=group, department=report.department)
    for total in (row, whole):
        values = dict(total.values)
        for code, value in report.values.items():
            values[code] = int(values.get(code, 0)) + int(value)
        total.values = values
        total.reports += 1
        total.save(update_fields=["values", "reports"])


def collection_totals_rebuild(*, collection: Collection) -> int:
    """Recompute a collection's kept totals from its accepted reports (summed in the
    database); for repairs, data loaded outside the services, and the benchmark.
    Returns the number of rows written."""
    from django.db.models import F, Value
    from django.db.models.functions import Concat

    from kepu.statistics.selectors import group_key, group_sums

    codes = collection.catalogue.parsed().codes()
    # unscoped: every accepted report of the collection (an internal recomputation)
    qs = StatReport.objects.filter(collection=collection, status=ReportStatus.ACCEPTED)
    key = Concat(group_key("region", collection.region.path), Value("|"), F("department"))
    with transaction.atomic():
        sums = group_sums(qs, key=key, codes=codes)
        whole = dict.fromkeys(codes, 0)
        rows = []
        for k, values in sums.items():
            group, _, department = k.rpartition("|")
            n = values.pop("_reports")
            for code in codes:
                whole[code] += values[code]
            rows.append(
                CollectionTotal(
                    collection=collection,
                    group=group,
                    department=department,
                    reports=n,
                    values=values,
                )
            )
        rows.append(
            CollectionTotal(
                collection=collection,
                values=whole,
                reports=sum(r.reports for r in rows),
            )
        )
        CollectionTotal.objects.filter(collection=collection).delete()
        CollectionTotal.objects.bulk_create(rows)
    return len(rows)


# --- reports ------------------------------------------------------------------------------
def previous_values(report: StatReport) -> dict[str, int] | None:
    """The unit's accepted values of the year before (any collection), for the YoY check."""
    # unscoped: the same organisation's own report of last year (its history)
    prev = (
        StatReport.objects.filter(
            organisation_id=report.organisation_id,
            collection__year=report.collection.year - 1,
            status=ReportStatus.ACCEPTED,
        )
        .only("values")
        .first()
    )
    return dict(prev.values) if prev is not None else None


def _check_editable(user: UserLike, report: StatReport) -> None:
    if not report.editable:
        raise ValidationError(f"报表当前状态为「{report.get_status_display()}」, 不能修改。")
    if report.collection.status != "open":
        raise ValidationError("该统计调查已结束, 不能再修改。")


def report_save(
    *,
    user: UserLike,
    report: StatReport,
    raw: Mapping[str, Any],
    explanations: Mapping[str, str] | None = None,
    version: int | None = None,
    submit: bool = False,
) -> StatReport:
    """Save a unit's values (all cells integers, rules satisfied); ``submit`` also sends
    it for review, which needs an explanation for every year-over-year jump.

    Raises ValidationError whose ``error_dict`` maps indicator codes to Chinese messages
    (``explain:<code>`` for a missing explanation); nothing is saved then.
    """
    _check_editable(user, report)
    catalogue = report.collection.catalogue.parsed()
    values, errors = core.validate(catalogue, raw)
    notes = {
        code: str(text).strip()[:MAX_EXPLANATION]
        for code, text in (explanations or {}).items()
        if code in values and str(text).strip()
    }
    if not errors and submit:
        names = catalogue.by_code()
        for jump in core.yoy_jumps(
            values, previous_values(report), threshold_pct=report.collection.jump_threshold
        ):
            if not notes.get(jump.code):
                change = "由 0 增加" if jump.previous == 0 else f"变动 {jump.change_pct:+.0f}%"
                errors[f"explain:{jump.code}"] = [
                    f"「{names[jump.code].name}」较上年 ({jump.previous}) {change}, "
                    f"超过 {report.collection.jump_threshold}%, 请填写变动说明。"
                ]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        version_check(report, expected=version)
        report.values = values
        report.explanations = notes
        if submit:
            report.status = ReportStatus.SUBMITTED
            report.submitted_at = timezone.now()
        save_in_scope(user, report, Action.CHANGE)
    return report


REPORT_HEADER = ["代码", "指标名称", "类别", "单位", "类型", "数值", "变动说明"]


def report_upload(*, user: UserLike, report: StatReport, name: str, data: bytes) -> StatReport:
    """Fill a report from its Excel template (all-or-nothing, errors per cell)."""
    _check_editable(user, report)
    try:
        check_upload(name, data, SPREADSHEET)
    except ValidationError as exc:
        raise DataImportError(exc.messages) from exc
    catalogue = report.collection.catalogue.parsed()
    names = catalogue.by_code()
    rows = xlsx_rows(data, REPORT_LIMITS)
    header = next(rows, None) or []
    col = {h: i for i, h in enumerate(header)}
    missing = [h for h in ("代码", "数值") if h not in col]
    if missing:
        raise DataImportError(f"表格缺少列: {'、'.join(missing)} (请使用下载的填报模板)。")
    raw: dict[str, str] = {}
    notes: dict[str, str] = {}
    line_of: dict[str, int] = {}
    errs = RowErrors()
    for line, row in enumerate(rows, start=2):
        if not any(row):
            continue
        cells = row + [""] * (len(header) - len(row))
        code = cells[col["代码"]]
        if code not in names:
            errs.add(line, f"指标代码「{code[:20]}」不在{catalogue.year}年度目录中。")
            continue
        if code in raw:
            errs.add(line, f"指标「{code}」重复填写。")
            continue
        raw[code] = cells[col["数值"]]
        line_of[code] = line
        if "变动说明" in col and cells[col["变动说明"]]:
            notes[code] = cells[col["变动说明"]]
    values, cell_errors = core.validate(catalogue, raw)
    for code, msgs in cell_errors.items():
        for msg in msgs:
            errs.add(line_of.get(code, 0), f"{names[code].label}: {msg}")
    errs.raise_if_any()
    with transaction.atomic():
        version_check(report, expected=None)
        report.values = values
        report.explanations = {k: v[:MAX_EXPLANATION] for k, v in notes.items()}
        save_in_scope(user, report, Action.CHANGE)
        audit_import_summary(obj=report, what="values", rows=len(values), name=name, actor=user)
    return report


def can_review(user: UserLike, report: StatReport) -> bool:
    """An office administrator whose region contains the report (not the unit itself)."""
    return office_admin_above(
        user, region_path=report.region.path, organisation_id=report.organisation_id
    )


def report_review(
    *, user: UserLike, report: StatReport, accept: bool, comment: str = ""
) -> StatReport:
    if not can_review(user, report):
        raise PermissionDenied("只有上级办公室的管理员可以审核统计报表。")
    comment = comment.strip()[:1000]
    if report.status != ReportStatus.SUBMITTED:
        raise ValidationError("只能审核待审核的报表。")
    if not accept and not comment:
        raise ValidationError("退回时请填写审核意见。")
    with transaction.atomic():
        version_check(report, expected=None)
        report.status = ReportStatus.ACCEPTED if accept else ReportStatus.RETURNED
        report.comment = comment
        report.reviewed_by = as_account(user)
        report.reviewed_at = timezone.now()
        save_in_scope(user, report, Action.CHANGE)
        if accept:
            _totals_add(report)
    return report


# --- population ---------------------------------------------------------------------------
POPULATION_HEADER = ["区划代码", "区域名称", "年度", "常住人口(人)"]


def population_import(
    *, user: UserLike, name: str, data: bytes, progress: Progress | None = None
) -> int:
    """Import population per region and year (csv/xlsx: 区划代码, 年度, 常住人口(人)).

    All-or-nothing; every region must lie inside the importing office's region.
    Existing figures for the same region and year are replaced. Returns the row count.
    """
    office = acting_office(user=user, denied="只有办公室可以导入人口数据。")
    try:
        ext = check_upload(name, data, DATA)
    except ValidationError as exc:
        raise DataImportError(exc.messages) from exc
    if ext == ".csv":
        rows = csv_rows(decode_csv(data), max_rows=POPULATION_LIMITS.rows)
    else:
        rows = xlsx_rows(data, POPULATION_LIMITS)
    header = next(rows, None) or []
    col = {h: i for i, h in enumerate(header)}
    missing = [h for h in ("区划代码", "年度", "常住人口(人)") if h not in col]
    if missing:
        raise DataImportError(f"表格缺少列: {'、'.join(missing)}。")
    parsed: list[tuple[int, str, int, int]] = []
    errs = RowErrors()
    for line, row in enumerate(rows, start=2):
        if progress and line % 5000 == 0:
            progress(0.5, f"校验第 {line} 行")
        if not any(row):
            continue
        cells = row + [""] * (len(header) - len(row))
        code, year_text, pop_text = (cells[col[h]] for h in ("区划代码", "年度", "常住人口(人)"))
        if not (year_text.isdigit() and 2000 <= int(year_text) <= 2100):
            errs.add(line, f"年度「{year_text[:10]}」无效。")
            continue
        if not pop_text.replace(",", "").isdigit():
            errs.add(line, f"常住人口「{pop_text[:20]}」须为非负整数。")
            continue
        parsed.append((line, code, int(year_text), int(pop_text.replace(",", ""))))
    codes = {code for _, code, _, _ in parsed}
    regions = {
        r.code: r
        for r in Region.objects.filter(code__in=codes, path__startswith=office.region.path)
    }
    seen: set[tuple[str, int]] = set()
    for line, code, year, _ in parsed:
        if code not in regions:
            errs.add(line, f"区划代码「{code[:12]}」不存在或不在本单位辖区内。")
        elif (code, year) in seen:
            errs.add(line, f"区划「{code}」{year}年重复。")
        seen.add((code, year))
    errs.raise_if_any()
    if not parsed:
        raise DataImportError("文件中没有数据行。")
    if progress:
        progress(0.8, f"写入 {len(parsed)} 条人口数据")
    with transaction.atomic():
        keys = [(regions[c].pk, y) for _, c, y, _ in parsed]
        existing = {
            (p.region_id, p.year): p
            for p in Population.objects.restrict(user, Action.VIEW).filter(
                region_id__in={k[0] for k in keys}, year__in={k[1] for k in keys}
            )
        }
        new, changed, changes = [], [], []
        for _, code, year, pop in parsed:
            key = (regions[code].pk, year)
            if key in existing:
                row_ = existing[key]
                if row_.population != pop:
                    changes.append({"population": [row_.population, pop]})
                    row_.population, row_.owner = pop, office
                    changed.append(row_)
            else:
                new.append(
                    Population(region=regions[code], year=year, population=pop, owner=office)
                )
        # unscoped: the rows were read through restrict above or are new in the office's region
        other = Population.objects.filter(
            region_id__in={k[0] for k in keys}, year__in={k[1] for k in keys}
        ).exclude(pk__in=[p.pk for p in existing.values()])
        if other.exists():
            raise PermissionDenied("部分区域的人口数据由其他单位维护, 不能覆盖。")
        Population.objects.bulk_create(new, batch_size=2000)
        Population.objects.bulk_update(changed, ["population", "owner"], batch_size=2000)
        audit_rows(action="create", rows=new, actor=user)
        audit_rows(action="update", rows=changed, actor=user, changes=changes)
    return len(new) + len(changed)
