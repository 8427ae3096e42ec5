"""Ledger (任务台账) import from Excel: read and check every row first, then create the
plan in one short transaction (:func:`kepu.plans.services.plan_create_from_parsed`).

Public entry: :func:`kepu.plans.services.ledger_import`.
"""

from __future__ import annotations

from typing import Any

from kepu.core.files import SHEET, check_upload
from kepu.core.importing import DataImportError, RowErrors, SheetLimits, xlsx_rows
from kepu.core.types import UserLike
from kepu.orgs.models import Organisation
from kepu.orgs.scoping import Action
from kepu.orgs.services import split_names

# A national office's ledger has up to 200,000 tasks; beyond that the file is refused.
LEDGER_LIMITS = SheetLimits(rows=200_000, cells=200_000 * 12, unpacked_bytes=400 * 1024 * 1024)
HEADER_SEARCH_ROWS = 10

# Header spellings seen in real ledgers → our column.
HEADER_ALIASES = {
    "序号": "number",
    "编号": "number",
    "任务内容": "content",
    "重点任务": "content",
    "工作任务": "content",
    "任务": "content",
    "工作内容": "content",
    "具体任务": "content",
    "牵头单位": "lead",
    "责任单位": "lead",
    "牵头部门": "lead",
    "配合单位": "cooperate",
    "配合部门": "cooperate",
    "参与单位": "cooperate",
    "目标任务": "targets",
    "目标": "targets",
    "工作目标": "targets",
    "完成时限": "deadline",
    "完成时间": "deadline",
    "时限": "deadline",
}


def _header_columns(row: list[str]) -> dict[str, int]:
    mapping: dict[str, int] = {}
    for col, value in enumerate(row):
        key = HEADER_ALIASES.get(value.replace(" ", "").replace("\n", ""))
        if key and key not in mapping:
            mapping[key] = col
    return mapping


def _targets_of(text: str) -> list[dict[str, Any]]:
    if not text:
        return []
    from kepu.plans import parsing

    try:
        result = parsing.parse_text(text).to_dict()
    except parsing.ParseError:
        return []
    found = list(result.get("targets") or [])
    for task in result.get("tasks") or []:
        found.extend(task.get("targets") or [])
    return found


def ledger_rows(
    *, user: UserLike, name: str, data: bytes
) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """Read a ledger workbook into parsed tasks and their deadlines, or raise
    :class:`DataImportError` with every row error (the first 100 listed)."""
    from kepu.plans.services import exact_organisations

    check_upload(name, data, SHEET)
    rows = xlsx_rows(data, LEDGER_LIMITS)
    cols: dict[str, int] | None = None
    errors = RowErrors()
    raw: list[tuple[int, dict[str, str]]] = []
    for line, row in enumerate(rows, start=1):
        if cols is None:
            found = _header_columns(row)
            if "content" in found:
                cols = found
            elif line >= HEADER_SEARCH_ROWS:
                break
            continue
        if not any(row):
            continue
        raw.append((line, {k: (row[c] if c < len(row) else "") for k, c in cols.items()}))
    if cols is None:
        raise DataImportError(
            "找不到表头: 需要包含「任务内容」列 (以及「牵头单位」「配合单位」等)。"
        )

    names: list[str] = []
    for _, values in raw:
        for key in ("lead", "cooperate"):
            names.extend(split_names(values.get(key, "")))
    visible = Organisation.objects.restrict(user, Action.VIEW)
    known = exact_organisations(names=names, candidates=visible)

    tasks: list[dict[str, Any]] = []
    deadlines: dict[int, str] = {}
    for line, values in raw:
        content = values.get("content", "")
        if not content:
            errors.add(line, "「任务内容」为空。")
            continue
        lead, coop = split_names(values.get("lead", "")), split_names(values.get("cooperate", ""))
        for label, unit_names in (("牵头单位", lead), ("配合单位", coop)):
            for unit in unit_names:
                if not known.get(unit):
                    errors.add(
                        line,
                        f"{label}「{unit}」在组织库中找不到对应组织 "
                        "(请先新建该组织或为其添加别名)。",
                    )
        if not lead and not coop:
            errors.add(line, "没有填写牵头单位。")
        if errors:
            continue  # nothing will be saved: skip the target parsing of later rows
        title_text = content.split("。", 1)[0].strip() or content
        tasks.append(
            {
                "path": [],
                "number": values.get("number") or None,
                "title": title_text[:500],
                "text": content,
                "lead": lead,
                "cooperate": coop,
                "responsible": lead + coop,
                "targets": _targets_of(values.get("targets", "")) or _targets_of(content),
            }
        )
        deadlines[len(tasks) - 1] = values.get("deadline", "")
    if not tasks and not errors:
        errors.add_general("表格中没有任务行。")
    errors.raise_if_any()
    return tasks, deadlines
