"""Bulk registration of activities from Excel: the lists units keep.

All or nothing: every row is parsed and checked first (no transaction open), with row
errors in Chinese (the first 100 listed, the rest counted); then one short atomic write
with ``bulk_create`` in batches, one history event and one audit entry per activity.
Lookups are done once for the whole file (organisers by name, regions by code), so a
file of 5,000 activities costs a handful of queries, not thousands.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from kepu.audit.services import audit_rows
from kepu.campaigns import services
from kepu.campaigns.models import Activity, ActivityEvent, ActivityType, Campaign, Mode, Status
from kepu.campaigns.selectors import registering_orgs
from kepu.core.files import SHEET, check_upload, new_workbook, workbook_bytes, write_row
from kepu.core.importing import DataImportError, RowErrors, SheetLimits, xlsx_rows
from kepu.core.types import UserLike, as_account
from kepu.orgs.scoping import Action, user_grants
from kepu.plans.models import KeyGroup
from kepu.regions.models import Region

LIMITS = SheetLimits(rows=20_000, cells=20_000 * 20, unpacked_bytes=200 * 1024 * 1024)
BATCH = 1000

# Column → header spellings accepted (first one is the template's).
COLUMNS: dict[str, tuple[str, ...]] = {
    "organiser": ("主办单位", "组织单位", "填报单位"),
    "title": ("活动名称", "名称"),
    "kind": ("活动类型", "类型"),
    "starts_at": ("开始时间", "活动开始时间"),
    "ends_at": ("结束时间", "活动结束时间"),
    "region": ("区划代码", "活动地点区划代码"),
    "address": ("详细地址", "活动地址", "活动地点"),
    "mode": ("形式", "活动形式", "线上线下"),
    "link": ("线上链接", "活动链接", "网址"),
    "audience": ("面向对象", "受众对象"),
    "key_groups": ("重点人群", "受众人群"),
    "expected_participants": ("预计参与人数", "预计人数"),
    "summary": ("活动简介", "活动内容"),
    "co_organisers": ("协办单位", "承办单位"),
    "contact_name": ("联系人",),
    "contact_phone": ("联系电话", "联系方式"),
}
REQUIRED = ("organiser", "title", "kind", "starts_at", "ends_at", "region")
_KINDS = {label: value for value, label in ActivityType.choices} | {
    v: v for v in ActivityType.values
}
_MODES = (
    {label: value for value, label in Mode.choices}
    | {v: v for v in Mode.values}
    | {
        "线上线下": Mode.BOTH,
        "线上+线下": Mode.BOTH,
    }
)
_GROUPS = {label: value for value, label in KeyGroup.choices} | {v: v for v in KeyGroup.values}
_TIME_FORMATS = (
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y年%m月%d日 %H:%M",
    "%Y-%m-%d",
)


def template_xlsx() -> bytes:
    wb = new_workbook()
    ws = wb.active
    ws.title = "活动登记"
    write_row(ws, 1, [names[0] for names in COLUMNS.values()])
    write_row(
        ws,
        2,
        [
            "(本单位名称)",
            "科普进社区健康讲座",
            "讲座",
            "2026-09-16 09:00",
            "2026-09-16 11:00",
            "530302",
            "某社区新时代文明实践站",
            "线下",
            "",
            "社区居民",
            "老年人",
            "100",
            "健康知识讲座",
            "",
            "张三",
            "0874-0000000",
        ],
    )
    return workbook_bytes(wb)


def _time(text: str) -> dt.datetime | None:
    text = text.strip().replace("T", " ")
    for fmt in _TIME_FORMATS:
        try:
            value = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return timezone.make_aware(value, timezone.get_current_timezone())
    return None


@dataclass
class ImportResult:
    created: int


def _cells(row: list[str], header: dict[str, int]) -> dict[str, str]:
    return {
        key: (row[i].strip() if (i := header.get(key)) is not None and i < len(row) else "")
        for key in COLUMNS
    }


def _header(row: list[str]) -> dict[str, int] | None:
    found: dict[str, int] = {}
    for i, cell in enumerate(row):
        for key, names in COLUMNS.items():
            if cell in names and key not in found:
                found[key] = i
    return found if {"title", "starts_at"} <= set(found) else None


def _organisers(user: UserLike, campaign: Campaign, names: set[str]) -> dict[str, Any]:
    """The organisations named in the file that ``user`` may register for, by full or short
    name (full names first), read in one query whatever the size of the user's region."""
    names.discard("")
    if not names:
        return {}
    found = (
        registering_orgs(user=user, campaign=campaign)
        .filter(Q(name__in=names) | Q(short_name__in=names))
        .select_related("region")
    )
    by_name: dict[str, Any] = {}
    by_short: dict[str, Any] = {}
    for org in found:
        by_name.setdefault(org.name, org)
        if org.short_name:
            by_short.setdefault(org.short_name, org)
    return {**by_short, **by_name}


def activities_import(
    *, user: UserLike, campaign: Campaign, name: str, data: bytes, today: dt.date | None = None
) -> ImportResult:
    check_upload(name, data, SHEET)
    if not services.registration_open(campaign, today=today):
        raise DataImportError(
            f"不在登记时间内 (登记时间 {campaign.registration_start:%Y-%m-%d} 至 "
            f"{campaign.registration_end:%Y-%m-%d})。"
        )
    errors = RowErrors()
    header: dict[str, int] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    parsed: list[tuple[int, Any, dict[str, Any]]] = []
    codes: set[str] = set()
    for line, row in enumerate(xlsx_rows(data, LIMITS), start=1):
        if not any(row):
            continue
        if header is None:
            header = _header(row)
            if header is None and line >= 10:
                break
            if header is not None:
                missing = [COLUMNS[k][0] for k in REQUIRED if k not in header]
                if missing:
                    raise DataImportError(
                        f"缺少必需的列: {'、'.join(missing)}; 找到的表头: {'、'.join(c for c in row if c)}"
                    )
            continue
        cells = _cells(row, header)

        if cells["title"].startswith("(") or cells["organiser"] == "(本单位名称)":
            continue  # the template's example row
        rows.append((line, cells))
    if header is None:
        raise DataImportError("没有找到表头 (需要「活动名称」「开始时间」等列); 请使用下载的模板。")
    by_name = _organisers(user, campaign, {cells["organiser"] for _, cells in rows})
    for line, cells in rows:
        values: dict[str, Any] = {}
        before = errors.total
        org = by_name.get(cells["organiser"])
        if org is None:
            errors.add(line, f"主办单位「{cells['organiser']}」不存在或您无权为其登记")
        kind = _KINDS.get(cells["kind"])
        if kind is None:
            errors.add(
                line, f"活动类型「{cells['kind']}」无效 (可选: {'、'.join(ActivityType.labels)})"
            )
        mode = _MODES.get(cells["mode"] or "线下")
        if mode is None:
            errors.add(line, f"形式「{cells['mode']}」无效 (线下、线上、线上线下结合)")
        starts, ends = _time(cells["starts_at"]), _time(cells["ends_at"])
        if starts is None or ends is None:
            errors.add(line, "开始时间和结束时间的格式应为 2026-09-16 09:00")
        groups = []
        for g in filter(
            None, (x.strip() for x in cells["key_groups"].replace(",", "、").split("、"))
        ):
            if g not in _GROUPS:
                errors.add(line, f"重点人群「{g}」无效")
            else:
                groups.append(_GROUPS[g])
        participants = cells["expected_participants"] or "0"
        if not participants.isdigit():
            errors.add(line, "预计参与人数必须是非负整数")
        if len(cells["title"]) > 200:
            errors.add(line, "活动名称过长 (最多 200 字)")
        codes.add(cells["region"])
        values.update(
            title=cells["title"],
            kind=kind or "",
            mode=mode or "",
            starts_at=starts,
            ends_at=ends,
            region_code=cells["region"],
            address=cells["address"][:300],
            link=cells["link"][:200],
            audience=cells["audience"][:200],
            key_groups=groups,
            expected_participants=int(participants) if participants.isdigit() else 0,
            summary=cells["summary"][:5000],
            co_organisers=cells["co_organisers"][:500],
            contact_name=cells["contact_name"][:50],
            contact_phone=cells["contact_phone"][:30],
        )
        if errors.total == before:
            parsed.append((line, org, values))
    if not parsed and not errors:
        raise DataImportError("表格中没有活动。")
    regions = {r.code: r for r in Region.objects.filter(code__in=codes)}
    office_paths = (
        [""]
        if user.is_superuser
        else [
            g.region_path
            for g in user_grants(user)
            if g.region_path is not None and Action.ADD in g.actions
        ]
    )
    activities: list[Activity] = []
    for line, org, values in parsed:
        region = regions.get(values.pop("region_code"))
        if region is None:
            errors.add(line, "区划代码不存在")
            continue
        fields = services.ActivityFields(region=region, **values)
        try:
            services.check_activity(campaign, fields)
        except ValidationError as exc:
            for msg in exc.messages:
                errors.add(line, msg)
            continue
        if not region.path.startswith(org.region.path) and not any(
            region.path.startswith(p) for p in office_paths
        ):
            errors.add(line, f"活动地点应在「{org.name}」所在的{org.region.name}范围内")
            continue
        activity = Activity(
            campaign=campaign, organiser=org, created_by=as_account(user), status=Status.SUBMITTED
        )
        for key, value in fields.__dict__.items():
            setattr(activity, key, value)
        activities.append(activity)
    errors.raise_if_any()
    with transaction.atomic():
        created = Activity.objects.bulk_create(activities, batch_size=BATCH)
        ActivityEvent.objects.bulk_create(
            [
                ActivityEvent(
                    activity=a, action="批量登记", to_status=a.status, user=as_account(user)
                )
                for a in created
            ],
            batch_size=BATCH,
        )
        audit_rows(action="create", rows=created, actor=user)
        # The gate decides after the write: every created row must be in the user's reach.
        if created:
            ids = [a.pk for a in created]
            allowed = Activity.objects.restrict(user, Action.ADD).filter(pk__in=ids).count()
            if allowed != len(ids):
                raise DataImportError("部分活动超出了您的权限范围, 未导入任何内容。")
    return ImportResult(created=len(created))
