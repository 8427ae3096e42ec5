"""Who owns what: the owner's office (and the offices above it) writes; offices below
read. A city-owned survey wave or plan about a county is read by the county office but
neither changed nor deleted by it; the original document of a plan is downloaded by its
owner office and the offices above, not by a unit named on some of its tasks."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from kepu.orgs.models import Membership, Organisation, OrgKind
from kepu.orgs.scoping import Action, Role, can
from kepu.plans.models import Plan, Task
from kepu.survey import services as survey_services
from kepu.survey.models import Wave


def _office(world, key, name, kind, region_key, admin):
    org = Organisation.objects.create(name=name, kind=kind, region=world.regions[region_key])
    user = get_user_model().objects.create_user(username=admin, password="x" * 12)
    Membership.objects.create(user=user, organisation=org, role=Role.OFFICE_ADMIN)
    world.orgs[key] = org
    world.users[admin] = user
    return org


@pytest.fixture
def owners(world, settings, tmp_path):
    """A province office above, a peer office (纲要办) beside the city 科协, and one wave
    and one plan of the city office about the county."""
    from kepu.plans.services import PlanFields, plan_create_from_parsed

    settings.MEDIA_ROOT = tmp_path
    _office(world, "prov_office", "云南省科学技术协会", OrgKind.ASSOCIATION, "prov", "prov_admin")
    _office(world, "peer_office", "曲靖市纲要办", OrgKind.OFFICE, "city_a", "peer_admin")
    wave = survey_services.wave_create(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        fields=survey_services.WaveFields(title="市对区的调查", region=world.regions["county_a"]),
    )
    county_wave = survey_services.wave_create(
        user=world.users["county_admin_a"],
        owner=world.orgs["county_office_a"],
        fields=survey_services.WaveFields(title="区自己的调查"),
    )
    plan = plan_create_from_parsed(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        parsed={
            "tasks": [
                {
                    "path": [],
                    "number": "1",
                    "title": "区里的任务",
                    "text": "区里的任务。",
                    "lead": ["区科协"],
                    "cooperate": [],
                    "responsible": ["区科协"],
                    "targets": [],
                }
            ]
        },
        fields=PlanFields(title="市对区的要点"),
        source_name="plan.txt",
        source_bytes=b"original",
    )
    Plan.objects.filter(pk=plan.pk).update(region=world.regions["county_a"])
    plan.refresh_from_db()
    return {"wave": wave, "county_wave": county_wave, "plan": plan}


# (user, object, may view, may change/delete)
GATE_CASES = [
    ("county_admin_a", "wave", True, False),
    ("admin_a", "wave", True, True),
    ("viewer_a", "wave", True, False),  # the owner's viewer reads only (role)
    ("prov_admin", "wave", True, True),  # the office above the owner
    ("peer_admin", "wave", True, False),  # a peer office of the same city: reads only
    ("admin_b", "wave", False, False),
    ("county_admin_a", "county_wave", True, True),
    ("admin_a", "county_wave", True, True),  # above the county office
    ("peer_admin", "county_wave", True, True),  # above the county office too
    ("county_admin_a", "plan", True, False),
    ("admin_a", "plan", True, True),
    ("prov_admin", "plan", True, True),
    ("peer_admin", "plan", True, False),
]


@pytest.mark.parametrize(("who", "obj", "view", "write"), GATE_CASES)
def test_owner_office_writes_offices_below_read(world, owners, who, obj, view, write):
    user = world.users[who]
    target = owners[obj]
    assert can(user, target, Action.VIEW) == view
    for action in (Action.CHANGE, Action.DELETE):
        assert can(user, target, action) == write, action
    if isinstance(target, Plan):
        task = target.tasks.get()
        assert can(user, task, Action.CHANGE) == write
        assert Task.objects.restrict(user, Action.VIEW).filter(pk=task.pk).exists() == view


def test_county_office_cannot_overwrite_or_delete_a_city_wave(client, world, owners):
    wave = owners["wave"]
    c = client
    c.force_login(world.users["county_admin_a"])
    assert c.get(reverse("survey:wave", args=[wave.pk])).status_code == 200
    edit = c.post(
        reverse("survey:wave_edit", args=[wave.pk]),
        {"title": "区改过", "kind": "local", "year": 2026, "min_n": 30, "max_rse": 30},
    )
    delete = c.post(reverse("survey:wave_delete", args=[wave.pk]))
    targets = c.post(reverse("survey:targets", args=[wave.pk]), {"year": 2030, "rate": 20})
    assert (edit.status_code, delete.status_code, targets.status_code) == (403, 403, 403)
    wave.refresh_from_db()
    assert wave.title == "市对区的调查" and not wave.targets.exists()
    with pytest.raises(PermissionDenied):
        survey_services.wave_delete(user=world.users["county_admin_a"], wave=wave)
    assert Wave.objects.filter(pk=wave.pk).exists()


def test_county_office_cannot_change_or_delete_a_city_plan(client, world, owners):
    plan = owners["plan"]
    task = plan.tasks.get()
    client.force_login(world.users["county_admin_a"])
    assert client.get(reverse("plans:detail", args=[plan.pk])).status_code == 200
    edit = client.post(
        reverse("plans:task_edit", args=[task.pk]),
        {"title": "区改过", "lead": "", "cooperate": "", "responsible": ""},
    )
    delete = client.post(reverse("plans:delete", args=[plan.pk]))
    assert edit.status_code == 403 and delete.status_code in (403, 404)
    task.refresh_from_db()
    assert task.title == "区里的任务" and Plan.objects.filter(pk=plan.pk).exists()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("admin_a", 200),  # the owner office
        ("viewer_a", 200),  # a reader of the owner office
        ("prov_admin", 200),  # the office above
        ("super", 200),
        ("county_admin_a", 403),  # below the owner: reads the plan, not the original
        ("peer_admin", 403),
        ("admin_b", 404),
        ("nobody", 404),
    ],
)
def test_plan_source_is_for_the_owner_and_offices_above(client, world, owners, who, status):
    client.force_login(world.users[who])
    resp = client.get(reverse("plans:source", args=[owners["plan"].pk]))
    assert resp.status_code == status
    if status == 200:
        assert b"".join(resp.streaming_content) == b"original"


def test_a_unit_named_on_tasks_cannot_download_the_original(client, world, settings, tmp_path):
    from kepu.plans.services import PlanFields, plan_create_from_parsed
    from tests.plans.conftest import PARSED

    settings.MEDIA_ROOT = tmp_path
    plan = plan_create_from_parsed(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        parsed=PARSED,
        fields=PlanFields(title="曲靖要点"),
        source_name="a.txt",
        source_bytes=b"plan a",
    )
    client.force_login(world.users["staff_a1"])
    assert client.get(reverse("plans:detail", args=[plan.pk])).status_code == 200
    resp = client.get(reverse("plans:source", args=[plan.pk]))
    assert resp.status_code == 403
