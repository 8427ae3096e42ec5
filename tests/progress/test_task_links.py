"""Linking local tasks to the parent-plan tasks they implement: suggestions, the office's
confirmation, the coverage view, scoping."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from kepu.audit.models import AuditEntry
from kepu.plans.services import PlanFields, plan_create_from_parsed
from kepu.progress import services
from kepu.progress.models import LinkStatus, TaskLink

pytestmark = pytest.mark.django_db


def _task(n, title, lead="区教体局"):
    return {
        "path": ["一、重点任务"],
        "number": str(n),
        "title": title,
        "text": f"{title}。",
        "lead": [lead],
        "cooperate": [],
        "responsible": [lead],
        "targets": [],
    }


CITY = [
    "组织科技馆进校园、进社区活动",
    "开展农民实用技术培训",
    "加强科普人才队伍建设",
    "开展老年人防范电信诈骗科普宣传",
]
COUNTY = ["推动科技馆进校园活动", "举办农民实用技术培训班", "修订财务报销制度"]


@pytest.fixture
def plans(world):
    city = plan_create_from_parsed(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        parsed={"tasks": [_task(i, t, "市教体局") for i, t in enumerate(CITY, 1)]},
        fields=PlanFields(title="曲靖市实施方案"),
    )
    county = plan_create_from_parsed(
        user=world.users["county_admin_a"],
        owner=world.orgs["county_office_a"],
        parsed={"tasks": [_task(i, t) for i, t in enumerate(COUNTY, 1)]},
        fields=PlanFields(title="麒麟区工作要点"),
    )
    return city, county


def test_suggest_confirm_and_coverage(client, world, plans):
    city, county = plans
    admin = world.users["admin_a"]  # the city office sees both plans (the county's is below)
    n = services.links_suggest(user=admin, local_plan=county, parent_plan=city)
    links = list(TaskLink.objects.select_related("local", "parent").order_by("local__order"))
    assert n == len(links) >= 2
    best = {}
    for link in links:
        best.setdefault(link.local.title, link)
    assert best["推动科技馆进校园活动"].parent.title == CITY[0]
    assert best["举办农民实用技术培训班"].parent.title == CITY[1]
    assert "修订财务报销制度" not in best
    assert all(link.status == LinkStatus.SUGGESTED for link in links)
    assert AuditEntry.objects.filter(object_repr__contains="→").count() >= n
    # confirm one through the page, reject another
    client.force_login(admin)
    keep, drop = best["推动科技馆进校园活动"], best["举办农民实用技术培训班"]
    resp = client.post(reverse("progress:link_decide", args=[keep.pk]), {"decision": "confirm"})
    assert resp.status_code == 302
    client.post(reverse("progress:link_decide", args=[drop.pk]), {"decision": "reject"})
    keep.refresh_from_db()
    drop.refresh_from_db()
    assert (keep.status, drop.status) == (LinkStatus.CONFIRMED, LinkStatus.REJECTED)
    assert keep.decided_by == admin
    # suggesting again keeps the decided pairs, replaces open suggestions
    services.links_suggest(user=admin, local_plan=county, parent_plan=city)
    keep.refresh_from_db()
    assert keep.status == LinkStatus.CONFIRMED
    assert TaskLink.objects.get(pk=drop.pk).status == LinkStatus.REJECTED
    # coverage of the city plan, as the city office sees it
    resp = client.get(reverse("progress:plan_coverage", args=[city.pk]))
    assert resp.context["totals"] == {"total": 4, "covered": 1, "uncovered": 3}
    rows = {t.title: t for t in resp.context["page"].object_list}
    assert rows[CITY[0]].n_local == 1
    assert [link.local.title for link in rows[CITY[0]].local_tasks] == [COUNTY[0]]
    resp = client.get(reverse("progress:plan_coverage", args=[city.pk]), {"uncovered": "1"})
    assert [t.title for t in resp.context["page"].object_list] == CITY[1:]
    html = client.get(reverse("progress:plan_links", args=[county.pk]), {"parent": city.pk})
    assert html.status_code == 200 and "推动科技馆进校园活动" in html.content.decode()


def test_only_an_office_that_may_change_the_local_plan_decides(client, world, plans):
    city, county = plans
    with pytest.raises(PermissionDenied):  # the city cannot suggest for the county's plan
        services.links_suggest(user=world.users["staff_a1"], local_plan=county, parent_plan=city)
    services.links_suggest(user=world.users["admin_a"], local_plan=county, parent_plan=city)
    link = TaskLink.objects.first()
    # the county office cannot see the city's plan: no choice of parent, no decision
    client.force_login(world.users["county_admin_a"])
    resp = client.get(reverse("progress:plan_links", args=[county.pk]))
    assert resp.context["choices"] == []
    assert all(t.plan_links == [] for t in resp.context["page"].object_list)
    resp = client.post(reverse("progress:link_decide", args=[link.pk]), {"decision": "confirm"})
    assert resp.status_code == 404
    client.force_login(world.users["admin_b"])  # another city: out of sight
    resp = client.post(reverse("progress:link_decide", args=[link.pk]), {"decision": "confirm"})
    assert resp.status_code == 404
    client.force_login(world.users["viewer_a"])  # sees it, may not decide
    resp = client.post(reverse("progress:link_decide", args=[link.pk]), {"decision": "confirm"})
    assert resp.status_code == 403
    link.refresh_from_db()
    assert link.status == LinkStatus.SUGGESTED


def test_parent_must_be_the_same_or_a_higher_region(world, plans):
    city, county = plans
    with pytest.raises(ValidationError):  # the city's plan cannot implement the county's
        services.links_suggest(user=world.users["admin_a"], local_plan=city, parent_plan=county)
    with pytest.raises(ValidationError):
        services.links_suggest(user=world.users["admin_a"], local_plan=city, parent_plan=city)


def test_coverage_counts_only_links_the_user_may_see(client, world, plans):
    city, county = plans
    services.links_suggest(user=world.users["admin_a"], local_plan=county, parent_plan=city)
    for link in TaskLink.objects.all():
        services.link_decide(user=world.users["admin_a"], link=link, confirm=True)
    client.force_login(world.users["admin_b"])
    assert client.get(reverse("progress:plan_coverage", args=[city.pk])).status_code == 404
    client.force_login(world.users["staff_a1"])  # the city bureau: sees the city plan only
    resp = client.get(reverse("progress:plan_coverage", args=[city.pk]))
    assert resp.status_code == 200
    assert resp.context["totals"]["covered"] == 0


def test_coverage_queries_do_not_grow(client, world, plans):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    city, county = plans
    client.force_login(world.users["admin_a"])

    def count():
        with CaptureQueriesContext(connection) as ctx:
            client.get(reverse("progress:plan_coverage", args=[city.pk]))
            client.get(reverse("progress:plan_links", args=[county.pk]), {"parent": city.pk})
        return len(ctx.captured_queries)

    small = count()
    services.links_suggest(user=world.users["admin_a"], local_plan=county, parent_plan=city)
    for link in TaskLink.objects.all():
        services.link_decide(user=world.users["admin_a"], link=link, confirm=True)
    assert count() == small
