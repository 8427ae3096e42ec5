"""Bounded pages: every list paginates, and a plan with thousands of tasks gives a page of
bounded size with the same number of queries as a small plan."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kepu.core.pagination import PER_PAGE
from kepu.orgs.models import Membership, Organisation, OrganisationAlias, OrgKind
from kepu.orgs.scoping import Role
from kepu.plans.selectors import MAX_SECTIONS_SHOWN
from kepu.plans.services import PlanFields, plan_create_from_parsed

MAX_PAGE_BYTES = 300 * 1024
BIG = 2000


def _plan(world, n_tasks: int, *, sections: int = 3, title: str = ""):
    tasks = [
        {
            "path": [f"{k % sections + 1}、部分"],
            "number": str(k),
            "title": f"任务{k}:开展面向青少年的科学教育活动",
            "text": f"任务{k}。开展面向青少年的科学教育活动, 全年不少于{k}场。" * 3,
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
        fields=PlanFields(title=title or f"要点{n_tasks}"),
    )


def _get(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(url, params or {})
    assert resp.status_code == 200
    return resp.content.decode(), len(ctx.captured_queries)


def _task_rows(html: str) -> int:
    return len(re.findall(r'href="/plans/tasks/\d+/"', html))


@pytest.fixture
def big_and_small(world):
    return _plan(world, 20, title="小要点"), _plan(world, BIG, sections=400, title="大要点")


def test_big_plan_pages_are_bounded_and_cost_what_a_small_plan_costs(client, world, big_and_small):
    small, big = big_and_small
    client.force_login(world.users["admin_a"])
    checks = [
        (reverse("plans:detail", args=[small.pk]), reverse("plans:detail", args=[big.pk]), {}),
        (reverse("plans:ledger"), reverse("plans:ledger"), "plan"),
    ]
    for small_url, big_url, plan_param in checks:
        small_params = {"plan": small.pk} if plan_param else {}
        big_params = {"plan": big.pk} if plan_param else {}
        small_html, small_queries = _get(client, small_url, small_params)
        big_html, big_queries = _get(client, big_url, big_params)
        assert big_queries == small_queries, big_url
        assert len(big_html.encode()) <= MAX_PAGE_BYTES, (big_url, len(big_html.encode()))
        assert _task_rows(big_html) == PER_PAGE
        assert _task_rows(small_html) == 20
    # the plan's structure is bounded too
    html, _ = _get(client, reverse("plans:detail", args=[big.pk]))
    assert html.count("&section=") == MAX_SECTIONS_SHOWN
    assert "章节较多" in html
    assert f"任务 ({BIG})" in html
    # the whole ledger and a unit's tasks (the unit is named on all 2,020 tasks)
    html, _ = _get(client, reverse("plans:ledger"))
    assert len(html.encode()) <= MAX_PAGE_BYTES and _task_rows(html) == PER_PAGE
    assert "共 2020 项任务" in html
    client.force_login(world.users["staff_a1"])
    html, _ = _get(client, reverse("plans:my_tasks"))
    assert len(html.encode()) <= MAX_PAGE_BYTES and _task_rows(html) == PER_PAGE


def test_ledger_pages_through_all_tasks_keeping_the_filters(client, world):
    _plan(world, 120)
    client.force_login(world.users["admin_a"])
    seen: list[str] = []
    for page in (1, 2, 3):
        html, _ = _get(client, reverse("plans:ledger"), {"q": "任务", "page": page})
        seen += re.findall(r'href="/plans/tasks/(\d+)/"', html)
    assert len(seen) == len(set(seen)) == 120
    html, _ = _get(client, reverse("plans:ledger"), {"q": "任务", "page": 2})
    assert "第 2/3 页" in html and "共 120 条" in html
    # pager links keep the filter and carry one page parameter
    assert 'href="?q=%E4%BB%BB%E5%8A%A1&amp;page=3"' in html
    # the export link carries the filters but not the page
    assert 'export.xlsx?q=%E4%BB%BB%E5%8A%A1"' in html


def test_my_tasks_paginates(client, world):
    _plan(world, 70)
    client.force_login(world.users["staff_a1"])
    first, _ = _get(client, reverse("plans:my_tasks"))
    second, _ = _get(client, reverse("plans:my_tasks"), {"page": 2})
    assert _task_rows(first) == PER_PAGE and _task_rows(second) == 20
    assert "共 70 项任务" in first


def test_plan_list_paginates(client, world):
    for k in range(PER_PAGE + 5):
        _plan(world, 1, title=f"分页计划{k:03d}")
    client.force_login(world.users["admin_a"])
    first, _ = _get(client, reverse("plans:list"))
    second, _ = _get(client, reverse("plans:list"), {"page": 2})
    assert first.count("分页计划") == PER_PAGE and second.count("分页计划") == 5
    assert '<td class="num">1</td>' in first  # task counts for the shown plans


def test_org_list_paginates_and_counts_members(client, world):
    Organisation.objects.bulk_create(
        [
            Organisation(
                name=f"曲靖市分页单位{k:03d}",
                kind=OrgKind.DEPARTMENT,
                region=world.regions["city_a"],
            )
            for k in range(PER_PAGE + 10)
        ]
    )
    client.force_login(world.users["admin_a"])
    first, _ = _get(client, reverse("orgs:list"), {"q": "分页"})
    second, _ = _get(client, reverse("orgs:list"), {"q": "分页", "page": 2})
    assert first.count("曲靖市分页单位") == PER_PAGE and second.count("曲靖市分页单位") == 10
    assert "共 60 个组织" in first
    html, _ = _get(client, reverse("orgs:list"), {"q": "教育体育"})
    row = re.search(r"曲靖市教育体育局</a>.*?</tr>", html, re.S).group(0)
    assert row.endswith("<td>1</td></tr>")  # staff_a1 is its one member


def test_org_search_matches_aliases_once(client, world):
    org = world.orgs["unit_a1"]
    OrganisationAlias.objects.create(organisation=org, name="曲靖教育局甲")
    OrganisationAlias.objects.create(organisation=org, name="曲靖教育局乙")
    client.force_login(world.users["admin_a"])
    html, _ = _get(client, reverse("orgs:list"), {"q": "曲靖教育局"})
    assert html.count(f'href="/orgs/{org.pk}/"') == 1


def test_org_detail_paginates_members(client, world):
    org = world.orgs["unit_a1"]
    User = get_user_model()
    users = User.objects.bulk_create([User(username=f"m{k:03d}") for k in range(PER_PAGE + 3)])
    Membership.objects.bulk_create(
        [Membership(user=u, organisation=org, role=Role.VIEWER) for u in users]
    )
    client.force_login(world.users["admin_a"])
    first, _ = _get(client, reverse("orgs:detail", args=[org.pk]))
    second, _ = _get(client, reverse("orgs:detail", args=[org.pk]), {"page": 2})
    members = PER_PAGE + 4  # and staff_a1
    assert f"成员 ({members})" in first
    assert len(re.findall(r"<td>m\d{3}</td>", first)) + ("<td>staff_a1</td>" in first) == PER_PAGE
    assert len(re.findall(r"<td>m\d{3}</td>", second)) + ("<td>staff_a1</td>" in second) == 4


def test_plan_preview_searches_organisations_instead_of_listing_them(
    client, world, settings, tmp_path
):
    from kepu.plans import services as plan_services

    settings.MEDIA_ROOT = tmp_path
    Organisation.objects.bulk_create(
        [
            Organisation(
                name=f"曲靖市无关单位{k:03d}",
                kind=OrgKind.DEPARTMENT,
                region=world.regions["city_a"],
            )
            for k in range(40)
        ]
    )
    draft = plan_services.plan_draft_create(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        name="要点.txt",
        data="一、加强科普工作\n1.开展科普讲座。(市科协牵头,市教体局、某某局配合)\n".encode(),
    )
    client.force_login(world.users["admin_a"])
    html, _ = _get(client, reverse("plans:draft", args=[draft.pk]))
    assert "曲靖市无关单位" not in html
    assert html.count('data-autocomplete-url="/autocomplete/orgs/"') == 3  # one per unit
