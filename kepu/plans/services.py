"""Writes for plans: document upload → draft → confirm/cancel, and ledger import.

Imports parse and check everything first, outside any transaction; the writes then
happen in one short atomic block with ``bulk_create`` in batches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q, QuerySet

from kepu.audit.services import audit_rows
from kepu.core.files import DOCUMENT, check_upload
from kepu.core.importing import DataImportError
from kepu.core.types import UserLike, as_account
from kepu.core.versioning import version_check
from kepu.orgs.models import Organisation, OrganisationAlias, OrgKind
from kepu.orgs.scoping import Action, ensure_in_scope, save_in_scope
from kepu.orgs.selectors import acting_office
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


def office_for_upload(user: UserLike, owner_id: int | None = None) -> Organisation:
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
    *, user: UserLike, owner: Organisation, name: str, data: bytes, kind: str = PlanKind.OTHER
) -> PlanDraft:
    parsed = parse_document(name, data)
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
        return save_in_scope(user, draft, Action.ADD)
    except Exception:
        draft.source_file.delete(save=False)
        raise


def plan_draft_cancel(*, user: UserLike, draft: PlanDraft) -> None:
    with transaction.atomic():
        draft = _lock_draft(draft)
        ensure_in_scope(user, draft, Action.ADD)
        draft_file = draft.source_file
        draft.delete()
    draft_file.delete(save=False)  # after the row is gone for good


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


def exact_organisations(
    *, names: Iterable[str], candidates: QuerySet[Organisation]
) -> dict[str, list[int]]:
    """Each name's organisations among ``candidates`` by exact name or short name, else by
    alias (the same rule as ``organisation_match``'s exact and alias matches), in a few
    queries for any number of names."""
    wanted = sorted({n.strip() for n in names if n and n.strip()})
    found: dict[str, list[int]] = {n: [] for n in wanted}
    for start in range(0, len(wanted), 500):
        batch = wanted[start : start + 500]
        for pk, name, short in candidates.filter(
            Q(name__in=batch) | Q(short_name__in=batch)
        ).values_list("pk", "name", "short_name"):
            for key in {name, short}:
                if key in found and pk not in found[key]:
                    found[key].append(pk)
    by_alias = [n for n in wanted if not found[n]]
    for start in range(0, len(by_alias), 500):
        batch = by_alias[start : start + 500]
        for pk, alias in (
            OrganisationAlias.objects.filter(organisation__in=candidates, name__in=batch)
            .values_list("organisation_id", "name")
            .distinct()
        ):
            if pk not in found[alias]:
                found[alias].append(pk)
    return found


def _match_units(
    *, user: UserLike, names: Iterable[str], choices: dict[str, UnitChoice]
) -> dict[str, int | None]:
    """Read-only part of unit resolution (run before the write transaction): names without
    a choice are matched when exactly one organisation has that name or alias."""
    visible = Organisation.objects.restrict(user, Action.VIEW)
    plain = [n for n in names if n not in choices]
    exact = exact_organisations(names=plain, candidates=visible)
    return {n: (exact[n][0] if len(exact.get(n, [])) == 1 else None) for n in plain}


def _resolve_units(
    *,
    user: UserLike,
    plan_region_org: Organisation,
    names: Iterable[str],
    choices: dict[str, UnitChoice],
    matched: dict[str, int | None] | None = None,
) -> dict[str, Organisation | None]:
    names = list(names)
    if matched is None:
        matched = _match_units(user=user, names=names, choices=choices)
    visible = Organisation.objects.restrict(user, Action.VIEW)
    wanted_ids = {c.organisation_id for c in choices.values() if c.organisation_id}
    wanted_ids |= {pk for pk in matched.values() if pk}
    orgs = visible.in_bulk(list(wanted_ids)) if wanted_ids else {}
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
            org = orgs.get(choice.organisation_id)
            if org is None:
                raise PermissionDenied("所选组织不在您的范围内。")
            if choice.add_alias and name not in (org.name, org.short_name):
                ensure_in_scope(user, org, Action.CHANGE)
                OrganisationAlias.objects.get_or_create(organisation=org, name=name)
        elif choice is None and matched.get(name):
            org = orgs.get(matched[name])
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


def _target(plan: Plan, task: Task | None, t: dict[str, Any]) -> Target:
    return Target(
        plan=plan,
        task=task,
        text=str(t.get("text", ""))[:300],
        comparator=t["comparator"],
        value=float(t["value"]),
        unit=str(t.get("unit") or "")[:20],
        year=t.get("year"),
    )


WRITE_BATCH = 2000
PERIOD_YEARS = (1949, 2100)


def validate_plan_fields(fields: PlanFields) -> None:
    """Refuse impossible plan fields with Chinese messages (all of them at once)."""
    errors: list[str] = []
    if fields.kind not in PlanKind.values:
        errors.append(f"类型「{fields.kind}」无效, 请从列表中选择。")
    lo, hi = PERIOD_YEARS
    for label, year in (("起始年", fields.period_start), ("截止年", fields.period_end)):
        if year is not None and not lo <= year <= hi:
            errors.append(f"时期的{label}「{year}」应在 {lo} 到 {hi} 之间。")
    if (
        fields.period_start is not None
        and fields.period_end is not None
        and fields.period_start > fields.period_end
    ):
        errors.append("时期的起始年不能晚于截止年。")
    if fields.issued_on is not None and not lo <= fields.issued_on.year <= hi:
        errors.append(f"发文日期应在 {lo} 到 {hi} 年之间。")
    if errors:
        raise ValidationError(errors)


def plan_create_from_parsed(
    *,
    user: UserLike,
    owner: Organisation,
    parsed: dict[str, Any],
    fields: PlanFields,
    unit_choices: dict[str, UnitChoice] | None = None,
    source_name: str = "",
    source_bytes: bytes | None = None,
    deadlines: dict[int, str] | None = None,
) -> Plan:
    """Create a plan with its sections, tasks, units and targets in one transaction.

    Unit names are matched before the transaction opens; inside it, rows are written
    with ``bulk_create`` in batches.
    """
    validate_plan_fields(fields)
    unit_choices = unit_choices or {}
    edits = {e.index: e for e in fields.tasks}
    kept = [
        (i, t)
        for i, t in enumerate(parsed.get("tasks", []))
        if edits.get(i) is None or edits[i].include
    ]
    roles = {i: _unit_roles(t, edits.get(i)) for i, t in kept}
    all_names = list(dict.fromkeys(name for pairs in roles.values() for name, _ in pairs))
    matched = _match_units(user=user, names=all_names, choices=unit_choices)
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

        resolved = _resolve_units(
            user=user,
            plan_region_org=owner,
            names=all_names,
            choices=unit_choices,
            matched=matched,
        )
        sections = _sections_for(plan, [list(t.get("path") or []) for _, t in kept])

        year = plan_year(
            (fields.period_start, fields.period_end)
            if fields.period_start and fields.period_end
            else None,
            fields.issued_on.isoformat() if fields.issued_on else None,
            fields.title,
        )
        tasks: list[Task] = []
        for order, (i, t) in enumerate(kept, start=1):
            edit = edits.get(i)
            title = (edit.title if edit and edit.title else t.get("title") or "").strip()
            text = t.get("text") or title
            tasks.append(
                Task(
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
            )
        Task.objects.bulk_create(tasks, batch_size=WRITE_BATCH)
        units: list[TaskUnit] = []
        targets: list[Target] = []
        for task, (i, t) in zip(tasks, kept, strict=True):
            units.extend(
                TaskUnit(
                    task=task, name=name[:200], role=role, organisation=resolved.get(name), order=k
                )
                for k, (name, role) in enumerate(roles[i])
            )
            targets.extend(_target(plan, task, g) for g in t.get("targets") or [])
        targets.extend(_target(plan, None, g) for g in parsed.get("targets") or [])
        TaskUnit.objects.bulk_create(units, batch_size=WRITE_BATCH)
        Target.objects.bulk_create(targets, batch_size=WRITE_BATCH)
        audit_rows(action="create", rows=[*tasks, *units, *targets], actor=user)
    return plan


class DraftGone(ValidationError):
    """The draft was confirmed or cancelled by someone else meanwhile."""

    def __init__(self) -> None:
        super().__init__("该导入草稿已被确认或取消 (可能是重复提交或他人已处理), 未重复保存。")


def _lock_draft(draft: PlanDraft) -> PlanDraft:
    """Lock the draft's row for this transaction; raise :class:`DraftGone` if it is gone.

    On PostgreSQL a second confirm waits here until the first commits and then finds the
    row deleted; on SQLite the IMMEDIATE transaction serialises writers the same way.
    """
    locked = PlanDraft.objects.select_for_update().filter(pk=draft.pk).first()
    if locked is None:
        raise DraftGone()
    return locked


def plan_draft_confirm(
    *, user: UserLike, draft: PlanDraft, fields: PlanFields, unit_choices: dict[str, UnitChoice]
) -> Plan:
    """Turn a draft into a plan. Exactly one of several concurrent confirms succeeds; the
    others get :class:`DraftGone` (a ValidationError with a Chinese message)."""
    validate_plan_fields(fields)
    with transaction.atomic():
        draft = _lock_draft(draft)
        ensure_in_scope(user, draft, Action.ADD)
        # The file is read while the row is locked, and deleted only after the commit.
        try:
            with draft.source_file.open("rb") as fh:
                data = fh.read()
        except (FileNotFoundError, ValueError) as exc:
            raise ValidationError("导入草稿的原始文件已不存在, 请重新上传。") from exc
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


def ledger_import(
    *,
    user: UserLike,
    owner: Organisation,
    name: str,
    data: bytes,
    title: str,
    kind: str = PlanKind.OTHER,
) -> Plan:
    """Import an existing ledger workbook as a plan, all or nothing.

    Raises :class:`DataImportError` with Chinese row errors (the first 100, then
    "另有 N 处错误") or ValidationError for a bad file; nothing is saved then.
    """
    from kepu.plans.importing import ledger_rows

    fields = PlanFields(title=title, kind=kind)
    validate_plan_fields(fields)
    tasks, deadlines = ledger_rows(user=user, name=name, data=data)
    try:
        return plan_create_from_parsed(
            user=user,
            owner=owner,
            parsed={"tasks": tasks, "targets": []},
            fields=fields,
            source_name=name,
            source_bytes=data,
            deadlines=deadlines,
        )
    except ValidationError as exc:
        raise DataImportError(exc.messages) from exc


def plan_delete(*, user: UserLike, plan: Plan) -> None:
    ensure_in_scope(user, plan, Action.DELETE)
    source = plan.source_file
    with transaction.atomic():
        # Wait for a reporting round being opened on this plan (it holds a key-share lock
        # on the plan) so that the delete below also collects the slots it wrote.
        list(Plan.objects.select_for_update().filter(pk=plan.pk).values_list("pk"))
        plan.delete()
        if source:
            transaction.on_commit(lambda: source.delete(save=False))


def _unit_lists(units: Iterable[TaskUnit]) -> dict[str, str]:
    lists: dict[str, list[str]] = {r: [] for r in UnitRole.values}
    for u in sorted(units, key=lambda u: u.order):
        lists[u.role].append(u.name)
    return {r: "、".join(names) for r, names in lists.items()}


def task_update_units(
    *,
    user: UserLike,
    task: Task,
    lead: list[str],
    cooperate: list[str],
    responsible: list[str],
    title: str | None = None,
    version: int | None = None,
) -> Task:
    """Correct a confirmed task's title and units (names matched again to organisations).

    ``version`` is the task's version the editor started from: a save over somebody
    else's newer save is refused (:class:`StaleEditError`). Units whose name and role
    stay are kept (updated when their order or organisation changes), the others are
    deleted and created; every unit row written gets its audit entry.
    """
    ensure_in_scope(user, task.plan, Action.CHANGE)
    with transaction.atomic():
        if title:
            task.title = title[:500]
        pairs = _unit_roles(
            {"lead": lead, "cooperate": cooperate, "responsible": responsible}, None
        )
        submitted = {r: "、".join(n for n, role in pairs if role == r) for r in UnitRole.values}

        def their_units(current: Task) -> list[tuple[str, str, str]]:
            saved = _unit_lists(TaskUnit.objects.filter(task=current))
            return [(UnitRole(r).label + "单位", submitted[r], saved[r]) for r in UnitRole.values]

        version_check(task, expected=version, fields=["title"], extra=their_units)
        task.save(update_fields=["title", "version"])
        resolved = _resolve_units(
            user=user, plan_region_org=task.plan.owner, names=[n for n, _ in pairs], choices={}
        )
        existing = {(u.name, u.role): u for u in TaskUnit.objects.filter(task=task)}
        wanted = {(n[:200], r): k for k, (n, r) in enumerate(pairs)}
        gone = [u.pk for key, u in existing.items() if key not in wanted]
        if gone:
            TaskUnit.objects.filter(pk__in=gone).delete()  # audited by the delete signal
        changed, diffs, created = [], [], []
        for (name, role), k in wanted.items():
            org = resolved.get(name)
            unit = existing.get((name, role))
            if unit is None:
                created.append(TaskUnit(task=task, name=name, role=role, organisation=org, order=k))
                continue
            diff: dict[str, list[int | None]] = {}
            if unit.order != k:
                diff["order"] = [unit.order, k]
            if unit.organisation_id != (org.pk if org else None):
                diff["organisation"] = [unit.organisation_id, org.pk if org else None]
            if diff:
                unit.order, unit.organisation = k, org
                changed.append(unit)
                diffs.append(diff)
        if changed:
            TaskUnit.objects.bulk_update(changed, ["order", "organisation"])
            audit_rows(action="update", rows=changed, actor=user, changes=diffs)
        if created:
            audit_rows(action="create", rows=TaskUnit.objects.bulk_create(created), actor=user)
        ensure_in_scope(user, task, Action.CHANGE)
    return task


def task_set_deadline(
    *, user: UserLike, task: Task, text: str, due_on: dt.date | None = None
) -> Task:
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
