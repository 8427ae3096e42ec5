"""Excel ledger import through the same preview as documents, and duplicate warnings.

The ledger is parsed by the pure :mod:`kepu.plans.parsing.ledger` (title rows, merged
section rows, brackets inside unit names, extra columns, the platform's own export)
into a draft; unknown units are then offered for mapping or creation in the preview
instead of failing the whole file.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db.models import Count

from kepu.core.files import SHEET, check_upload
from kepu.core.types import UserLike, as_account
from kepu.orgs.models import Organisation
from kepu.orgs.scoping import Action, save_in_scope
from kepu.plans.models import Plan, PlanDraft, PlanKind, Task
from kepu.plans.parsing import ParseError
from kepu.plans.parsing.deadlines import plan_year
from kepu.plans.parsing.ledger import parse_ledger


def ledger_to_parsed(ledger: dict[str, Any], title: str = "") -> dict[str, Any]:
    """The ledger JSON in the shape of a parsed document (sections become paths)."""
    title = title.strip() or ledger.get("title") or ""
    year = plan_year(None, None, title)
    return {
        "title": title or None,
        "issuer": None,
        "doc_number": None,
        "issued_on": None,
        "period": [year, year] if year else None,
        "tasks": [
            {
                **{k: v for k, v in t.items() if k != "section"},
                "path": [t["section"]] if t.get("section") else [],
            }
            for t in ledger.get("tasks", [])
        ],
        "targets": [],
        "sections": [],
    }


def duplicate_warnings(*, owner: Organisation, parsed: dict[str, Any]) -> list[str]:
    """Warn when the same document or ledger seems to be imported again."""
    warnings: list[str] = []
    title = (parsed.get("title") or "").strip()
    if title:
        for plan in Plan.objects.filter(owner=owner, title=title).only("title", "created_at")[:3]:
            warnings.append(
                f"已有同名规划「{plan.title}」(导入于 {plan.created_at:%Y-%m-%d}), 请确认不是重复导入。"
            )
    titles = list({t.get("title") for t in parsed.get("tasks", []) if t.get("title")})[:1000]
    if len(titles) >= 3:
        overlaps = (
            Task.objects.filter(plan__owner=owner, title__in=titles)
            .values("plan_id", "plan__title")
            .annotate(n=Count("pk"))
            .order_by("-n")[:3]
        )
        for row in overlaps:
            if row["n"] >= 0.8 * len(titles) and row["plan__title"] != title:
                warnings.append(
                    f"规划「{row['plan__title']}」中已有 {row['n']} 项同名任务 "
                    f"(本次共 {len(titles)} 项), 可能是重复导入。"
                )
    return warnings


def ledger_draft_create(
    *,
    user: UserLike,
    owner: Organisation,
    name: str,
    data: bytes,
    title: str = "",
    kind: str = PlanKind.ANNUAL,
) -> tuple[PlanDraft, list[str]]:
    """Parse an Excel ledger (.xlsx or .xls) into a draft for the preview; returns (draft, warnings)."""
    check_upload(name, data, SHEET)
    try:
        ledger = parse_ledger(data)
    except ParseError as exc:
        raise ValidationError(f"无法解析台账「{name}」: {exc}") from exc
    if not ledger["tasks"]:
        raise ValidationError(f"台账「{name}」中没有任务行。")
    parsed = ledger_to_parsed(ledger, title)
    draft = PlanDraft(
        owner=owner,
        region=owner.region,
        created_by=as_account(user),
        kind=PlanKind(kind),
        source_name=name[:255],
        parsed=parsed,
    )
    draft.source_file.save(name, ContentFile(data), save=False)
    try:
        save_in_scope(user, draft, Action.ADD)
    except Exception:
        draft.source_file.delete(save=False)
        raise
    return draft, duplicate_warnings(owner=owner, parsed=parsed)
