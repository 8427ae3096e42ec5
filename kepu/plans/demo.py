"""Demo plan: the project's own invented work points, imported through the real parser."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from kepu.core.demo import DemoContext
from kepu.plans.models import Plan, PlanKind
from kepu.plans.services import PlanFields, parse_document, plan_create_from_parsed

DEMO_FILE = Path(__file__).parent / "demo_data" / "demo_plan.txt"
COUNTY_FILE = Path(__file__).parent / "demo_data" / "demo_county_plan.txt"


def load(ctx: DemoContext) -> None:
    _load(ctx, ctx.data["association"], DEMO_FILE, "2026年曲靖市全民科学素质行动工作要点")
    # A county's own work points, for linking its tasks to the city's (kepu.progress.demo).
    _load(
        ctx, ctx.data["county_associations"][0], COUNTY_FILE, "2026年麒麟区全民科学素质行动工作要点"
    )


def _load(ctx: DemoContext, association: Any, path: Path, default_title: str) -> None:
    data = path.read_bytes()
    parsed = parse_document(path.name, data)
    title = parsed.get("title") or default_title
    if Plan.objects.filter(owner=association, title=title).exists():
        return
    admin = ctx.user("admin", label="超级管理员", full_name="系统管理员", superuser=True)
    plan = plan_create_from_parsed(
        user=admin,
        owner=association,
        parsed=parsed,
        fields=PlanFields(
            title=title,
            kind=PlanKind.ANNUAL,
            issuer=parsed.get("issuer") or "",
            doc_number=parsed.get("doc_number") or "",
            issued_on=dt.date.fromisoformat(parsed["issued_on"])
            if parsed.get("issued_on")
            else None,
            period_start=(parsed.get("period") or [None, None])[0],
            period_end=(parsed.get("period") or [None, None])[1],
        ),
        source_name=f"{title}.txt",
        source_bytes=data,
    )
    ctx.notes.append(f"演示规划「{plan.title}」: {plan.tasks.count()} 项任务。")
