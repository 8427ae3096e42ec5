"""N+1 guards: list views issue the same number of queries for 3 rows as for 30."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kepu.orgs.models import Organisation, OrgKind
from kepu.plans.services import PlanFields, plan_create_from_parsed


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(url, params or {})
    assert resp.status_code == 200
    return len(ctx.captured_queries)


def _plan(world, n_tasks: int):
    tasks = [
        {
            "path": [f"{k % 3 + 1}、部分"],
            "number": str(k),
            "title": f"任务{k}",
            "text": f"任务{k}。",
            "lead": ["市教体局"],
            "cooperate": ["市卫健委", "市科协"],
            "responsible": ["市教体局", "市卫健委", "市科协"],
            "targets": [
                {"text": f"不少于{k}场", "comparator": ">=", "value": k, "unit": "场", "year": 2026}
            ],
        }
        for k in range(1, n_tasks + 1)
    ]
    plan_create_from_parsed(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        parsed={"tasks": tasks},
        fields=PlanFields(title=f"要点{n_tasks}"),
    )


def test_ledger_queries_do_not_grow_with_tasks(client, world):
    client.force_login(world.users["admin_a"])
    _plan(world, 3)
    small = _queries(client, reverse("plans:ledger"))
    _plan(world, 30)
    large = _queries(client, reverse("plans:ledger"))
    assert large == small


def test_my_tasks_queries_do_not_grow_with_tasks(client, world):
    client.force_login(world.users["staff_a1"])
    _plan(world, 3)
    small = _queries(client, reverse("plans:my_tasks"))
    _plan(world, 30)
    assert _queries(client, reverse("plans:my_tasks")) == small


def test_org_list_queries_do_not_grow_with_organisations(client, world):
    client.force_login(world.users["admin_a"])
    small = _queries(client, reverse("orgs:list"))
    for k in range(30):
        Organisation.objects.create(
            name=f"曲靖市测试单位{k}", kind=OrgKind.DEPARTMENT, region=world.regions["city_a"]
        )
    assert _queries(client, reverse("orgs:list")) == small
