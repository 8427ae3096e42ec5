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
    client.force_login(world.users["admin_b"])  # another city: out of sight
    resp = client.post(reverse("progress:link_decide", args=[link.pk]), {"decision": "confirm"})
    assert resp.status_code == 404
    client.force_login(world.users["viewer_a"])  # sees it, may not decide
    resp = client.post(reverse("progress:link_decide", args=[link.pk]), {"decision": "confirm"})
    assert resp.status_code == 403
    link.refresh_from_db()
    assert link.status == LinkStatus.SUGGESTED


@pytest.fixture
def sibling(world):
    """A second county of city A with its own office, administrator and plan."""
    from django.contrib.auth import get_user_model

    from kepu.orgs.models import Membership, Organisation, OrgKind
    from kepu.orgs.scoping import Role
    from tests.conftest import make_region

    region = make_region("530303", "沾益区", 3, world.regions["city_a"])
    office = Organisation.objects.create(
        name="沾益区科学技术协会", kind=OrgKind.ASSOCIATION, region=region
    )
    user = get_user_model().objects.create_user(username="county_admin_a2", password="x")
    Membership.objects.create(user=user, organisation=office, role=Role.OFFICE_ADMIN)
    plan = plan_create_from_parsed(
        user=user,
        owner=office,
        parsed={"tasks": [_task(1, "推动科技馆进校园活动"), _task(2, "开展农民实用技术培训")]},
        fields=PlanFields(title="沾益区工作要点"),
    )
    return user, plan


def test_a_county_office_links_its_tasks_to_the_city_plan(client, world, plans, sibling):
    """The county reads the city plan's tasks on the linking pages only (read_down through
    the gate), suggests, confirms and picks by hand; it never changes the city plan."""
    from kepu.orgs.scoping import Action, can
    from kepu.plans.models import Plan, Task

    city, county = plans
    me = world.users["county_admin_a"]
    # the gate: read down only when asked, only for reading
    assert not can(me, city, Action.VIEW)
    assert can(me, city, Action.VIEW, read_down=True)
    assert city not in Plan.objects.restrict(me, Action.VIEW)  # not in its lists or ledger
    assert not Task.objects.restrict(me, Action.CHANGE).filter(plan=city).exists()
    with pytest.raises(ValueError):
        Task.objects.restrict(me, Action.CHANGE, read_down=True)
    n = services.links_suggest(user=me, local_plan=county, parent_plan=city)
    assert n >= 2
    link = TaskLink.objects.get(local__title=COUNTY[0], parent__title=CITY[0])
    entry = AuditEntry.objects.get(
        content_type__model="tasklink", object_id=str(link.pk), action="create"
    )
    assert entry.actor == me and entry.region_path == world.regions["county_a"].path
    # the page: the city plan is a choice, its tasks are shown as text (no task page)
    client.force_login(me)
    resp = client.get(reverse("progress:plan_links", args=[county.pk]), {"parent": city.pk})
    assert resp.context["choices"] == [city] and resp.context["parent_readable"] is False
    html = resp.content.decode()
    assert CITY[0] in html and reverse("plans:task", args=[link.parent_id]) not in html
    resp = client.post(reverse("progress:link_decide", args=[link.pk]), {"decision": "confirm"})
    assert resp.status_code == 302
    link.refresh_from_db()
    assert (link.status, link.decided_by) == (LinkStatus.CONFIRMED, me)
    # pick by hand on the links page: county task 3 implements city task 3
    local3 = county.tasks.get(number="3")
    resp = client.post(
        reverse("progress:link_create", args=[county.pk]),
        {"local": local3.pk, "parent_plan": city.pk, "parent_number": "3"},
    )
    assert resp.status_code == 302
    picked = TaskLink.objects.get(local=local3)
    assert (picked.parent.title, picked.status) == (CITY[2], LinkStatus.CONFIRMED)
    # an unknown number is refused with a message, nothing written
    resp = client.post(
        reverse("progress:link_create", args=[county.pk]),
        {"local": local3.pk, "parent_plan": city.pk, "parent_number": "99"},
        follow=True,
    )
    assert "上级规划中没有该序号的任务" in resp.content.decode()
    # the city plan's coverage as the county sees it: only its own links count, and it
    # picks a local task for an uncovered city task
    url = reverse("progress:plan_coverage", args=[city.pk])
    resp = client.get(url, {"local": county.pk, "uncovered": "1"})
    assert resp.status_code == 200
    assert resp.context["totals"] == {"total": 4, "covered": 2, "uncovered": 2}
    assert resp.context["local_plan"] == county
    uncovered = [t.title for t in resp.context["page"].object_list]
    assert uncovered == [CITY[1], CITY[3]]
    parent2 = city.tasks.get(title=CITY[1])
    resp = client.post(
        reverse("progress:link_create", args=[county.pk]),
        {"parent_task": parent2.pk, "local_number": "2", "next": f"{url}?local={county.pk}"},
    )
    assert resp.status_code == 302 and resp["Location"] == f"{url}?local={county.pk}"
    assert TaskLink.objects.get(local__number="2", local__plan=county).parent == parent2
    # the other county's links are not counted for this county, and vice versa
    other, other_plan = sibling
    services.links_suggest(user=other, local_plan=other_plan, parent_plan=city)
    for other_link in TaskLink.objects.filter(local__plan=other_plan):
        services.link_decide(user=other, link=other_link, confirm=True)
    resp = client.get(url, {"local": county.pk})
    assert resp.context["totals"]["covered"] == 3
    # the city office sees both counties' links
    client.force_login(world.users["admin_a"])
    totals = client.get(url).context["totals"]
    assert totals["covered"] == 3 and totals["total"] == 4
    # and the city plan is unchanged: the county never wrote it
    assert city.tasks.count() == 4 and city.version == Plan.objects.get(pk=city.pk).version


def test_a_county_cannot_reach_a_sibling_countys_plan_or_links(client, world, plans, sibling):
    from kepu.orgs.scoping import Action, can

    city, county = plans
    me = world.users["county_admin_a"]
    other, other_plan = sibling
    # siblings are not above each other: no reading down
    assert not can(me, other_plan, Action.VIEW, read_down=True)
    assert not can(other, county, Action.VIEW, read_down=True)
    with pytest.raises(PermissionDenied):  # the sibling's plan is not a parent it reads
        services.links_suggest(user=me, local_plan=county, parent_plan=other_plan)
    with pytest.raises(PermissionDenied):  # nor may it suggest for the sibling's plan
        services.links_suggest(user=me, local_plan=other_plan, parent_plan=city)
    services.links_suggest(user=other, local_plan=other_plan, parent_plan=city)
    theirs = TaskLink.objects.filter(local__plan=other_plan).first()
    with pytest.raises(PermissionDenied):
        services.link_decide(user=me, link=theirs, confirm=True)
    with pytest.raises(PermissionDenied):
        services.link_create(user=me, local=other_plan.tasks.first(), parent=city.tasks.first())
    with pytest.raises(PermissionDenied):  # a city task is read, never a local task here
        services.link_create(user=me, local=city.tasks.first(), parent=county.tasks.first())
    client.force_login(me)
    for resp in (
        client.get(reverse("progress:plan_links", args=[other_plan.pk])),
        client.get(reverse("progress:plan_coverage", args=[other_plan.pk])),
        client.get(reverse("plans:detail", args=[city.pk])),
        client.post(reverse("progress:link_decide", args=[theirs.pk]), {"decision": "confirm"}),
        client.post(
            reverse("progress:link_create", args=[other_plan.pk]),
            {"local_number": "1", "parent_task": city.tasks.first().pk},
        ),
        client.post(
            reverse("progress:plan_links_suggest", args=[county.pk]), {"parent": other_plan.pk}
        ),
    ):
        assert resp.status_code == 404
    # the links page of its own plan does not offer the sibling's plan
    resp = client.get(reverse("progress:plan_links", args=[county.pk]))
    assert other_plan not in resp.context["choices"]
    # the coverage page does not accept the sibling's plan as the local plan
    resp = client.get(reverse("progress:plan_coverage", args=[city.pk]), {"local": other_plan.pk})
    assert resp.context["local_plan"] is None
    theirs.refresh_from_db()
    assert theirs.status == LinkStatus.SUGGESTED


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


@pytest.mark.parametrize("who", ["admin_a", "county_admin_a"])
def test_coverage_queries_do_not_grow(client, world, plans, who):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    city, county = plans
    client.force_login(world.users[who])

    def count():
        with CaptureQueriesContext(connection) as ctx:
            resp = client.get(
                reverse("progress:plan_coverage", args=[city.pk]), {"local": county.pk}
            )
            assert resp.status_code == 200
            client.get(reverse("progress:plan_links", args=[county.pk]), {"parent": city.pk})
        return len(ctx.captured_queries)

    small = count()
    services.links_suggest(user=world.users[who], local_plan=county, parent_plan=city)
    for link in TaskLink.objects.all():
        services.link_decide(user=world.users[who], link=link, confirm=True)
    assert count() == small
