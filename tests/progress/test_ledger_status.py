"""The status column (traffic light and the rule) on the web ledger, in its Excel export
and on 我的任务; N is the setting of the office owning each plan."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from kepu.plans.services import PlanFields, plan_create_from_parsed
from kepu.progress import services
from kepu.progress.models import Report

pytestmark = pytest.mark.django_db


def _plan(world, owner="office_a", user="admin_a", lead="市教体局", days=(-3, 10, 100)):
    today = timezone.localdate()
    tasks = [
        {
            "path": ["一、任务"],
            "number": str(k),
            "title": f"{owner}任务{k}",
            "text": f"{owner}任务{k}。",
            "lead": [lead],
            "cooperate": [],
            "responsible": [lead],
            "targets": [],
            "deadline": {
                "text": "限期",
                "due": (today + dt.timedelta(days=d)).isoformat(),
                "recurring": None,
            },
        }
        for k, d in enumerate(days, start=1)
    ]
    return plan_create_from_parsed(
        user=world.users[user],
        owner=world.orgs[owner],
        parsed={"tasks": tasks},
        fields=PlanFields(title=f"{owner}要点"),
    )


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [r for r in body.split("<tr>")[1:]]


def test_web_ledger_shows_status_light_and_rule(client, world):
    _plan(world)
    client.force_login(world.users["admin_a"])
    html = client.get(reverse("plans:ledger")).content.decode()
    assert "<th>状态</th>" in html
    assert "红灯 = 已逾期未完成" in html and "N 为制定规划的办公室" in html
    rows = _rows(html)
    lights = [r.split('class="light light-', 1)[1].split('"', 1)[0] for r in rows]
    assert lights == ["red", "yellow", "green"]  # overdue, due in 10 ≤ 14 days, later


def test_ledger_light_uses_each_plans_office_setting(client, world):
    _plan(world)
    services.office_setting_update(
        user=world.users["admin_a"], office=world.orgs["office_a"], warn_days=5, remind_days=3
    )
    client.force_login(world.users["admin_a"])
    rows = _rows(client.get(reverse("plans:ledger")).content.decode())
    lights = [r.split('class="light light-', 1)[1].split('"', 1)[0] for r in rows]
    assert lights == ["red", "green", "green"]  # 10 days > N = 5


def test_ledger_export_status_column_follows_reports(client, world):
    plan = _plan(world)
    round_ = services.round_open(
        user=world.users["admin_a"],
        office=world.orgs["office_a"],
        title="轮次",
        plans=[plan],
        opens_on=dt.date(2026, 1, 1),
        closes_on=timezone.localdate() + dt.timedelta(days=30),
    )
    report = Report.objects.get(round=round_, task__number="3")
    services.report_save(
        user=world.users["staff_a1"], report=report, version=None, state="done", narrative="完成"
    )
    services.report_submit(user=world.users["staff_a1"], report=report)
    services.report_review(user=world.users["admin_a"], report=report, accept=True)
    client.force_login(world.users["admin_a"])
    resp = client.get(reverse("plans:ledger_export"), {"plan": plan.pk})
    ws = load_workbook(io.BytesIO(resp.content)).active
    header = [c.value for c in ws[3]]
    assert header[-1] == "状态"
    statuses = [ws.cell(row=r, column=len(header)).value for r in range(4, 7)]
    assert statuses == ["滞后", "未开始", "已完成"]
    html = client.get(reverse("plans:ledger"), {"plan": plan.pk}).content.decode()
    assert "已完成" in _rows(html)[2]


def test_my_tasks_shows_deadline_status_and_action(client, world):
    plan = _plan(world)
    services.round_open(
        user=world.users["admin_a"],
        office=world.orgs["office_a"],
        title="轮次",
        plans=[plan],
        opens_on=dt.date(2026, 1, 1),
        closes_on=timezone.localdate() + dt.timedelta(days=30),
    )
    client.force_login(world.users["staff_a1"])
    html = client.get(reverse("plans:my_tasks")).content.decode()
    rows = _rows(html)
    assert len(rows) == 3
    assert "light-red" in rows[0] and "滞后" in rows[0]
    assert all("填报进展" in r for r in rows)
    assert "红灯 = 已逾期未完成" in html
    # staff_a2's unit has no report slot: no action
    client.force_login(world.users["staff_a2"])
    _plan(world, lead="市卫健委")
    html = client.get(reverse("plans:my_tasks")).content.decode()
    assert "无待填报" in html and "填报进展" not in html
