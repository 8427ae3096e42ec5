"""Task deadlines stored from the parser, from the Excel ledger, and edited by hand."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from kepu.plans import services
from kepu.plans.models import Task
from kepu.plans.services import PlanFields, TaskEdit

pytestmark = pytest.mark.django_db


def _task(title, deadline):
    return {
        "path": [],
        "number": "1",
        "title": title,
        "text": title,
        "lead": ["市科协"],
        "cooperate": [],
        "responsible": ["市科协"],
        "targets": [],
        "deadline": deadline,
    }


def make_plan(world, *, tasks, title="2026年测试要点", edits=()):
    return services.plan_create_from_parsed(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        parsed={"tasks": tasks, "targets": []},
        fields=PlanFields(title=title, period_start=2026, period_end=2026, tasks=list(edits)),
    )


def test_parsed_deadline_is_stored(world):
    plan = make_plan(
        world,
        tasks=[
            _task("开展讲座", {"text": "10月8日前", "due": "2026-10-08", "recurring": None}),
            _task("长期工作", {"text": "长期坚持", "due": None, "recurring": "ongoing"}),
            _task("没有时限", None),
        ],
    )
    got = [(t.deadline, t.due_on, t.deadline_recurring) for t in plan.tasks.order_by("order")]
    assert got == [
        ("10月8日前", dt.date(2026, 10, 8), ""),
        ("长期坚持", None, "ongoing"),
        ("", None, ""),
    ]


def test_preview_correction_is_parsed_with_the_plan_year(world):
    plan = make_plan(
        world,
        tasks=[_task("开展讲座", {"text": "10月8日前", "due": "2026-10-08", "recurring": None})],
        edits=[TaskEdit(index=0, deadline="6月底")],
    )
    task = plan.tasks.get()
    assert (task.deadline, task.due_on) == ("6月底", dt.date(2026, 6, 30))


def test_task_edit_sets_and_parses_the_deadline(client, world):
    plan = make_plan(world, tasks=[_task("开展讲座", None)])
    task = plan.tasks.get()
    client.force_login(world.users["admin_a"])
    url = reverse("plans:task_edit", args=[task.pk])
    assert "完成时限" in client.get(url).content.decode()
    resp = client.post(
        url,
        {"title": "开展讲座", "lead": "市科协", "deadline": "2026年12月底前", "due_on": ""},
    )
    assert resp.status_code == 302
    task.refresh_from_db()
    assert (task.deadline, task.due_on) == ("2026年12月底前", dt.date(2026, 12, 31))
    client.post(
        url, {"title": "开展讲座", "lead": "市科协", "deadline": "", "due_on": "2026-11-30"}
    )
    task.refresh_from_db()
    assert task.due_on == dt.date(2026, 11, 30) and task.deadline == "2026年11月30日前"
    ledger = client.get(reverse("plans:ledger")).content.decode()
    assert "截止 2026-11-30" in ledger


def test_unit_staff_cannot_set_a_deadline(client, world):
    plan = make_plan(world, tasks=[_task("开展讲座", None)])
    task = plan.tasks.get()
    client.force_login(world.users["staff_a1"])
    resp = client.post(
        reverse("plans:task_edit", args=[task.pk]),
        {"title": "x", "lead": "市科协", "deadline": "2026年12月底前"},
    )
    assert resp.status_code in (403, 404)
    assert Task.objects.get(pk=task.pk).due_on is None
