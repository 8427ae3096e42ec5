"""Writes of progress reporting: rounds, reports, review, termination, supervision.

Every function checks the gate, writes inside one transaction, and leaves a trail
(audit entries through signals for single rows, :func:`audit_rows` for bulk rows, and
a :class:`ReportEvent` / :class:`NoticeEvent` for every status transition).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, models, transaction
from django.db.models import Count
from django.utils import timezone

from kepu.audit.services import audit_rows, audit_summary
from kepu.core.files import MB, Kind, check_upload
from kepu.core.types import UserLike, as_account
from kepu.core.versioning import version_check
from kepu.orgs.models import Organisation
from kepu.orgs.scoping import Action, ensure_in_scope, save_in_scope, user_grants
from kepu.plans.models import Plan, Task, TaskUnit, UnitRole
from kepu.progress.cascade import cascade_kind, cascade_targets
from kepu.progress.models import (
    LinkStatus,
    Notice,
    NoticeEvent,
    NoticeLevel,
    NoticeStatus,
    OfficeSetting,
    ProgressState,
    Report,
    ReportEvent,
    ReportEvidence,
    ReportingRound,
    ReportProgress,
    ReportStatus,
    RoundStatus,
    TaskLink,
    TaskTermination,
)
from kepu.regions.models import Region

BATCH = 2000
EVIDENCE = Kind(
    (".jpg", ".jpeg", ".png", ".pdf", ".docx", ".xlsx"),
    "jpg、png、pdf、docx 或 xlsx",
    max_bytes=10 * MB,
)
MAX_EVIDENCE_FILES = 10
_IMAGE_SIGNATURES = {
    ".jpg": b"\xff\xd8\xff",
    ".jpeg": b"\xff\xd8\xff",
    ".png": b"\x89PNG\r\n\x1a\n",
    ".pdf": b"%PDF",
}
_ROLE_RANK: dict[str, int] = {UnitRole.LEAD: 0, UnitRole.RESPONSIBLE: 1, UnitRole.COOPERATE: 2}


def _name(user: UserLike | None) -> str:
    account = as_account(user)
    if account is None or not getattr(account, "is_authenticated", False):
        return "系统"
    return account.get_full_name() or account.get_username()


# ------------------------------------------------------------------------------ settings
def office_setting(office: Organisation) -> OfficeSetting:
    """The office's settings (defaults when it never saved any)."""
    setting = OfficeSetting.objects.filter(office=office).first()
    return setting or OfficeSetting(office=office)


def office_setting_update(
    *, user: UserLike, office: Organisation, warn_days: int, remind_days: int
) -> OfficeSetting:
    ensure_in_scope(user, office, Action.MANAGE)
    if not office.is_office:
        raise ValidationError("只有科协或纲要办可以设置进展提醒。")
    with transaction.atomic():
        setting = OfficeSetting.objects.select_for_update().filter(office=office).first()
        setting = setting or OfficeSetting(office=office)
        setting.warn_days = warn_days
        setting.remind_days = remind_days
        save_in_scope(user, setting, Action.CHANGE)
    return setting


# ------------------------------------------------------------------------------ rounds
def _t(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _lock_referenced(office: Organisation, plans: Sequence[Plan]) -> None:
    """PostgreSQL: key-share locks on the plans and the organisations a new round's
    slots may reference, as a foreign key check would take them, set-based (the slots
    carry no FK constraint: see docs/progress.md). ``plan_delete`` and
    ``organisation_delete`` lock their row for update first, so they wait for the
    opening to commit and then delete its slots too; an opening that starts after a
    delete no longer sees the deleted rows. SQLite serialises writers: nothing to do."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT 1 FROM {_t(Plan)} WHERE id = ANY(%s) FOR KEY SHARE",
            [[p.pk for p in plans]],
        )
        cur.execute(
            f"SELECT 1 FROM {_t(Organisation)} o JOIN {_t(Region)} rg ON rg.id = o.region_id "
            "WHERE rg.path LIKE %s FOR KEY SHARE OF o",
            [office.region.path + "%"],
        )


def _insert_direct_slots(round_: ReportingRound, *, by_task: bool) -> int:
    """One set-based INSERT … SELECT: a slot per (task, named organisation) inside the
    office's region, the strongest role kept (lead > responsible > cooperate)."""
    m2m_plans = ReportingRound.plans.through
    m2m_tasks = ReportingRound.tasks.through
    task_filter = (
        f" AND t.id IN (SELECT task_id FROM {_t(m2m_tasks)} WHERE reportinground_id = %s)"
        if by_task
        else ""
    )
    sql = f"""
        INSERT INTO {_t(Report)} (version, round_id, task_id, organisation_id, role, via,
            status, state, narrative, links, is_late, review_comment, updated_at)
        SELECT 1, %s, tu.task_id, tu.organisation_id,
            CASE MIN(CASE tu.role WHEN 'lead' THEN 0 WHEN 'responsible' THEN 1 ELSE 2 END)
                WHEN 0 THEN 'lead' WHEN 1 THEN 'responsible' ELSE 'cooperate' END,
            '', 'pending', '', '', '', %s, '', %s
        FROM {_t(TaskUnit)} tu
        JOIN {_t(Task)} t ON t.id = tu.task_id
        JOIN {_t(Organisation)} o ON o.id = tu.organisation_id
        JOIN {_t(Region)} rg ON rg.id = o.region_id
        WHERE t.plan_id IN (SELECT plan_id FROM {_t(m2m_plans)} WHERE reportinground_id = %s)
          AND rg.path LIKE %s
          AND NOT EXISTS (SELECT 1 FROM {_t(TaskTermination)} tt WHERE tt.task_id = t.id)
          {task_filter}
        GROUP BY tu.task_id, tu.organisation_id
        ORDER BY tu.task_id, tu.organisation_id
    """
    params: list[Any] = [
        round_.pk,
        False,
        timezone.now(),
        round_.pk,
        round_.office.region.path + "%",
    ]
    if by_task:
        params.append(round_.pk)
    with connection.cursor() as cur:
        postgres = connection.vendor == "postgresql"
        if postgres:
            # Every task unit of the plans is read: sort the 500,000 (task, organisation)
            # pairs in memory and hash-join, not probe the index once per task (the planner
            # misjudges the plan filter; measured 1.0 s against 1.6–2.5 s at 500,000).
            cur.execute("SET LOCAL work_mem = '64MB'")
            cur.execute("SET LOCAL enable_nestloop = off")
        cur.execute(sql, params)
        if postgres:
            cur.execute("RESET enable_nestloop")
        return cur.rowcount


SUMMARY_VIA_LIMIT = 50


def _audit_round_slots(round_: ReportingRound, user: UserLike, task_count: int) -> int:
    """The round's slots leave one audit entry, on the round: how many were generated, by
    role and by collective name (分解落实), from which plans. The slots are derived data
    (plans × task units × regions at opening time, each row keeping its round, task,
    organisation, role and ``via``); one entry per slot would write 500,000 audit rows
    for a national round (see docs/progress.md, "Round opening"). Every later change
    of a slot is audited row by row. Returns the number of slots (one grouped query)."""
    by_role: dict[str, int] = defaultdict(int)
    by_via: dict[str, int] = defaultdict(int)
    total = 0
    # unscoped: the round's own slots, just written by round_open
    rows = Report.objects.filter(round=round_).order_by().values_list("role", "via")
    for role, via, n in rows.annotate(n=Count("pk")):
        total += n
        by_role[str(UnitRole(role).label)] += n
        if via:
            by_via[via] += n
    vias = dict(sorted(by_via.items(), key=lambda kv: (-kv[1], kv[0]))[:SUMMARY_VIA_LIMIT])
    changes: dict[str, Any] = {
        "reports": total,
        "slot_roles": dict(by_role),
        "slot_plans": [p.title[:100] for p in round_.plans.order_by("pk")[:20]],
    }
    if vias:
        changes["slot_via"] = vias
    if task_count:
        changes["slot_tasks"] = task_count
    audit_summary(obj=round_, changes=changes, actor=user)
    return total


def _cascade_slots(
    round_: ReportingRound, task_ids: Sequence[int] | None
) -> list[tuple[int, int, str, str, str]]:
    """(task, organisation, role, via, region path) for collective names ("各县(市、区)")
    not matched to one organisation: one slot per matching organisation below."""
    units = TaskUnit.objects.filter(
        task__plan__in=round_.plans.all(), organisation__isnull=True, name__startswith="各"
    ).exclude(task__termination__isnull=False)
    units = units | TaskUnit.objects.filter(
        task__plan__in=round_.plans.all(),
        organisation__isnull=True,
        name__regex=r"^(全体|所有)",
    ).exclude(task__termination__isnull=False)
    if task_ids:
        units = units.filter(task_id__in=task_ids)
    best: dict[tuple[int, int], tuple[str, str, str]] = {}
    cache: dict[str, list[tuple[int, str]]] = {}
    for task_id, role, name in units.values_list("task_id", "role", "name").iterator(
        chunk_size=5000
    ):
        kind = cascade_kind(name)
        if kind is None:
            continue
        if kind not in cache:
            cache[kind] = cascade_targets(kind, round_.office.region)
        for org_id, path in cache[kind]:
            current = best.get((task_id, org_id))
            if current is None or _ROLE_RANK[role] < _ROLE_RANK[current[0]]:
                best[(task_id, org_id)] = (role, name[:200], path)
    return [(t, o, r, via, path) for (t, o), (r, via, path) in best.items()]


def round_open(
    *,
    user: UserLike,
    office: Organisation,
    title: str,
    plans: Iterable[Plan],
    opens_on: dt.date,
    closes_on: dt.date,
    tasks: Iterable[Task] = (),
) -> ReportingRound:
    """Open a reporting round: one report slot per task × responsible organisation
    inside the office's region (collective names such as "各县(市、区)" cascade to every
    matching organisation). National scale: the named slots are written set-based
    (one INSERT … SELECT), the cascaded ones with bulk_create, and the opening leaves one
    audit entry on the round that counts them (:func:`_audit_round_slots`)."""
    if not office.is_office:
        raise ValidationError("只有科协或纲要办可以发起填报轮次。")
    if closes_on < opens_on:
        raise ValidationError("截止日期不能早于开始日期。")
    plans = list(plans)
    if not plans:
        raise ValidationError("请至少选择一个规划。")
    visible = set(
        Plan.objects.restrict(user, Action.VIEW)
        .filter(pk__in=[p.pk for p in plans])
        .values_list("pk", flat=True)
    )
    if len(visible) != len({p.pk for p in plans}):
        raise PermissionDenied("所选规划超出您的权限范围。")
    task_list = list(tasks)
    if any(t.plan_id not in visible for t in task_list):
        raise ValidationError("所选任务不属于所选规划。")
    with transaction.atomic():
        _lock_referenced(office, plans)
        round_ = ReportingRound(
            office=office,
            title=title.strip()[:200],
            opens_on=opens_on,
            closes_on=closes_on,
            created_by=as_account(user) if getattr(user, "is_authenticated", False) else None,
        )
        save_in_scope(user, round_, Action.ADD)
        round_.plans.set(plans)
        if task_list:
            round_.tasks.set(task_list)
        _insert_direct_slots(round_, by_task=bool(task_list))
        rows = _cascade_slots(round_, [t.pk for t in task_list] or None)
        if rows:  # a unit both named and covered by "各…" keeps its named slot
            taken = set(
                Report.objects.filter(round=round_, task_id__in={r[0] for r in rows}).values_list(
                    "task_id", "organisation_id"
                )
            )
            rows = [row for row in rows if (row[0], row[1]) not in taken]
        Report.objects.bulk_create(
            (
                Report(round=round_, task_id=t, organisation_id=o, role=r, via=via)
                for t, o, r, via, _ in rows
            ),
            batch_size=BATCH,
        )
        round_.slot_count = _audit_round_slots(round_, user, len(task_list))
        # unscoped: the round just saved in scope; its audit entry above records the count
        ReportingRound.objects.filter(pk=round_.pk).update(slot_count=round_.slot_count)
    return round_


def round_close(*, user: UserLike, round_: ReportingRound) -> ReportingRound:
    ensure_in_scope(user, round_, Action.CHANGE)
    with transaction.atomic():
        version_check(round_, expected=None)
        round_.status = RoundStatus.CLOSED
        round_.save(update_fields=["status", "version"])
    return round_


# ------------------------------------------------------------------------------ reports
def can_write_report(user: UserLike, report: Report) -> bool:
    """Only the reporting organisation's own members (with write rights) write its report."""
    return can_act_for_unit(user, report.organisation_id)


def can_review(user: UserLike, round_: ReportingRound) -> bool:
    """The round's office (or an office above it) reviews its reports."""
    return ReportingRound.objects.restrict(user, Action.CHANGE).filter(pk=round_.pk).exists()


def _event(report: Report, old: str, user: UserLike, comment: str = "") -> ReportEvent:
    return ReportEvent.objects.create(
        report=report,
        from_status=old,
        to_status=report.status,
        actor=as_account(user) if getattr(user, "is_authenticated", False) else None,
        actor_name=_name(user),
        comment=comment,
    )


def _refresh(report: Report, *fields: str) -> None:
    """Re-read fields from the row locked by ``version_check`` (another request may have
    moved the report on even when the caller did not pass a version)."""
    current = Report._base_manager.filter(pk=report.pk).values(*fields).get()
    for name, value in current.items():
        setattr(report, name, value)


def _check_evidence(upload: UploadedFile) -> bytes:
    limit = EVIDENCE.max_bytes
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            f"文件「{upload.name}」过大 ({upload.size / MB:.1f} MB), 上限为 {limit // MB} MB。"
        )
    data = upload.read(limit + 1)
    ext = check_upload(upload.name or "", data, EVIDENCE)
    signature = _IMAGE_SIGNATURES.get(ext)
    if signature is not None and not data.startswith(signature):
        raise ValidationError(f"文件「{upload.name}」的内容与扩展名不符。")
    return data


def report_save(
    *,
    user: UserLike,
    report: Report,
    version: int | None,
    state: str,
    narrative: str,
    links: str = "",
    progress: dict[int, float] | None = None,
    files: Sequence[UploadedFile] = (),
) -> Report:
    """Save the unit's draft (narrative, progress per target, evidence, links)."""
    ensure_in_scope(user, report, Action.VIEW)
    if not can_write_report(user, report):
        raise PermissionDenied("只有填报单位本单位人员可以填写该报告。")
    if state and state not in ProgressState.values:
        raise ValidationError("进展状态无效。")
    datas = [(f, _check_evidence(f)) for f in files]
    kept = [ln.strip() for ln in links.splitlines() if ln.strip()]
    if any(not ln.startswith(("http://", "https://")) for ln in kept):
        raise ValidationError("链接须以 http:// 或 https:// 开头。")
    with transaction.atomic():
        report.state = state
        report.narrative = narrative.strip()
        report.links = "\n".join(kept)[:2000]
        version_check(report, expected=version, fields=["state", "narrative", "links"])
        _refresh(report, "status")
        if not report.editable:
            raise ValidationError("报告已提交, 不能再修改 (被退回后才能修改)。")
        if report.evidence.count() + len(datas) > MAX_EVIDENCE_FILES:
            raise ValidationError(f"每份报告最多 {MAX_EVIDENCE_FILES} 个佐证材料。")
        old = report.status
        if report.status == ReportStatus.PENDING:
            report.status = ReportStatus.DRAFT
        report.save()
        if old != report.status:
            _event(report, old, user)
        targets = {t.pk for t in report.task.targets.all()}
        for target_id, value in (progress or {}).items():
            if target_id not in targets:
                raise ValidationError("目标不属于该任务。")
            ReportProgress.objects.update_or_create(
                report=report, target_id=target_id, defaults={"value": value}
            )
        for upload, data in datas:
            evidence = ReportEvidence(
                report=report,
                name=(upload.name or "file")[:255],
                size=len(data),
                uploaded_by=as_account(user),
            )
            evidence.file.save(upload.name or "file", ContentFile(data), save=False)
            evidence.save()
    return report


def report_submit(*, user: UserLike, report: Report, version: int | None = None) -> Report:
    """Submit (locks the report). After the round's closing date it is accepted as late."""
    ensure_in_scope(user, report, Action.VIEW)
    if not can_write_report(user, report):
        raise PermissionDenied("只有填报单位本单位人员可以提交该报告。")
    with transaction.atomic():
        version_check(report, expected=version, fields=["state", "narrative"])
        _refresh(report, "status", "state", "narrative")
        if report.status not in (ReportStatus.DRAFT, ReportStatus.RETURNED):
            raise ValidationError("只有草稿或被退回的报告可以提交。")
        if not report.narrative.strip() or not report.state:
            raise ValidationError("请先填写进展状态和本期进展情况再提交。")
        old = report.status
        now = timezone.now()
        report.status = ReportStatus.SUBMITTED
        report.submitted_at = now
        report.is_late = timezone.localdate(now) > report.round.closes_on
        report.save()
        _event(report, old, user, "逾期提交" if report.is_late else "")
    return report


def report_review(
    *, user: UserLike, report: Report, accept: bool, comment: str = "", version: int | None = None
) -> Report:
    """Accept, or return for revision with a comment (退回修改)."""
    ensure_in_scope(user, report, Action.VIEW)
    if not can_review(user, report.round):
        raise PermissionDenied("只有发起轮次的办公室可以审核报告。")
    comment = comment.strip()
    if not accept and not comment:
        raise ValidationError("退回修改时请填写意见。")
    with transaction.atomic():
        version_check(report, expected=version, fields=["status"])
        _refresh(report, "status")
        if report.status != ReportStatus.SUBMITTED:
            raise ValidationError("只能审核已提交的报告。")
        old = report.status
        report.status = ReportStatus.ACCEPTED if accept else ReportStatus.RETURNED
        report.review_comment = comment
        report.reviewed_at = timezone.now()
        report.reviewed_by = as_account(user)
        report.save()
        _event(report, old, user, comment)
    return report


def reports_bulk_accept(
    *, user: UserLike, round_: ReportingRound, report_ids: Iterable[int]
) -> int:
    """Accept many submitted reports at once; each gets its history entry and audit row."""
    if not can_review(user, round_):
        raise PermissionDenied("只有发起轮次的办公室可以审核报告。")
    ids = list(report_ids)
    with transaction.atomic():
        reports = list(
            Report.objects.restrict(user, Action.VIEW)
            .select_for_update()
            .filter(round=round_, pk__in=ids, status=ReportStatus.SUBMITTED)
            .select_related("organisation__region")
        )
        now = timezone.now()
        for r in reports:
            r.status = ReportStatus.ACCEPTED
            r.reviewed_at = now
            r.reviewed_by = user
            r.version += 1
        Report.objects.bulk_update(
            reports, ["status", "reviewed_at", "reviewed_by", "version"], batch_size=BATCH
        )
        ReportEvent.objects.bulk_create(
            [
                ReportEvent(
                    report=r,
                    from_status=ReportStatus.SUBMITTED,
                    to_status=ReportStatus.ACCEPTED,
                    actor=as_account(user),
                    actor_name=_name(user),
                    comment="批量通过",
                )
                for r in reports
            ],
            batch_size=BATCH,
        )
        audit_rows(
            action="update",
            rows=reports,
            actor=user,
            changes=[
                {"status": [ReportStatus.SUBMITTED.value, ReportStatus.ACCEPTED.value]}
                for _ in reports
            ],
        )
    return len(reports)


def task_terminate(*, user: UserLike, task: Task, reason: str) -> TaskTermination:
    ensure_in_scope(user, task.plan, Action.CHANGE)
    if not reason.strip():
        raise ValidationError("请填写终止原因。")
    with transaction.atomic():
        termination = TaskTermination(task=task, reason=reason.strip()[:300], by=as_account(user))
        save_in_scope(user, termination, Action.ADD)
    return termination


# ------------------------------------------------------------------------------ 督办
NOTICE_FLOW: dict[str, tuple[str, str]] = {
    # from status → (next status, who acts: "office" or "unit")
    NoticeStatus.FILED: (NoticeStatus.ISSUED, "office"),
    NoticeStatus.ISSUED: (NoticeStatus.ACKNOWLEDGED, "unit"),
    NoticeStatus.ACKNOWLEDGED: (NoticeStatus.HANDLING, "unit"),
    NoticeStatus.HANDLING: (NoticeStatus.ANSWERED, "unit"),
    NoticeStatus.ANSWERED: (NoticeStatus.CHECKED, "office"),
    NoticeStatus.CHECKED: (NoticeStatus.CLOSED, "office"),
}


def can_act_for_office(user: UserLike, office: Organisation) -> bool:
    """A member (with write rights) of ``office`` or of an office above it."""
    if user.is_superuser:
        return True
    path = office.region.path
    return any(
        g.region_path is not None and Action.CHANGE in g.actions and path.startswith(g.region_path)
        for g in user_grants(user)
    )


def can_view_office(user: UserLike, office: Organisation) -> bool:
    """A member (any role) of ``office`` or of an office above it (its dashboards)."""
    if user.is_superuser:
        return True
    path = office.region.path
    return any(
        g.region_path is not None and Action.VIEW in g.actions and path.startswith(g.region_path)
        for g in user_grants(user)
    )


def can_act_for_unit(user: UserLike, organisation_id: int) -> bool:
    """A member (with write rights) of the organisation itself."""
    return user.is_superuser or any(
        g.organisation_id == organisation_id and Action.CHANGE in g.actions
        for g in user_grants(user)
    )


def notice_create(
    *,
    user: UserLike,
    office: Organisation,
    task: Task,
    organisation: Organisation,
    level: str,
    subject: str,
    requirement: str,
    answer_by: dt.date,
    report: Report | None = None,
) -> Notice:
    """立项: an office files a supervision notice to a unit about a task."""
    if not office.is_office or not can_act_for_office(user, office):
        raise PermissionDenied("只有办公室可以发起督办。")
    if level not in NoticeLevel.values:
        raise ValidationError("督办级别无效。")
    if not subject.strip() or not requirement.strip():
        raise ValidationError("请填写督办事项和督办要求。")
    if not organisation.region.path.startswith(office.region.path):
        raise PermissionDenied("只能督办本辖区内的单位。")
    ensure_in_scope(user, task, Action.VIEW)
    with transaction.atomic():
        notice = Notice(
            office=office,
            organisation=organisation,
            task=task,
            report=report,
            level=level,
            subject=subject.strip()[:300],
            requirement=requirement.strip(),
            answer_by=answer_by,
            created_by=as_account(user),
        )
        save_in_scope(user, notice, Action.ADD)
        notice.number = f"督〔{timezone.localdate().year}〕{notice.pk}号"
        notice.save(update_fields=["number"])
        NoticeEvent.objects.create(
            notice=notice,
            from_status=NoticeStatus.FILED,
            to_status=NoticeStatus.FILED,
            actor=as_account(user),
            actor_name=_name(user),
            comment="立项",
        )
    return notice


def notice_advance(
    *, user: UserLike, notice: Notice, comment: str = "", version: int | None = None
) -> Notice:
    """Move a notice one step: 立项→交办→签收→办理→反馈→复核→办结.

    The office issues, checks and closes; the unit acknowledges, handles and answers
    (``comment`` is the answer at 反馈 and the check opinion at 复核). At 复核 the
    office may also send it back to 办理 with :func:`notice_send_back`.
    """
    ensure_in_scope(user, notice, Action.VIEW)
    step = NOTICE_FLOW.get(notice.status)
    if step is None:
        raise ValidationError("督办单已办结。")
    target, actor = step
    if actor == "office":
        allowed = can_act_for_office(user, notice.office)
    else:
        allowed = can_act_for_unit(user, notice.organisation_id)
    if not allowed:
        raise PermissionDenied(
            "该环节应由" + ("督办单位" if actor == "office" else "承办单位") + "办理。"
        )
    comment = comment.strip()
    if target == NoticeStatus.ANSWERED and not comment:
        raise ValidationError("请填写办理情况反馈。")
    with transaction.atomic():
        version_check(notice, expected=version, fields=["status", "answer"])
        old = notice.status
        notice.status = target
        if target == NoticeStatus.ISSUED:
            notice.issued_at = timezone.now()
        if target == NoticeStatus.ANSWERED:
            notice.answer = comment
        if target == NoticeStatus.CHECKED:
            notice.check_comment = comment
        notice.save()
        NoticeEvent.objects.create(
            notice=notice,
            from_status=old,
            to_status=target,
            actor=as_account(user),
            actor_name=_name(user),
            comment=comment,
        )
    if target == NoticeStatus.ISSUED:
        from kepu.notifications.services import notify_organisation

        notify_organisation(
            organisation=notice.organisation,
            key=f"notice-issued:{notice.pk}",
            title=f"督办通知: {notice.subject}",
            body=f"{notice.office.name}向贵单位交办{notice.get_level_display()}"
            f"「{notice.subject}」, 请签收并于 {notice.answer_by:%Y-%m-%d} 前反馈。",
            url=f"/progress/notices/{notice.pk}/",
        )
    return notice


def notice_send_back(
    *, user: UserLike, notice: Notice, comment: str, version: int | None = None
) -> Notice:
    """复核 not passed: back to 办理 with the office's opinion."""
    ensure_in_scope(user, notice, Action.VIEW)
    if not can_act_for_office(user, notice.office):
        raise PermissionDenied("该环节应由督办单位办理。")
    if notice.status != NoticeStatus.ANSWERED:
        raise ValidationError("只有已反馈的督办单可以退回重办。")
    if not comment.strip():
        raise ValidationError("请填写复核意见。")
    with transaction.atomic():
        version_check(notice, expected=version, fields=["status"])
        old = notice.status
        notice.status = NoticeStatus.HANDLING
        notice.check_comment = comment.strip()
        notice.save()
        NoticeEvent.objects.create(
            notice=notice,
            from_status=old,
            to_status=notice.status,
            actor=as_account(user),
            actor_name=_name(user),
            comment=comment.strip(),
        )
    return notice


def report_split(
    *, user: UserLike, report: Report, organisations: Iterable[Organisation]
) -> list[Report]:
    """分解落实 further down: a county office splits its assignment among its own member
    units (or townships); each gets its own report, linked to the county's."""
    ensure_in_scope(user, report, Action.VIEW)
    if not report.organisation.is_office or not can_act_for_unit(user, report.organisation_id):
        raise PermissionDenied("只有承担该任务的办公室可以继续分解。")
    region_path = report.organisation.region.path
    orgs = [o for o in organisations if o.pk != report.organisation_id]
    if not orgs:
        raise ValidationError("请选择要分解到的单位。")
    if any(not o.region.path.startswith(region_path) for o in orgs):
        raise PermissionDenied("只能分解到本辖区内的单位。")
    with transaction.atomic():
        taken = set(
            Report.objects.filter(round=report.round, task=report.task).values_list(
                "organisation_id", flat=True
            )
        )
        new = [
            Report(
                round=report.round,
                task=report.task,
                organisation=o,
                role=UnitRole.COOPERATE,
                via=f"{report.organisation.name}分解"[:200],
                parent=report,
            )
            for o in orgs
            if o.pk not in taken
        ]
        Report.objects.bulk_create(new)
        for r, o in zip(new, [o for o in orgs if o.pk not in taken], strict=True):
            setattr(r, "_audit_scope", (o.region.path, o.pk))  # noqa: B010
        audit_rows(action="create", rows=new, actor=user)
        ReportingRound.objects.filter(pk=report.round_id).update(
            slot_count=models.F("slot_count") + len(new)
        )
    return new


# ------------------------------------------------------------------------------ 上下级任务对应
MAX_MATCH_TASKS = 3000


def parent_plan_ok(local_plan: Plan, parent_plan: Plan) -> bool:
    """A parent plan is another plan of the local plan's region or of a region above."""
    return parent_plan.pk != local_plan.pk and local_plan.region.path.startswith(
        parent_plan.region.path
    )


def links_suggest(*, user: UserLike, local_plan: Plan, parent_plan: Plan) -> int:
    """Suggest, for every task of ``local_plan``, the ``parent_plan`` tasks it may
    implement (pure matcher, :mod:`kepu.progress.matching`). Earlier open suggestions
    between the two plans are replaced; confirmed and rejected pairs are kept as they
    are. Returns the number of suggestions written."""
    from kepu.progress.matching import suggest

    ensure_in_scope(user, local_plan, Action.CHANGE)
    ensure_in_scope(user, parent_plan, Action.VIEW, read_down=True)
    if not parent_plan_ok(local_plan, parent_plan):
        raise ValidationError("上级规划须是本地区或上级地区的另一份规划。")
    local = list(local_plan.tasks.order_by("order").values_list("pk", "title", "text"))
    parent = list(parent_plan.tasks.order_by("order").values_list("pk", "title", "text"))
    if len(local) > MAX_MATCH_TASKS or len(parent) > MAX_MATCH_TASKS:
        raise ValidationError(f"每份规划最多 {MAX_MATCH_TASKS} 项任务参与自动匹配。")
    found = suggest(
        [(pk, f"{title} {title} {text}") for pk, title, text in local],
        [(pk, f"{title} {title} {text}") for pk, title, text in parent],
    )
    region_path, owner_id = local_plan.region.path, local_plan.owner_id
    with transaction.atomic():
        # unscoped: links between two plans checked through the gate above
        pairs = TaskLink.objects.filter(local__plan=local_plan, parent__plan=parent_plan)
        stale = list(pairs.filter(status=LinkStatus.SUGGESTED))
        for link in stale:
            setattr(link, "_audit_scope", (region_path, owner_id))  # noqa: B010
        audit_rows(action="delete", rows=stale, actor=user)
        # unscoped: the suggestions just read from ``pairs``
        TaskLink.objects.filter(pk__in=[link.pk for link in stale]).delete()
        decided = set(pairs.values_list("local_id", "parent_id"))
        new = [
            TaskLink(local_id=s.local_id, parent_id=s.parent_id, score=s.score)
            for s in found
            if (s.local_id, s.parent_id) not in decided
        ]
        TaskLink.objects.bulk_create(new, batch_size=BATCH)
        for link in new:
            setattr(link, "_audit_scope", (region_path, owner_id))  # noqa: B010
        audit_rows(action="create", rows=new, actor=user)
    return len(new)


def link_decide(*, user: UserLike, link: TaskLink, confirm: bool) -> TaskLink:
    """An office that may change the local plan and see the parent task confirms
    (已确认) or rejects (已否决) a suggested link."""
    ensure_in_scope(user, link, Action.VIEW)
    ensure_in_scope(user, link.parent, Action.VIEW, read_down=True)
    with transaction.atomic():
        # unscoped: the link checked through the gate above
        locked = TaskLink.objects.select_for_update().filter(pk=link.pk).first()
        if locked is None:
            raise ValidationError("该对应关系已被删除。")
        link.status = LinkStatus.CONFIRMED if confirm else LinkStatus.REJECTED
        link.decided_by = as_account(user) if getattr(user, "is_authenticated", False) else None
        link.decided_at = timezone.now()
        save_in_scope(user, link, Action.CHANGE)
    return link


def link_create(*, user: UserLike, local: Task, parent: Task) -> TaskLink:
    """Link a local task to a parent task by hand (confirmed at once): an office that may
    change the local plan and reads the parent task (an office below reads it for this)."""
    ensure_in_scope(user, local, Action.CHANGE)
    ensure_in_scope(user, parent, Action.VIEW, read_down=True)
    if not parent_plan_ok(local.plan, parent.plan):
        raise ValidationError("上级任务须属于本地区或上级地区的另一份规划。")
    with transaction.atomic():
        # unscoped: the pair's own link; the save below re-checks the scope
        link = TaskLink.objects.filter(local=local, parent=parent).first() or TaskLink(
            local=local, parent=parent, score=0
        )
        link.status = LinkStatus.CONFIRMED
        link.decided_by = as_account(user) if getattr(user, "is_authenticated", False) else None
        link.decided_at = timezone.now()
        save_in_scope(user, link, Action.CHANGE if link.pk else Action.ADD)
    return link
