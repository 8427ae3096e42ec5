"""Per-plan and per-office completion dashboards: the SQL status equals the rule of
``task_status``; drill-down, scoping and bounded query counts."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kepu.plans.models import Task
from kepu.plans.services import PlanFields, plan_create_from_parsed
from kepu.progress import completion, services
from kepu.progress.models import Report, ReportStatus, TaskTermination
from kepu.progress.selectors import attach_status

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 9, 1)


def _plan(world, n: int, title: str = "要点", due=None):
    tasks = [
        {
            "path": [f"{'一二三'[k % 3]}、部分{k % 3}"],
            "number": str(k),
            "title": f"任务{k}",
            "text": f"任务{k}。",
            "lead": ["市教体局"] if k % 4 else [],
            "cooperate": ["市卫健委"],
            "responsible": ["市教体局", "市卫健委"] if k % 4 else ["市卫健委"],
            "targets": [],
            "deadline": due(k) if due else None,
        }
        for k in range(1, n + 1)
    ]
    return plan_create_from_parsed(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        parsed={"tasks": tasks},
        fields=PlanFields(title=f"{title}{n}", period_start=2026, period_end=2026),
    )


def _round(world, plan, title="轮次", closes=dt.date(2026, 12, 31)):
    return services.round_open(
        user=world.users["admin_a"],
        office=world.orgs["office_a"],
        title=title,
        plans=[plan],
        opens_on=dt.date(2026, 1, 1),
        closes_on=closes,
    )


DUES = [None, "2026-08-01", "2026-09-05", "2026-09-30", "2027-06-30"]


def test_sql_status_equals_the_python_rule(world):
    """Random reports over two rounds: every task's SQL status and light are those of
    ``task_status`` (the rule shown in the UI)."""
    rng = random.Random(7)

    def due(k):
        d = DUES[k % len(DUES)]
        return {"text": d or "", "due": d, "recurring": None} if d else None

    plan = _plan(world, 40, due=due)
    _round(world, plan, "一季度")
    _round(world, plan, "二季度")
    now = timezone.now()
    for r in Report.objects.filter(task__plan=plan):
        status = rng.choice(ReportStatus.values)
        Report.objects.filter(pk=r.pk).update(
            status=status,
            state=rng.choice(["", "on_track", "done", "behind", "not_started"]),
            reviewed_at=now - dt.timedelta(days=rng.randint(0, 30))
            if status == "accepted" and rng.random() < 0.8
            else None,
        )
    for t in plan.tasks.order_by("order")[:3]:
        TaskTermination.objects.create(task=t, reason="调整")
    tasks = list(plan.tasks.order_by("order"))
    attach_status(tasks, today=TODAY, warn_days=20)
    sql = dict(
        (pk, (st, light))
        for pk, st, light in completion.with_status(
            Task.objects.filter(plan=plan), today=TODAY, warn_days=20
        ).values_list("pk", "st", "st_light")
    )
    expected = {t.pk: (t.progress_status.code, t.progress_status.light) for t in tasks}
    assert sql == expected
    assert len({v for v in expected.values()}) >= 5  # the draw covers most branches


def _get(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(url, params or {})
    return resp, len(ctx.captured_queries)


def test_plan_dashboard_counts_and_drill_down(client, world):
    plan = _plan(
        world, 6, due=lambda k: {"text": "8月1日前", "due": "2026-08-01", "recurring": None}
    )
    round_ = _round(world, plan, closes=dt.date(2026, 1, 31))  # closed deadline passed
    report = Report.objects.filter(round=round_, organisation=world.orgs["unit_a1"]).first()
    services.report_save(
        user=world.users["staff_a1"], report=report, version=None, state="done", narrative="完成"
    )
    services.report_submit(user=world.users["staff_a1"], report=report)
    services.report_review(user=world.users["admin_a"], report=report, accept=True)
    client.force_login(world.users["admin_a"])
    url = reverse("progress:plan_dashboard", args=[plan.pk])
    resp = client.get(url)
    assert resp.status_code == 200
    summary = resp.context["summary"]
    assert summary["total"] == 6
    assert summary["by_status"]["done"] == 1
    assert summary["by_status"]["late"] == 5  # due 2026-08-01 has passed (today is later)
    units = {u["organisation__name"]: u for u in resp.context["unit_rows"]}
    a1, a2 = units["曲靖市教育体育局"], units["曲靖市卫生健康委员会"]
    assert (a1["total"], a1["done"], a1["reported"], a1["on_time_rate"]) == (5, 1, 1, 0.0)
    assert a2["total"] == 6 and a2["unreported"] == 6
    silent = {r["organisation__name"]: r for r in resp.context["silent"]}
    assert silent["曲靖市卫生健康委员会"]["overdue"] == 6
    assert len(resp.context["tasks"].object_list) == 5  # the red ones
    # drill down to one unit: only its tasks
    resp = client.get(url, {"unit": world.orgs["unit_a1"].pk, "status": "done"})
    assert resp.context["summary"]["total"] == 5
    assert [t.pk for t in resp.context["tasks"]] == [report.task_id]
    # drill down to a section
    section = report.task.section
    resp = client.get(url, {"section": section.pk})
    assert resp.context["summary"]["total"] == plan.tasks.filter(section=section).count()
    # a section of another plan is out of this dashboard
    other = _plan(world, 2, "别的")
    bad = client.get(url, {"section": other.sections.first().pk})
    assert bad.status_code == 404


def test_dashboards_are_scoped(client, world):
    plan = _plan(world, 4)
    _round(world, plan)
    plan_url = reverse("progress:plan_dashboard", args=[plan.pk])
    office_url = reverse("progress:office_dashboard", args=[world.orgs["office_a"].pk])
    expected = {
        "admin_a": (200, 200),
        "viewer_a": (200, 200),
        "staff_a1": (200, None),
        "admin_b": (404, 404),
        "county_admin_a": (404, None),
        "nobody": (404, 404),
    }
    for who, (p_status, o_status) in expected.items():
        client.force_login(world.users[who])
        assert client.get(plan_url).status_code == p_status, who
        got = client.get(office_url).status_code
        if o_status is None:
            assert got in (403, 404), who
        else:
            assert got == o_status, who
    # a unit sees its own reports' figures only, never the other unit's
    client.force_login(world.users["staff_a1"])
    resp = client.get(plan_url)
    rows = {u["organisation__name"]: u for u in resp.context["unit_rows"]}
    assert rows["曲靖市卫生健康委员会"]["slots"] == 0
    assert rows["曲靖市教育体育局"]["slots"] == 3
    # a unit is not an office: no office dashboard
    client.force_login(world.users["admin_a"])
    unit_url = reverse("progress:office_dashboard", args=[world.orgs["unit_a1"].pk])
    assert client.get(unit_url).status_code == 404


@pytest.mark.parametrize("kind", ["plan", "office"])
def test_dashboard_queries_do_not_grow(client, world, kind):
    client.force_login(world.users["admin_a"])
    small = _plan(world, 3, "小")
    _round(world, small, "小轮次")
    if kind == "plan":
        _, n_small = _get(client, reverse("progress:plan_dashboard", args=[small.pk]))
    else:
        url = reverse("progress:office_dashboard", args=[world.orgs["office_a"].pk])
        _, n_small = _get(client, url)
    large = _plan(world, 40, "大")
    _round(world, large, "大轮次")
    if kind == "plan":
        resp, n_large = _get(client, reverse("progress:plan_dashboard", args=[large.pk]))
    else:
        resp, n_large = _get(client, url)
    assert resp.status_code == 200
    assert n_small == n_large
