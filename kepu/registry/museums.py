"""Checks of a science museum's annual report (pure: plain values in, Chinese messages out).

``report_errors`` returns ``{field: message}``; an empty dict means the report is valid.
Saving a draft checks the figures; submitting also requires the texts.
"""

from __future__ import annotations

import calendar
from decimal import Decimal
from typing import Any

SUMMARY_MIN_CHARS = 20
MAX_VISITORS_A_DAY = 100_000


def report_errors(
    figures: dict[str, Any],
    *,
    year: int,
    current_year: int,
    summary: str = "",
    subsidy_use: str = "",
    free_entry: bool = True,
    submit: bool = False,
) -> dict[str, str]:
    errors: dict[str, str] = {}

    def n(key: str) -> Decimal:
        value = figures.get(key)
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)

    for key, value in figures.items():
        if value not in (None, "") and Decimal(str(value)) < 0:
            errors[key] = "不能为负数。"
    if year > current_year:
        errors["year"] = "年度报告填报已结束的或当前的自然年度。"
    days = 366 if calendar.isleap(year) else 365
    if n("opening_days") > days:
        errors["opening_days"] = f"{year}年只有 {days} 天。"
    if n("opening_days") == 0 and n("visitors") > 0:
        errors["opening_days"] = "有接待观众时开放天数不能为 0。"
    if n("opening_days") > 0 and n("visitors") > n("opening_days") * MAX_VISITORS_A_DAY:
        errors["visitors"] = f"日均接待超过 {MAX_VISITORS_A_DAY:,} 人次, 请核实。"
    if n("staff_full_time") > n("staff"):
        errors["staff_full_time"] = "科普专职人员不能多于从业人员。"
    if n("education_activities") > 0 and n("education_participants") == 0:
        errors["education_participants"] = "举办了教育活动, 请填写参与人次。"
    if n("education_participants") > 0 and n("education_activities") == 0:
        errors["education_activities"] = "有参与人次时教育活动场次不能为 0。"
    if n("satisfaction") > 100:
        errors["satisfaction"] = "满意度是百分比, 不能超过 100。"
    if n("subsidy_used") > n("subsidy_received"):
        errors["subsidy_used"] = "补助资金使用不能超过到位资金。"
    if not free_entry and n("subsidy_received") > 0:
        errors["subsidy_received"] = "未免费开放的场馆不应有免费开放补助资金。"
    if submit:
        if len((summary or "").strip()) < SUMMARY_MIN_CHARS:
            errors["summary"] = f"提交前请填写年度工作总结 (不少于 {SUMMARY_MIN_CHARS} 字)。"
        if n("subsidy_received") > 0 and not (subsidy_use or "").strip():
            errors["subsidy_use"] = "有免费开放补助资金时, 请说明资金使用情况。"
        if n("opening_days") == 0:
            errors.setdefault("opening_days", "提交前请填写全年开放天数。")
    return errors
