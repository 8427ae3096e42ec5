"""N+1 guards: every list page issues the same number of queries for a few rows as for
more rows than fit on one page (pagination: 50 a page)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kepu.orgs.models import Membership, Organisation, OrganisationAlias, OrgKind
from kepu.orgs.scoping import Role
from kepu.plans.models import Plan
from kepu.plans.services import PlanFields, plan_create_from_parsed
from kepu.regions.models import Level, Region
from kepu.survey.models import Wave, WaveKind

MANY = 60  # more than one page


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
    return plan_create_from_parsed(
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


def _same_queries(client, url, grow, params=None) -> None:
    small = _queries(client, url, params)
    grow()
    assert _queries(client, url, params) == small


LEDGER_FILTERS = {
    "region": "530300",
    "q": "任务",
    "has_target": "on",
    "role": "lead",
    "key_group": "",
}


@pytest.mark.parametrize("page", ["1", "2"])
def test_ledger_with_filters_queries_do_not_grow(client, world, page):
    client.force_login(world.users["admin_a"])
    _plan(world, 3)
    params = {**LEDGER_FILTERS, "organisation": world.orgs["unit_a1"].pk, "page": page}
    _same_queries(client, reverse("plans:ledger"), lambda: _plan(world, MANY), params)


def test_ledger_of_one_plan_queries_do_not_grow(client, world):
    client.force_login(world.users["admin_a"])
    small = _plan(world, 3)
    large = _plan(world, MANY)
    url = reverse("plans:ledger")
    assert _queries(client, url, {"plan": small.pk}) == _queries(client, url, {"plan": large.pk})


def test_ledger_for_a_unit_queries_do_not_grow(client, world):
    client.force_login(world.users["staff_a2"])
    _plan(world, 3)
    _same_queries(client, reverse("plans:ledger"), lambda: _plan(world, MANY))


def test_plan_list_queries_do_not_grow_with_plans(client, world):
    client.force_login(world.users["admin_a"])
    _plan(world, 3)

    def grow():
        Plan.objects.bulk_create(
            [
                Plan(
                    title=f"要点计划{k}",
                    region=world.regions["city_a"],
                    owner=world.orgs["office_a"],
                )
                for k in range(MANY)
            ]
        )
        _plan(world, 5)

    _same_queries(client, reverse("plans:list"), grow)


def test_plan_detail_queries_do_not_grow_with_tasks(client, world):
    client.force_login(world.users["admin_a"])
    small = _plan(world, 3)
    large = _plan(world, MANY)
    for params in ({}, {"page": "2"}):
        assert _queries(client, reverse("plans:detail", args=[small.pk]), params) == _queries(
            client, reverse("plans:detail", args=[large.pk]), params
        )


def test_my_tasks_page_two_queries_do_not_grow(client, world):
    client.force_login(world.users["staff_a1"])
    _plan(world, 3)
    _same_queries(
        client, reverse("plans:my_tasks"), lambda: _plan(world, MANY), {"page": "2", "role": "lead"}
    )


def _many_orgs(world, n=MANY):
    orgs = Organisation.objects.bulk_create(
        [
            Organisation(
                name=f"曲靖市批量单位{k}", kind=OrgKind.DEPARTMENT, region=world.regions["city_a"]
            )
            for k in range(n)
        ]
    )
    OrganisationAlias.objects.bulk_create(
        [OrganisationAlias(organisation=o, name=f"批量别名{o.pk}") for o in orgs]
    )
    User = get_user_model()
    for k, o in enumerate(orgs[:3]):
        u = User.objects.create_user(username=f"batch{k}")
        Membership.objects.create(user=u, organisation=o, role=Role.VIEWER)


@pytest.mark.parametrize("params", [{}, {"q": "曲靖"}, {"q": "曲靖", "kind": "department"}])
def test_org_list_with_search_queries_do_not_grow(client, world, params):
    client.force_login(world.users["admin_a"])
    _same_queries(client, reverse("orgs:list"), lambda: _many_orgs(world), params)


def test_org_detail_queries_do_not_grow_with_members(client, world):
    client.force_login(world.users["admin_a"])
    org = world.orgs["unit_a1"]

    def grow():
        User = get_user_model()
        users = User.objects.bulk_create(
            [User(username=f"member{k}", first_name=f"成员{k}") for k in range(MANY)]
        )
        Membership.objects.bulk_create(
            [Membership(user=u, organisation=org, role=Role.UNIT_STAFF) for u in users]
        )

    _same_queries(client, reverse("orgs:detail", args=[org.pk]), grow)


def test_wave_list_queries_do_not_grow_with_waves(client, world):
    client.force_login(world.users["admin_a"])

    def waves(years):
        Wave.objects.bulk_create(
            [
                Wave(
                    title=f"{y}年调查",
                    kind=WaveKind.LOCAL,
                    year=y,
                    region=world.regions["city_a"],
                    owner=world.orgs["office_a"],
                )
                for y in years
            ]
        )

    waves([2020])
    _same_queries(client, reverse("survey:waves"), lambda: waves(range(2021, 2021 + MANY)))


def _many_regions(world):
    county = world.regions["county_a"]
    Region.objects.bulk_create(
        [
            Region(
                code=f"530302{k:03d}",
                name=f"测试街道{k}",
                level=Level.TOWNSHIP,
                parent=county,
                path=f"{county.path}530302{k:03d}/",
            )
            for k in range(2, 2 + MANY)
        ]
    )


@pytest.mark.parametrize("who", ["admin_a", "staff_a1", "super"])
@pytest.mark.parametrize(
    "source,query",
    [
        ("orgs", ""),
        ("orgs", "曲靖"),
        ("plans", ""),
        ("plans", "要点"),
        ("regions", ""),
        ("regions", "街道"),
        ("regions", "5303"),
    ],
)
def test_autocomplete_queries_do_not_grow(client, world, who, source, query):
    client.force_login(world.users[who])
    _plan(world, 1)

    def grow():
        _many_orgs(world)
        _many_regions(world)
        Plan.objects.bulk_create(
            [
                Plan(
                    title=f"要点计划{k}",
                    region=world.regions["city_a"],
                    owner=world.orgs["office_a"],
                )
                for k in range(MANY)
            ]
        )

    _same_queries(client, reverse("autocomplete", args=[source]), grow, {"q": query})


@pytest.mark.parametrize("name", ["progress:office_dashboard", "progress:plan_dashboard"])
def test_completion_dashboards_queries_do_not_grow(client, world, name):
    """Per-office and per-plan completion: a plan of 3 tasks costs what one of 60 does
    (several pages of units, sections, unreported units and tasks)."""
    import datetime as dt

    from kepu.progress.services import round_open

    client.force_login(world.users["admin_a"])
    small, large = _plan(world, 3), _plan(world, MANY)
    for plan in (small, large):
        round_open(
            user=world.users["admin_a"],
            office=world.orgs["office_a"],
            title=plan.title,
            plans=[plan],
            opens_on=dt.date(2026, 1, 1),
            closes_on=dt.date(2026, 1, 31),
        )
    if name == "progress:office_dashboard":
        url = reverse(name, args=[world.orgs["office_a"].pk])
        _same_queries(client, url, lambda: _plan(world, MANY), {"status": "not_started"})
    else:
        small_n = _queries(client, reverse(name, args=[small.pk]), {"status": "not_started"})
        assert (
            _queries(client, reverse(name, args=[large.pk]), {"status": "not_started"}) == small_n
        )


def test_plan_coverage_queries_do_not_grow(client, world):
    from kepu.progress.models import TaskLink

    client.force_login(world.users["admin_a"])
    parent, local = _plan(world, MANY), _plan(world, MANY + 1)
    url = reverse("progress:plan_coverage", args=[parent.pk])

    def link_all():
        TaskLink.objects.bulk_create(  # unscoped: test data
            TaskLink(local=lt, parent=pt, status="confirmed", score=1)
            for lt, pt in zip(local.tasks.all(), parent.tasks.all(), strict=False)
        )

    _same_queries(client, url, link_all)


# --- registries: museums, teams, volunteers ------------------------------------------------
def _registry_rows(world, n: int, start: int) -> Any:
    """``n`` more museums (city A), teams (county A) and volunteers in the first team."""
    from kepu.registry import services
    from kepu.registry.models import Volunteer, VolunteerTeam
    from tests.registry.conftest import id_number, museum_fields

    admin = world.users["admin_a"]
    for i in range(start, start + n):
        m = services.museum_save(
            user=admin,
            organisation=world.orgs["unit_a1"],
            fields=museum_fields(world, name=f"科技馆{i}"),
        )
        services.museum_report_open(user=admin, museum=m, year=2026)
        services.team_save(
            user=admin,
            fields=services.TeamFields(
                name=f"服务队{i}",
                kind="youth",
                region=world.regions["county_a"],
                host=world.orgs["unit_a1"],
            ),
        )
    team = VolunteerTeam.objects.order_by("pk").first()
    for i in range(start, start + n):
        Volunteer.objects.create(  # unscoped: test data
            team=team,
            name=f"志愿者{i}",
            id_hash=f"{i:064d}",
            id_masked=id_number(i)[:3] + "*" * 11 + id_number(i)[-4:],
            gender="male",
            birth_year=1990,
        )
    return team


@pytest.mark.parametrize("who", ["admin_a", "staff_a1", "county_admin_a"])
def test_registry_lists_queries_do_not_grow(client, world, who):
    team = _registry_rows(world, 3, 0)
    client.force_login(world.users[who])
    urls = [
        (reverse("registry:museums"), {}),
        (reverse("registry:museums"), {"q": "科技馆", "region": "530300"}),
        (reverse("registry:teams"), {"kind": "youth", "region": "530302"}),
        (reverse("registry:team", args=[team.pk]), {}),
        (reverse("registry:volunteers"), {"q": "志愿者"}),
        (reverse("registry:volunteers"), {"page": "30"}),  # past the 20-page cap
        (reverse("registry:museum_summary"), {"year": "2026"}),
        (reverse("registry:volunteer_totals"), {"year": "2026"}),
    ]
    small = [_queries(client, url, params) for url, params in urls]
    _registry_rows(world, MANY, 100)
    assert [_queries(client, url, params) for url, params in urls] == small


@pytest.mark.parametrize(
    "name,params",
    [
        ("statistics:collection", {}),
        ("statistics:rollup", {}),
        ("statistics:rollup", {"by": "department"}),
        ("statistics:index", {}),
    ],
)
def test_statistics_pages_queries_do_not_grow_with_reports(client, world, name, params):
    from tests.statistics.conftest import add_reports, make_collection

    collection = make_collection(world)
    client.force_login(world.users["admin_a"])
    url = reverse(name) if name == "statistics:index" else reverse(name, args=[collection.pk])
    add_reports(world, collection, 2, status="submitted")
    add_reports(world, collection, 2)
    small = _queries(client, url, params)
    add_reports(world, collection, MANY, status="submitted")
    add_reports(world, collection, MANY)
    assert _queries(client, url, params) == small
