"""Writes for plans: document upload → draft → confirm/cancel, and ledger import."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction

from kepu.core.files import DOCUMENT, check_upload
from kepu.orgs.models import Organisation, OrganisationAlias, OrgKind
from kepu.orgs.scoping import Action, ensure_in_scope, save_in_scope
from kepu.orgs.selectors import acting_office, organisation_match
from kepu.plans.models import (
    KEY_GROUP_WORDS,
    Plan,
    PlanDraft,
    PlanKind,
    Section,
    Target,
    Task,
    TaskUnit,
    UnitRole,
)
from kepu.plans.parsing.deadlines import deadline_fields, plan_year


def detect_key_groups(text: str) -> list[str]:
    return [group for group, words in KEY_GROUP_WORDS.items() if any(w in text for w in words)]


def office_for_upload(user: Any, owner_id: int | None = None) -> Organisation:
    """The office on whose behalf ``user`` imports a plan."""
    return acting_office(
        user=user, owner_id=owner_id, denied="只有办公室(科协、纲要办)管理员可以导入规划文件。"
    )


def parse_document(name: str, data: bytes) -> dict[str, Any]:
    """Run the pure parser; any failure becomes a ValidationError with a Chinese message."""
    from kepu.plans import parsing

    check_upload(name, data, DOCUMENT)
    try:
        result = parsing.parse_bytes(data, name)
    except parsing.ParseError as exc:
        raise ValidationError(f"无法解析文件「{name}」: {exc}") from exc
    parsed = result.to_dict()
    if not parsed.get("tasks"):
        raise ValidationError(f"文件「{name}」中没有识别出任务条目, 请检查文件内容。")
    return parsed


def plan_draft_create(
    *, user: Any, owner: Organisation, name: str, data: bytes, kind: str = PlanKind.OTHER
) -> PlanDraft:
    parsed = parse_document(name, data)
    draft = PlanDraft(
        owner=owner,
        region=owner.region,
        created_by=user,
        kind=PlanKind(kind),
        source_name=name[:255],
        parsed=parsed,
    )
    draft.source_file.save(name, ContentFile(data), save=False)
    try:
        return save_in_scope(user, draft, Action.ADD)
    except Exception:
        draft.source_file.delete(save=False)
        raise


def plan_draft_cancel(*, user: Any, draft: PlanDraft) -> None:
    ensure_in_scope(user, draft, Action.ADD)
    draft.source_file.delete(save=False)
    draft.delete()


@dataclass
class UnitChoice:
    """What the administrator decided for one unit name in the preview."""

    organisation_id: int | None = None
    add_alias: bool = False
    create_kind: str | None = None  # create a new organisation of this kind


@dataclass
class TaskEdit:
    index: int
    include: bool = True
    title: str | None = None
    lead: list[str] | None = None
    cooperate: list[str] | None = None
    responsible: list[str] | None = None  # unroled names only
    deadline: str | None = None  # 完成时限 as corrected in the preview


@dataclass
class PlanFields:
    title: str
    kind: str = PlanKind.OTHER
    issuer: str = ""
    doc_number: str = ""
    issued_on: dt.date | None = None
    period_start: int | None = None
    period_end: int | None = None
    tasks: list[TaskEdit] = field(default_factory=list)


def _unit_roles(task: dict[str, Any], edit: TaskEdit | None) -> list[tuple[str, str]]:
    """(name, role) pairs of a parsed task after the administrator's edits."""
    lead = edit.lead if edit and edit.lead is not None else task.get("lead", [])
    coop = edit.cooperate if edit and edit.cooperate is not None else task.get("cooperate", [])
    if edit and edit.responsible is not None:
        plain = edit.responsible
    else:
        plain = [n for n in task.get("responsible", []) if n not in lead and n not in coop]
    pairs: list[tuple[str, str]] = []
    for names, role in (
        (lead, UnitRole.LEAD),
        (coop, UnitRole.COOPERATE),
        (plain, UnitRole.RESPONSIBLE),
    ):
        for n in names:
            if (n, role) not in pairs:
                pairs.append((n, role))
    return pairs


def _resolve_units(
    *,
    user: Any,
    plan_region_org: Organisation,
    names: Iterable[str],
    choices: dict[str, UnitChoice],
) -> dict[str, Organisation | None]:
    visible = Organisation.objects.restrict(user, Action.VIEW)
    resolved: dict[str, Organisation | None] = {}
    for name in names:
        choice = choices.get(name)
        org: Organisation | None = None
        if choice and choice.create_kind:
            org = Organisation(
                name=name,
                kind=OrgKind(choice.create_kind),
                region=plan_region_org.region,
                is_member_unit=True,
            )
            org.full_clean()
            save_in_scope(user, org, Action.ADD)
        elif choice and choice.organisation_id:
            org = visible.filter(pk=choice.organisation_id).first()
            if org is None:
                raise PermissionDenied("所选组织不在您的范围内。")
            if choice.add_alias and name not in (org.name, org.short_name):
                ensure_in_scope(user, org, Action.CHANGE)
                OrganisationAlias.objects.get_or_create(organisation=org, name=name)
        elif choice is None:
            matches = organisation_match(name=name, candidates=visible)
            exact = [m for m in matches if m.how in ("exact", "alias")]
            if len(exact) == 1:
                org = visible.get(pk=exact[0].organisation_id)
        resolved[name] = org
    return resolved


def _sections_for(plan: Plan, paths: list[list[str]]) -> dict[tuple[str, ...], Section]:
    sections: dict[tuple[str, ...], Section] = {}
    order = 0
    for path in paths:
        for depth in range(1, len(path) + 1):
            key = tuple(path[:depth])
            if key in sections:
                continue
            order += 1
            sections[key] = Section.objects.create(
                plan=plan,
                parent=sections.get(key[:-1]),
                title=key[-1][:300],
                depth=depth - 1,
                order=order,
            )
    return sections


def _create_targets(plan: Plan, task: Task | None, targets: list[dict[str, Any]]) -> None:
    Target.objects.bulk_create(
        Target(
            plan=plan,
            task=task,
            text=str(t.get("text", ""))[:300],
            comparator=t["comparator"],
            value=float(t["value"]),
            unit=str(t.get("unit") or "")[:20],
            year=t.get("year"),
        )
        for t in targets
    )


def plan_create_from_parsed(
    *,
    user: Any,
    owner: Organisation,
    parsed: dict[str, Any],
    fields: PlanFields,
    unit_choices: dict[str, UnitChoice] | None = None,
    source_name: str = "",
    source_bytes: bytes | None = None,
    deadlines: dict[int, str] | None = None,
) -> Plan:
    """Create a plan with its sections, tasks, units and targets in one transaction."""
    unit_choices = unit_choices or {}
    edits = {e.index: e for e in fields.tasks}
    with transaction.atomic():
        plan = Plan(
            title=fields.title.strip()[:300] or "未命名规划",
            kind=PlanKind(fields.kind),
            region=owner.region,
            owner=owner,
            issuer=fields.issuer[:200],
            doc_number=fields.doc_number[:100],
            issued_on=fields.issued_on,
            period_start=fields.period_start,
            period_end=fields.period_end,
            source_name=source_name[:255],
            created_by=user if user.is_authenticated else None,
        )
        plan.full_clean(exclude=["source_file", "created_by"])
        if source_bytes is not None:
            plan.source_file.save(source_name or "plan.txt", ContentFile(source_bytes), save=False)
        save_in_scope(user, plan, Action.ADD)

        kept = [
            (i, t)
            for i, t in enumerate(parsed.get("tasks", []))
            if edits.get(i) is None or edits[i].include
        ]
        all_names: list[str] = []
        for i, t in kept:
            for name, _ in _unit_roles(t, edits.get(i)):
                if name not in all_names:
                    all_names.append(name)
        resolved = _resolve_units(
            user=user, plan_region_org=owner, names=all_names, choices=unit_choices
        )
        sections = _sections_for(plan, [list(t.get("path") or []) for _, t in kept])

        year = plan_year(
            (fields.period_start, fields.period_end)
            if fields.period_start and fields.period_end
            else None,
            fields.issued_on.isoformat() if fields.issued_on else None,
            fields.title,
        )
        for order, (i, t) in enumerate(kept, start=1):
            edit = edits.get(i)
            title = (edit.title if edit and edit.title else t.get("title") or "").strip()
            text = t.get("text") or title
            task = Task.objects.create(
                plan=plan,
                order=order,
                number=str(t.get("number") or "")[:20],
                title=title[:500] or text[:100],
                text=text,
                path=list(t.get("path") or []),
                section=sections.get(tuple(t.get("path") or [])),
                **deadline_fields(
                    t.get("deadline"),
                    text=edit.deadline
                    if edit and edit.deadline is not None
                    else (deadlines or {}).get(i),
                    year=year,
                ),
                key_groups=detect_key_groups(f"{title}{text}"),
            )
            TaskUnit.objects.bulk_create(
                TaskUnit(
                    task=task, name=name[:200], role=role, organisation=resolved.get(name), order=k
                )
                for k, (name, role) in enumerate(_unit_roles(t, edit))
            )
            _create_targets(plan, task, t.get("targets") or [])
        _create_targets(plan, None, parsed.get("targets") or [])
    return plan


def plan_draft_confirm(
    *, user: Any, draft: PlanDraft, fields: PlanFields, unit_choices: dict[str, UnitChoice]
) -> Plan:
    ensure_in_scope(user, draft, Action.ADD)
    with transaction.atomic():
        draft.source_file.open("rb")
        try:
            data = draft.source_file.read()
        finally:
            draft.source_file.close()
        plan = plan_create_from_parsed(
            user=user,
            owner=draft.owner,
            parsed=draft.parsed,
            fields=fields,
            unit_choices=unit_choices,
            source_name=draft.source_name,
            source_bytes=data,
        )
        draft_file = draft.source_file
        draft.delete()
        transaction.on_commit(lambda: draft_file.delete(save=False))
    return plan


def plan_delete(*, user: Any, plan: Plan) -> None:
    ensure_in_scope(user, plan, Action.DELETE)
    source = plan.source_file
    with transaction.atomic():
        plan.delete()
        if source:
            transaction.on_commit(lambda: source.delete(save=False))


def task_update_units(
    *,
    user: Any,
    task: Task,
    lead: list[str],
    cooperate: list[str],
    responsible: list[str],
    title: str | None = None,
) -> Task:
    """Correct a confirmed task's title and units (names matched again to organisations)."""
    ensure_in_scope(user, task.plan, Action.CHANGE)
    with transaction.atomic():
        if title:
            task.title = title[:500]
            task.save(update_fields=["title"])
        pairs = _unit_roles(
            {"lead": lead, "cooperate": cooperate, "responsible": responsible}, None
        )
        resolved = _resolve_units(
            user=user, plan_region_org=task.plan.owner, names=[n for n, _ in pairs], choices={}
        )
        task.units.all().delete()
        TaskUnit.objects.bulk_create(
            TaskUnit(task=task, name=n[:200], role=r, organisation=resolved.get(n), order=k)
            for k, (n, r) in enumerate(pairs)
        )
        ensure_in_scope(user, task, Action.CHANGE)
    return task


def task_set_deadline(*, user: Any, task: Task, text: str, due_on: dt.date | None = None) -> Task:
    """Set a task's 完成时限: the wording as written and its due date. Without an explicit
    ``due_on`` the date (or the recurrence) is read from the wording, with the plan's year."""
    ensure_in_scope(user, task.plan, Action.CHANGE)
    plan = task.plan
    year = plan_year(
        (plan.period_start, plan.period_end) if plan.period_start and plan.period_end else None,
        plan.issued_on.isoformat() if plan.issued_on else None,
        plan.title,
    )
    values = deadline_fields(text=text.strip(), year=year)
    if due_on is not None:
        values["due_on"] = due_on
        if not values["deadline"]:
            values["deadline"] = f"{due_on.year}年{due_on.month}月{due_on.day}日前"
    with transaction.atomic():
        for key, value in values.items():
            setattr(task, key, value)
        task.save(update_fields=list(values))
    return task
