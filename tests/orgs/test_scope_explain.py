"""Scope queries use indexes (PostgreSQL): a unit's view of the ledger costs what its own
rows cost. Built at a realistic size (thousands of tasks and task units, a unit named on
three of them), analysed, and EXPLAINed: neither big table may be scanned sequentially.
The old form, ``owner = X OR taskunit.organisation = X`` over a LEFT JOIN, scans both."""

from __future__ import annotations

import pytest
from django.db import connection

from kepu.orgs.models import Organisation, OrgKind
from kepu.orgs.scoping import Action
from kepu.plans import selectors
from kepu.plans.models import Plan, Task, TaskUnit, UnitRole

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="EXPLAIN plans are checked on PostgreSQL"
)

N_PLANS = 1000
TASKS_PER_PLAN = 10  # 10,000 tasks
UNITS_PER_TASK = 3  # 30,000 task units
BIG_TABLES = ("plans_task", "plans_taskunit")


@pytest.fixture
def ledger_at_scale(world):
    city = world.regions["city_a"]
    depts = Organisation.objects.bulk_create(
        Organisation(name=f"曲靖市第{i}局", kind=OrgKind.DEPARTMENT, region=city) for i in range(60)
    )
    plans = Plan.objects.bulk_create(
        Plan(title=f"要点{i}", region=city, owner=world.orgs["office_a"]) for i in range(N_PLANS)
    )
    tasks = Task.objects.bulk_create(
        Task(plan=p, order=k, title=f"任务{p.pk}-{k}") for p in plans for k in range(TASKS_PER_PLAN)
    )
    TaskUnit.objects.bulk_create(
        TaskUnit(
            task=t,
            name=depts[(i + j) % len(depts)].name,
            role=UnitRole.LEAD if j == 0 else UnitRole.COOPERATE,
            organisation=depts[(i + j) % len(depts)],
            order=j,
        )
        for i, t in enumerate(tasks)
        for j in range(UNITS_PER_TASK)
    )
    unit = world.orgs["unit_a1"]
    named = tasks[::3500][:3]
    TaskUnit.objects.bulk_create(
        TaskUnit(task=t, name=unit.name, role=UnitRole.LEAD, organisation=unit, order=9)
        for t in named
    )
    with connection.cursor() as cursor:
        for table in ("plans_plan", "plans_task", "plans_taskunit", "orgs_organisation"):
            cursor.execute(f"ANALYZE {table}")
    return {t.pk for t in named}


def _assert_no_seq_scan(plan_text: str) -> None:
    for table in BIG_TABLES:
        assert f"Seq Scan on {table}" not in plan_text, plan_text


def test_unit_scope_uses_indexes(world, ledger_at_scale):
    """One data set, three queries: the gate itself, the ledger page, the plan list."""
    assert Task.objects.count() >= 10000 and TaskUnit.objects.count() >= 30000
    staff = world.users["staff_a1"]
    qs = Task.objects.restrict(staff, Action.VIEW)
    assert set(qs.values_list("pk", flat=True)) == ledger_at_scale
    _assert_no_seq_scan(qs.explain())

    ledger = selectors.task_ledger(user=staff, filters=selectors.LedgerFilters())
    assert {t.pk for t in ledger} == ledger_at_scale
    _assert_no_seq_scan(ledger.explain())

    plans = Plan.objects.restrict(staff, Action.VIEW)
    assert plans.count() == 3
    _assert_no_seq_scan(plans.explain())
