"""Query-count guards: progress pages cost the same for 3 rows as for 30."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kepu.plans.services import PlanFields, plan_create_from_parsed
from kepu.progress import services
from kepu.progress.models import Report

pytestmark = pytest.mark.django_db


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(url, params or {})
    assert resp.status_code == 200
    return len(ctx.captured_queries)


def _round(world, n: int):
    tasks = [
        {
            "path": [f"{k % 3 + 1}、部分"],
            "number": str(k),
            "title": f"任务{k}",
            "text": f"任务{k}。",
            "lead": ["市教体局"],
            "cooperate": ["市卫健委"],
            "responsible": ["市教体局", "市卫健委"],
            "targets": [
                {"text": f"不少于{k}场", "comparator": ">=", "value": k, "unit": "场", "year": 2026}
            ],
            "deadline": {"text": "6月底", "due": "2026-06-30", "recurring": None},
        }
        for k in range(1, n + 1)
    ]
    plan = plan_create_from_parsed(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        parsed={"tasks": tasks},
        fields=PlanFields(title=f"要点{n}"),
    )
    round_ = services.round_open(
        user=world.users["admin_a"],
        office=world.orgs["office_a"],
        title=f"轮次{n}",
        plans=[plan],
        opens_on=dt.date(2026, 1, 1),
        closes_on=dt.date(2026, 12, 31),
    )
    for r in Report.objects.filter(round=round_, organisation=world.orgs["unit_a1"]):
        services.report_save(
            user=world.users["staff_a1"], report=r, version=None, state="behind", narrative="进展"
        )
        services.report_submit(user=world.users["staff_a1"], report=r)
    return round_


@pytest.mark.parametrize(
    "name", ["progress:round", "progress:review", "progress:round_docx", "progress:round_xlsx"]
)
def test_round_pages_do_not_grow_with_tasks(client, world, name):
    client.force_login(world.users["admin_a"])
    small, large = _round(world, 3), _round(world, 30)
    assert _queries(client, reverse(name, args=[small.pk])) == _queries(
        client, reverse(name, args=[large.pk])
    )


def test_dashboard_does_not_grow_with_tasks(client, world):
    client.force_login(world.users["admin_a"])
    small, large = _round(world, 3), _round(world, 30)
    url = reverse("progress:dashboard")
    assert _queries(client, url, {"round": small.pk}) == _queries(client, url, {"round": large.pk})


@pytest.mark.parametrize(
    "name",
    ["progress:reports", "progress:rounds", "progress:notices", "notifications:inbox", "home"],
)
def test_lists_do_not_grow(client, world, name):
    client.force_login(world.users["staff_a1"])
    _round(world, 3)
    small = _queries(client, reverse(name))
    _round(world, 30)
    assert _queries(client, reverse(name)) == small
