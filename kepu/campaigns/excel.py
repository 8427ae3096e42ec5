"""The campaign summary table (汇总表) in the campaign's own columns, and open-data rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.utils import timezone

from kepu.campaigns.models import Activity, Campaign
from kepu.core.files import CELL_STYLE, HEADER_STYLE, TITLE_STYLE
from kepu.plans.models import KeyGroup

_GROUPS = dict(KeyGroup.choices)


def _when(a: Activity) -> str:
    start, end = timezone.localtime(a.starts_at), timezone.localtime(a.ends_at)
    if start.date() == end.date():
        return f"{start:%Y-%m-%d %H:%M}—{end:%H:%M}"
    return f"{start:%Y-%m-%d %H:%M}—{end:%Y-%m-%d %H:%M}"


def _participants(a: Activity) -> int:
    return a.actual_participants if a.actual_participants is not None else a.expected_participants


# Column words of summary tables → how to fill them. Unknown columns stay empty.
COLUMN_VALUES: dict[str, Callable[[Activity], Any]] = {
    "活动名称": lambda a: a.title,
    "活动主题": lambda a: a.title,
    "活动时间": _when,
    "活动日期": lambda a: f"{timezone.localtime(a.starts_at):%Y-%m-%d}",
    "起止时间": _when,
    "开始时间": lambda a: f"{timezone.localtime(a.starts_at):%Y-%m-%d %H:%M}",
    "结束时间": lambda a: f"{timezone.localtime(a.ends_at):%Y-%m-%d %H:%M}",
    "活动地点": lambda a: f"{a.region.name} {a.address}".strip(),
    "活动地址": lambda a: a.address,
    "举办地点": lambda a: f"{a.region.name} {a.address}".strip(),
    "活动形式": lambda a: a.get_mode_display(),
    "活动方式": lambda a: a.get_mode_display(),
    "线上线下": lambda a: a.get_mode_display(),
    "活动类型": lambda a: a.get_kind_display(),
    "活动内容": lambda a: a.summary,
    "活动简介": lambda a: a.summary,
    "主要内容": lambda a: a.summary,
    "内容简介": lambda a: a.summary,
    "主办单位": lambda a: a.organiser.name,
    "组织单位": lambda a: a.organiser.name,
    "举办单位": lambda a: a.organiser.name,
    "填报单位": lambda a: a.organiser.name,
    "单位名称": lambda a: a.organiser.name,
    "承办单位": lambda a: a.co_organisers,
    "协办单位": lambda a: a.co_organisers,
    "参与人数": _participants,
    "参加人数": _participants,
    "受众人数": _participants,
    "受益人数": _participants,
    "参与人次": _participants,
    "覆盖人数": _participants,
    "预计参与人数": lambda a: a.expected_participants,
    "受众对象": lambda a: a.audience,
    "面向对象": lambda a: a.audience,
    "受众人群": lambda a: "、".join(_GROUPS.get(g, g) for g in a.key_groups),
    "重点人群": lambda a: "、".join(_GROUPS.get(g, g) for g in a.key_groups),
    "联系人": lambda a: a.contact_name,
    "联系电话": lambda a: a.contact_phone,
    "联系方式": lambda a: a.contact_phone,
    "网址": lambda a: a.link,
    "活动链接": lambda a: a.link,
    "链接": lambda a: a.link,
    "志愿者人数": lambda a: "",
    "所在地区": lambda a: a.region.name,
    "所在乡镇": lambda a: a.region.name,
    "状态": lambda a: a.get_status_display(),
}
DEFAULT_COLUMNS = ["序号", "活动名称", "活动时间", "活动地点"]
# Always present after the document's own columns (the office needs them to count).
EXTRA_COLUMNS = ["主办单位", "活动类型", "参与人数", "状态"]


def summary_columns(campaign: Campaign) -> list[str]:
    columns = list(campaign.summary_columns or DEFAULT_COLUMNS)
    for extra in EXTRA_COLUMNS:
        equivalent = {
            "主办单位": {"主办单位", "组织单位", "举办单位", "填报单位"},
            "参与人数": {"参与人数", "参加人数", "受众人数", "受益人数", "参与人次"},
        }.get(extra, {extra})
        if not equivalent & set(columns):
            columns.append(extra)
    return columns


def summary_rows(campaign: Campaign, activities: Iterable[Activity]) -> Iterable[list[Any]]:
    columns = summary_columns(campaign)
    for i, a in enumerate(activities, start=1):
        yield [i if c == "序号" else COLUMN_VALUES.get(c, lambda _a: "")(a) for c in columns]


def summary_xlsx(
    *,
    campaign: Campaign,
    activities: Any,
    title_suffix: str = "",
    out: Any = None,
    progress: Any = None,
) -> bytes:
    """The summary table in constant memory (openpyxl write-only, named styles): a title row,
    the document's columns, one row per activity. Writes to ``out`` (a path or binary file)
    when given and returns b"", else returns the bytes. ``progress(rows)`` every 1,000 rows."""
    import io

    from openpyxl.utils import get_column_letter

    from kepu.core.files import (
        add_office_styles,
        append_streaming_row,
        new_streaming_workbook,
        office_page_setup,
    )

    columns = summary_columns(campaign)
    wb = new_streaming_workbook()
    add_office_styles(wb)
    ws = wb.create_sheet("汇总表")
    for i, c in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(8, min(40, len(c) * 3))
    office_page_setup(ws, header_row=2)
    title = f"{campaign.title}汇总表" + (f" ({title_suffix})" if title_suffix else "")
    append_streaming_row(ws, [title], TITLE_STYLE)
    append_streaming_row(ws, columns, HEADER_STYLE)
    rows = activities.select_related("organiser", "region").iterator(chunk_size=2000)
    for n, values in enumerate(summary_rows(campaign, rows), start=1):
        append_streaming_row(ws, values, CELL_STYLE)
        if progress is not None and n % 1000 == 0:
            progress(n)
    _rollup_sheet(wb, campaign, activities)
    if out is not None:
        wb.save(out)
        return b""
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


ROLLUP_HEADER = ["区域", "单位类型", "登记活动", "已发布活动", "已完成活动", "实际参与人次"]


def _rollup_sheet(wb: Any, campaign: Campaign, activities: Any) -> None:
    """Second sheet: the same activities per region (child of the campaign's region) ×
    kind of organiser, with a total row. One grouped query."""
    from kepu.campaigns.selectors import activity_rollup
    from kepu.core.files import append_streaming_row

    ws = wb.create_sheet("按区域和单位类型")
    for letter, width in zip("ABCDEF", (18, 16, 12, 12, 12, 14), strict=True):
        ws.column_dimensions[letter].width = width
    append_streaming_row(ws, [f"{campaign.title} 按区域和单位类型汇总"], TITLE_STYLE)
    append_streaming_row(ws, ROLLUP_HEADER, HEADER_STYLE)
    totals = [0, 0, 0, 0]
    for r in activity_rollup(campaign=campaign, activities=activities):
        values = [r["registered"], r["published"], r["completed"], r["people"]]
        totals = [a + b for a, b in zip(totals, values, strict=True)]
        append_streaming_row(ws, [r["region"].name, r["kind_label"], *values], CELL_STYLE)
    append_streaming_row(ws, ["合计", "", *totals], HEADER_STYLE)


# Public open data: published activities without personal fields.
OPEN_DATA_FIELDS = [
    ("id", "编号"),
    ("title", "活动名称"),
    ("kind", "活动类型"),
    ("starts_at", "开始时间"),
    ("ends_at", "结束时间"),
    ("region_code", "区划代码"),
    ("region", "区划"),
    ("address", "地址"),
    ("mode", "形式"),
    ("link", "线上链接"),
    ("organiser", "主办单位"),
    ("audience", "面向对象"),
    ("key_groups", "重点人群"),
    ("expected_participants", "预计参与人数"),
    ("latitude", "纬度"),
    ("longitude", "经度"),
]


def open_data_row(a: Activity) -> dict[str, Any]:
    return {
        "id": a.pk,
        "title": a.title,
        "kind": a.get_kind_display(),
        "starts_at": timezone.localtime(a.starts_at).isoformat(),
        "ends_at": timezone.localtime(a.ends_at).isoformat(),
        "region_code": a.region.code,
        "region": a.region.name,
        "address": a.address,
        "mode": a.get_mode_display(),
        "link": a.link,
        "organiser": a.organiser.name,
        "audience": a.audience,
        "key_groups": [_GROUPS.get(g, g) for g in a.key_groups],
        "expected_participants": a.expected_participants,
        "latitude": float(a.latitude) if a.latitude is not None else None,
        "longitude": float(a.longitude) if a.longitude is not None else None,
    }
