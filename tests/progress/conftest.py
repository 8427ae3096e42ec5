"""A city plan with unit tasks and cascading tasks, a sibling county, and an open round."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model

from kepu.orgs.models import Membership, Organisation, OrgKind
from kepu.orgs.scoping import Role
from kepu.plans.services import PlanFields, plan_create_from_parsed
from kepu.regions.models import Level
from tests.conftest import PASSWORD, make_region


def _task(n, title, lead, cooperate=(), deadline=None, targets=()):
    return {
        "path": ["一、重点任务"],
        "number": str(n),
        "title": title,
        "text": f"{title}。",
        "lead": list(lead),
        "cooperate": list(cooperate),
        "responsible": [*lead, *cooperate],
        "targets": list(targets),
        "deadline": deadline,
    }


PLAN_TASKS = [
    _task(
        1,
        "开展中小学科学教育",
        ["市教体局"],
        ["市卫健委"],
        {"text": "2026年12月底前", "due": "2026-12-31", "recurring": None},
        [
            {
                "text": "培训教师300人以上",
                "comparator": ">=",
                "value": 300,
                "unit": "人",
                "year": None,
            }
        ],
    ),
    _task(2, "建设社区科普站", ["各县(市、区)人民政府"], ["各乡镇(街道)"]),
    _task(3, "开展中期评估", ["市科协"], ["各成员单位"]),
]


@pytest.fixture
def pw(world):
    """progress world: ``world`` plus a sibling county, a plan and its users."""
    county_a2 = make_region("530303", "沾益区", Level.COUNTY, world.regions["city_a"])
    world.regions["county_a2"] = county_a2
    sibling = Organisation.objects.create(
        name="沾益区科学技术协会", kind=OrgKind.ASSOCIATION, region=county_a2, short_name="区科协"
    )
    world.orgs["county_office_a2"] = sibling
    User = get_user_model()
    u = User.objects.create_user(username="county_admin_a2", password=PASSWORD)
    Membership.objects.create(user=u, organisation=sibling, role=Role.OFFICE_ADMIN)
    world.users["county_admin_a2"] = u
    town_user = User.objects.create_user(username="town_staff", password=PASSWORD)
    Membership.objects.create(
        user=town_user, organisation=world.orgs["town_a"], role=Role.UNIT_STAFF
    )
    world.users["town_staff"] = town_user
    world.plan = plan_create_from_parsed(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        parsed={"tasks": PLAN_TASKS, "targets": []},
        fields=PlanFields(title="2026年曲靖市科普工作要点", period_start=2026, period_end=2026),
    )
    world.tasks = list(world.plan.tasks.order_by("order"))
    return world


@pytest.fixture
def round_(pw):
    from kepu.progress.services import round_open

    return round_open(
        user=pw.users["admin_a"],
        office=pw.orgs["office_a"],
        title="2026年第三季度",
        plans=[pw.plan],
        opens_on=dt.date(2026, 7, 1),
        closes_on=dt.date(2026, 10, 10),
    )
