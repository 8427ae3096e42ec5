"""Task status rule, 督办 state machine, reminders sent once, the to-do counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse

from kepu.notifications.models import Notification
from kepu.plans.models import UnitRole
from kepu.progress import services
from kepu.progress.models import NoticeStatus, Report, ReportStatus
from kepu.progress.reminders import remind
from kepu.progress.selectors import task_status, todo_counts

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 9, 1)


def R(status="pending", state="", role=UnitRole.LEAD, round_id=1):
    return Report(status=status, state=state, role=role, round_id=round_id)


@pytest.mark.parametrize(
    ("due", "reports", "terminated", "expected"),
    [
        (None, [], False, ("not_started", "green")),
        (dt.date(2026, 9, 10), [], False, ("not_started", "yellow")),  # due within N=14
        (dt.date(2026, 12, 31), [R("draft")], False, ("in_progress", "green")),
        (dt.date(2026, 8, 31), [R("submitted", "on_track")], False, ("late", "red")),
        (dt.date(2026, 12, 31), [R("submitted", "behind")], False, ("late", "yellow")),
        (dt.date(2026, 8, 31), [R("accepted", "done")], False, ("done", "green")),
        # only the lead unit's acceptance completes the task
        (
            None,
            [R("accepted", "on_track"), R("accepted", "done", UnitRole.COOPERATE)],
            False,
            ("in_progress", "green"),
        ),
        # a submitted (not yet accepted) "done" is not done
        (dt.date(2026, 8, 1), [R("submitted", "done")], False, ("late", "red")),
        (dt.date(2026, 8, 1), [], True, ("terminated", "grey")),
    ],
)
def test_task_status_rule(due, reports, terminated, expected):
    st = task_status(due_on=due, reports=reports, today=TODAY, warn_days=14, terminated=terminated)
    assert (st.code, st.light) == expected


def test_warn_days_is_the_offices_setting(pw, round_, client):
    services.office_setting_update(
        user=pw.users["admin_a"], office=pw.orgs["office_a"], warn_days=200, remind_days=5
    )
    st = task_status(
        due_on=dt.date(2026, 12, 31),
        reports=[],
        today=dt.date(2026, 9, 1),
        warn_days=services.office_setting(pw.orgs["office_a"]).warn_days,
    )
    assert st.light == "yellow"
    client.force_login(pw.users["admin_a"])
    html = client.get(reverse("progress:round", args=[round_.pk])).content.decode()
    assert "200 天" in html and "红灯 = 已逾期未完成" in html


def _notice(pw, round_):
    report = Report.objects.get(round=round_, organisation=pw.orgs["unit_a1"], task__number="1")
    return services.notice_create(
        user=pw.users["admin_a"],
        office=pw.orgs["office_a"],
        task=report.task,
        organisation=report.organisation,
        report=report,
        level="red",
        subject="请加快推进",
        requirement="请于期限前反馈。",
        answer_by=dt.date(2026, 10, 1),
    )


def test_notice_runs_the_whole_flow_with_the_right_actors(pw, round_):
    office, unit = pw.users["admin_a"], pw.users["staff_a1"]
    notice = _notice(pw, round_)
    assert notice.status == NoticeStatus.FILED and notice.number
    with pytest.raises(PermissionDenied):  # the unit cannot issue
        services.notice_advance(user=unit, notice=notice)
    services.notice_advance(user=office, notice=notice)  # 交办
    assert Notification.objects.filter(user=unit, key=f"notice-issued:{notice.pk}").exists()
    with pytest.raises(PermissionDenied):  # the office cannot acknowledge for the unit
        services.notice_advance(user=office, notice=notice)
    with pytest.raises(PermissionDenied):  # another unit cannot either
        services.notice_advance(user=pw.users["staff_a2"], notice=notice)
    services.notice_advance(user=unit, notice=notice)  # 签收
    services.notice_advance(user=unit, notice=notice)  # 办理
    with pytest.raises(ValidationError):  # 反馈 needs the answer
        services.notice_advance(user=unit, notice=notice, comment="")
    services.notice_advance(user=unit, notice=notice, comment="已完成培训")  # 反馈
    services.notice_send_back(user=office, notice=notice, comment="请补充佐证")  # back to 办理
    assert notice.status == NoticeStatus.HANDLING
    services.notice_advance(user=unit, notice=notice, comment="已补充")
    services.notice_advance(user=office, notice=notice, comment="属实")  # 复核
    services.notice_advance(user=office, notice=notice)  # 办结
    assert notice.status == NoticeStatus.CLOSED
    with pytest.raises(ValidationError):
        services.notice_advance(user=office, notice=notice)
    steps = [(e.from_status, e.to_status) for e in notice.events.all()]
    assert steps == [
        ("filed", "filed"),
        ("filed", "issued"),
        ("issued", "acknowledged"),
        ("acknowledged", "handling"),
        ("handling", "answered"),
        ("answered", "handling"),
        ("handling", "answered"),
        ("answered", "checked"),
        ("checked", "closed"),
    ]


def test_notice_only_within_the_offices_region(pw, round_):
    report = Report.objects.get(round=round_, organisation=pw.orgs["unit_a1"], task__number="1")
    with pytest.raises(PermissionDenied):
        services.notice_create(
            user=pw.users["admin_a"],
            office=pw.orgs["office_a"],
            task=report.task,
            organisation=pw.orgs["unit_b1"],
            level="blue",
            subject="x",
            requirement="y",
            answer_by=dt.date(2026, 10, 1),
        )


def test_reminders_are_sent_once(pw, round_, settings):
    pw.users["staff_a1"].email = "staff@example.org"
    pw.users["staff_a1"].save()
    close = round_.closes_on
    first = remind(today=close - dt.timedelta(days=2))
    assert first.created > 0 and first.emailed == 1
    sent = len(mail.outbox)
    again = remind(today=close - dt.timedelta(days=2))
    assert again.created == 0 and again.emailed == 0 and len(mail.outbox) == sent
    # too early: nothing
    assert remind(today=close - dt.timedelta(days=10)).created == 0
    # the closing day is another reminder, also once
    due = remind(today=close)
    assert due.created > 0 and remind(today=close).created == 0
    keys = set(Notification.objects.filter(user=pw.users["staff_a1"]).values_list("key", flat=True))
    assert keys == {
        f"round-closing:{round_.pk}:{pw.orgs['unit_a1'].pk}",
        f"round-due:{round_.pk}:{pw.orgs['unit_a1'].pk}",
    }


def test_units_that_submitted_everything_are_not_reminded(pw, round_):
    for r in Report.objects.filter(round=round_, organisation=pw.orgs["unit_a2"]):
        services.report_save(
            user=pw.users["staff_a2"], report=r, version=None, state="done", narrative="完成"
        )
        services.report_submit(user=pw.users["staff_a2"], report=r)
    remind(today=round_.closes_on, send_email=False)
    assert not Notification.objects.filter(user=pw.users["staff_a2"]).exists()
    assert Notification.objects.filter(user=pw.users["staff_a1"]).exists()


def test_remind_command(pw, round_, capsys):
    call_command("kepu_remind", "--date", round_.closes_on.isoformat(), "--no-email")
    assert "新提醒" in capsys.readouterr().out


def test_todo_counts_and_home(pw, round_, client):
    assert todo_counts(user=pw.users["staff_a1"])["to_write"] == 2
    assert todo_counts(user=pw.users["county_admin_a"])["to_write"] == 1
    assert todo_counts(user=pw.users["county_admin_a2"])["to_write"] == 1
    report = Report.objects.get(round=round_, organisation=pw.orgs["unit_a1"], task__number="1")
    services.report_save(
        user=pw.users["staff_a1"], report=report, version=None, state="done", narrative="完成"
    )
    services.report_submit(user=pw.users["staff_a1"], report=report)
    assert todo_counts(user=pw.users["admin_a"])["to_review"] == 1
    assert todo_counts(user=pw.users["admin_b"])["to_review"] == 0
    assert todo_counts(user=pw.users["staff_a1"])["to_write"] == 1
    client.force_login(pw.users["admin_a"])
    html = client.get(reverse("home")).content.decode()
    assert 'id="todo-review"><span class="num">1</span>' in html
    assert report.status == ReportStatus.SUBMITTED


def test_my_tasks_shows_deadline_status_and_the_report_to_write(pw, round_, client):
    client.force_login(pw.users["staff_a1"])
    html = client.get(reverse("plans:my_tasks")).content.decode()
    report = Report.objects.get(round=round_, organisation=pw.orgs["unit_a1"], task__number="1")
    assert "2026年12月底前" in html and "未开始" in html
    assert reverse("progress:report", args=[report.pk]) in html


def test_round_rollup_counts(pw, round_):
    from kepu.progress.selectors import attach_rollup, round_rollup

    report = Report.objects.get(round=round_, organisation=pw.orgs["unit_a1"], task__number="1")
    services.report_save(
        user=pw.users["staff_a1"], report=report, version=None, state="done", narrative="完成"
    )
    services.report_submit(user=pw.users["staff_a1"], report=report)
    services.report_review(user=pw.users["admin_a"], report=report, accept=True)
    tasks = list(round_rollup(user=pw.users["admin_a"], round_=round_))
    attach_rollup(tasks, user=pw.users["admin_a"], round_=round_)
    got = {t.number: (t.n_total, t.n_pending, t.n_accepted, t.n_done) for t in tasks}
    assert got == {"1": (2, 1, 1, 1), "2": (3, 3, 0, 0), "3": (3, 3, 0, 0)}
    # a county sees only its own assignment in the roll-up
    tasks = list(round_rollup(user=pw.users["county_admin_a"], round_=round_))
    attach_rollup(tasks, user=pw.users["county_admin_a"], round_=round_)
    assert [(t.number, t.n_total) for t in tasks] == [("2", 2)]  # its office and its township
