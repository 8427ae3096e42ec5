"""Hostile posts to every editable form in orgs, by every role.

Each cell posts the organisation's current values with one field replaced by a hostile
or invalid value and asserts the exact status, the message, and what changed. The
defect this guards: unit staff posting ``kind=association`` to their own organisation
became an office with the whole city in reach.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse

from kepu.orgs import services
from kepu.orgs.models import Membership, Organisation, OrgKind
from kepu.orgs.scoping import Action, Role, user_grants

USERS = [
    "super",
    "admin_a",
    "office_staff_a",
    "admin_b",
    "viewer_a",
    "staff_a1",
    "staff_a2",
    "county_admin_a",
    "nobody",
    "anon",
]

# Per target: who sees it, who may change it, who may change its kind/region/parent.
TARGETS = {
    "unit_a1": {
        "view": {"super", "admin_a", "office_staff_a", "viewer_a", "staff_a1"},
        "change": {"super", "admin_a", "office_staff_a", "staff_a1"},
        "restructure": {"super", "admin_a"},
    },
    "office_a": {
        "view": {"super", "admin_a", "office_staff_a", "viewer_a"},
        "change": {"super", "admin_a", "office_staff_a"},
        "restructure": {"super"},
    },
    "county_office_a": {
        "view": {"super", "admin_a", "office_staff_a", "viewer_a", "county_admin_a"},
        "change": {"super", "admin_a", "office_staff_a", "county_admin_a"},
        "restructure": {"super", "admin_a"},
    },
}

FORBIDDEN_PAGE = "无权访问"


@pytest.fixture
def hostile_world(world):
    """The shared world plus a unit-staff member of the city office (office staff)."""
    u = get_user_model().objects.create_user(username="office_staff_a", password="x" * 12)
    Membership.objects.create(user=u, organisation=world.orgs["office_a"], role=Role.UNIT_STAFF)
    world.users["office_staff_a"] = u
    return world


def _as(client, world, who):
    client.logout()
    if who != "anon":
        client.force_login(world.users[who])
    return client


def _state(org: Organisation) -> tuple:
    org = Organisation.objects.get(pk=org.pk)
    aliases = tuple(sorted(org.aliases.values_list("name", flat=True)))
    return (
        org.name,
        org.short_name,
        org.kind,
        org.region_id,
        org.parent_id,
        org.is_member_unit,
        org.is_active,
        aliases,
    )


def _current(org: Organisation) -> dict:
    data = {
        "name": org.name,
        "short_name": org.short_name,
        "kind": org.kind,
        "region": org.region.code,
        "parent": org.parent_id or "",
        "aliases": "、".join(org.aliases.values_list("name", flat=True)),
    }
    if org.is_member_unit:
        data["is_member_unit"] = "on"
    return data


@dataclass(frozen=True)
class Hostile:
    field: str
    value: object  # str, or a callable(world, org) -> str
    kind: str  # "structural-valid", "structural-out", "invalid", "parent-out"

    def resolve(self, world, org):
        return self.value(world, org) if callable(self.value) else self.value


HOSTILE = [
    Hostile("kind", OrgKind.ASSOCIATION, "structural-valid"),
    Hostile("kind", OrgKind.OFFICE, "structural-valid"),
    Hostile("kind", OrgKind.DEPARTMENT, "structural-valid"),
    Hostile("kind", "superoffice", "invalid"),
    Hostile("kind", "", "invalid"),
    Hostile("region", "530100", "structural-out"),  # the sibling city
    Hostile("region", "530000", "structural-out"),  # the province above
    Hostile("region", "999999", "invalid"),
    Hostile("region", "' OR 1=1 --", "invalid"),
    Hostile("parent", lambda w, o: str(w.orgs["office_b"].pk), "parent-out"),
    Hostile("parent", lambda w, o: str(o.pk), "invalid"),  # itself
    Hostile("parent", "abc", "invalid"),
    Hostile("parent", "99999999", "invalid"),
    Hostile("is_member_unit", "toggle", "structural-valid"),
    Hostile("name", "名" * 201, "invalid"),
    Hostile("name", "   ", "invalid"),
    Hostile("short_name", "简" * 101, "invalid"),
    Hostile("aliases", "别" * 201, "invalid"),
]
STRUCTURAL = {"kind", "region", "parent", "is_member_unit"}


@contextmanager
def _posted(client, url, data):
    """POST inside a savepoint that is rolled back, so every cell starts from the world."""
    with transaction.atomic():
        yield client.post(url, data)
        transaction.set_rollback(True)


def _expect(who: str, target: str, h: Hostile, org: Organisation) -> tuple[int, bool]:
    """(status, changed) for one hostile edit."""
    rules = TARGETS[target]
    if who == "anon":
        return 302, False
    if who not in rules["view"]:
        return 404, False
    if who not in rules["change"]:
        return 403, False
    if h.field in STRUCTURAL and who not in rules["restructure"]:
        if h.field == "kind" and h.value == org.kind:
            return 302, False  # the current value: nothing to refuse
        if h.field == "is_member_unit" and org.is_member_unit:
            # unticking is not sending the box, which is what browsers do for a disabled
            # field: nothing to refuse, and the disabled field keeps its value
            return 302, False
        return 403, False
    if h.kind == "invalid":
        return 200, False
    if h.kind == "structural-out":
        return (302, True) if who == "super" else (403, False)
    if h.kind == "parent-out":
        return (302, True) if who == "super" else (200, False)
    return 302, h.field != "kind" or h.value != org.kind


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("who", USERS)
def test_hostile_organisation_edits(client, hostile_world, who, target):
    world = hostile_world
    org = world.orgs[target]
    url = reverse("orgs:edit", args=[org.pk])
    before = _state(org)
    c = _as(client, world, who)
    for h in HOSTILE:
        data = _current(org)
        value = h.resolve(world, org)
        if h.field == "is_member_unit":
            if org.is_member_unit:
                data.pop("is_member_unit")
            else:
                data["is_member_unit"] = "on"
        else:
            data[h.field] = value
        status, changed = _expect(who, target, h, org)
        with _posted(c, url, data) as resp:
            cell = (who, target, h.field, str(value)[:20])
            assert resp.status_code == status, (*cell, resp.status_code)
            assert (_state(org) != before) == changed, cell
            html = resp.content.decode()
            if status == 302 and who == "anon":
                assert resp["Location"].startswith(reverse("login")), cell
            elif status == 302:
                assert resp["Location"] == reverse("orgs:detail", args=[org.pk]), cell
            elif status == 403:
                assert FORBIDDEN_PAGE in html, cell
            elif status == 200:
                assert 'class="errorlist' in html, cell  # a form error, never a 500
        assert _state(org) == before


def test_unit_staff_cannot_make_their_unit_an_office(client, world):
    """The reported attack, step by step: nothing changes and the city stays out of reach."""
    org = world.orgs["unit_a1"]
    c = _as(client, world, "staff_a1")
    data = _current(org) | {"kind": "association"}
    resp = c.post(reverse("orgs:edit", args=[org.pk]), data)
    assert resp.status_code == 403
    org.refresh_from_db()
    assert org.kind == OrgKind.DEPARTMENT
    staff = get_user_model().objects.get(username="staff_a1")
    assert [g.region_path for g in user_grants(staff)] == [None]
    resp = c.get(reverse("orgs:detail", args=[world.orgs["unit_a2"].pk]))
    assert resp.status_code == 404


def test_the_edit_form_shows_structural_fields_read_only_to_unit_staff(client, world):
    org = world.orgs["unit_a1"]
    html = _as(client, world, "staff_a1").get(reverse("orgs:edit", args=[org.pk])).content
    html = html.decode()
    assert "只有上级办公室的管理员可以修改此项" in html
    for name in ("kind", "region", "parent", "is_member_unit"):
        assert f'name="{name}"' in html
    assert html.count("disabled") >= 4
    # a normal browser post (disabled fields are not sent) saves the name
    resp = _as(client, world, "staff_a1").post(
        reverse("orgs:edit", args=[org.pk]), {"name": "曲靖市教育体育局(改)", "aliases": ""}
    )
    assert resp.status_code == 302
    org.refresh_from_db()
    assert org.name == "曲靖市教育体育局(改)" and org.kind == OrgKind.DEPARTMENT


# --- the services refuse on their own (not only the form) -------------------------------
@pytest.mark.parametrize(
    ("who", "target", "fields"),
    [
        ("staff_a1", "unit_a1", {"kind": OrgKind.ASSOCIATION}),
        ("staff_a1", "unit_a1", {"kind": OrgKind.OFFICE}),
        ("staff_a1", "unit_a1", {"is_active": False}),
        ("staff_a1", "unit_a1", {"is_member_unit": False}),
        ("staff_a1", "unit_a1", {"parent": "office_a"}),
        ("staff_a1", "unit_a1", {"region": "county_a"}),
        ("admin_a", "office_a", {"kind": OrgKind.DEPARTMENT}),
        ("admin_a", "office_a", {"region": "county_a"}),
        ("admin_a", "office_a", {"is_active": False}),
        ("county_admin_a", "county_office_a", {"region": "town_a"}),
        ("office_staff_a", "unit_a1", {"kind": OrgKind.ASSOCIATION}),
        ("admin_a", "unit_a1", {"region": "city_b"}),
        ("admin_a", "unit_a1", {"region": "prov"}),
        ("admin_b", "unit_a1", {"kind": OrgKind.ASSOCIATION}),
    ],
)
def test_structural_update_is_refused_by_the_service(hostile_world, who, target, fields):
    world = hostile_world
    org = world.orgs[target]
    resolved = {}
    for key, value in fields.items():
        if key == "region":
            value = world.regions[value]
        elif key == "parent":
            value = world.orgs[value]
        resolved[key] = value
    before = _state(org)
    with pytest.raises(PermissionDenied):
        services.organisation_update(user=world.users[who], organisation=org, **resolved)
    assert _state(org) == before


def test_an_office_above_may_restructure_and_the_check_uses_grants_after_the_write(world):
    admin = world.users["admin_a"]
    unit = world.orgs["unit_a1"]
    services.organisation_update(
        user=admin, organisation=unit, kind=OrgKind.ASSOCIATION, region=world.regions["county_a"]
    )
    unit.refresh_from_db()
    assert unit.kind == OrgKind.ASSOCIATION and unit.region == world.regions["county_a"]
    # staff of the unit now reach the county (the grant follows the organisation)
    staff = get_user_model().objects.get(username="staff_a1")
    assert [g.region_path for g in user_grants(staff)] == [world.regions["county_a"].path]


def test_post_write_check_sees_grants_after_the_write(world):
    """An administrator who deactivates the office holding their only grant loses it with
    the write; the check runs against that state and rolls the write back."""
    from kepu.orgs.scoping import save_in_scope

    admin = world.users["admin_a"]
    assert user_grants(admin)  # cached before the write
    office = world.orgs["office_a"]
    office.is_active = False
    with pytest.raises(PermissionDenied):
        save_in_scope(admin, office, Action.CHANGE)
    office.refresh_from_db()
    assert office.is_active
    assert user_grants(admin)[0].organisation_id == office.pk  # re-read after rollback


def test_create_an_office_needs_an_office_administrator(hostile_world):
    world = hostile_world
    with pytest.raises(PermissionDenied):
        services.organisation_create(
            user=world.users["office_staff_a"],
            name="曲靖市某办",
            kind=OrgKind.OFFICE,
            region=world.regions["county_a"],
        )
    assert not Organisation.objects.filter(name="曲靖市某办").exists()
    org = services.organisation_create(
        user=world.users["office_staff_a"],
        name="曲靖市某局",
        kind=OrgKind.DEPARTMENT,
        region=world.regions["city_a"],
    )
    assert org.pk


# --- memberships -----------------------------------------------------------------------------
MEMBER_CASES = [
    # (who, target org, username, role, expected status)
    ("staff_a1", "unit_a1", "staff_a1", Role.OFFICE_ADMIN, 403),
    ("staff_a1", "unit_a1", "fresh", Role.VIEWER, 403),
    ("staff_a1", "office_a", "staff_a1", Role.OFFICE_ADMIN, 404),
    ("office_staff_a", "unit_a1", "fresh", Role.VIEWER, 403),
    ("office_staff_a", "office_a", "office_staff_a", Role.OFFICE_ADMIN, 403),
    ("viewer_a", "office_a", "viewer_a", Role.OFFICE_ADMIN, 403),
    ("county_admin_a", "office_a", "county_admin_a", Role.OFFICE_ADMIN, 404),
    ("county_admin_a", "county_office_a", "county_admin_a", Role.VIEWER, 403),
    ("admin_a", "unit_b1", "fresh", Role.VIEWER, 404),
    ("admin_a", "office_b", "admin_a", Role.OFFICE_ADMIN, 404),
    ("admin_a", "office_a", "admin_a", Role.VIEWER, 403),  # nobody grants themselves
    ("admin_b", "unit_a1", "admin_b", Role.OFFICE_ADMIN, 404),
    ("nobody", "unit_a1", "nobody", Role.OFFICE_ADMIN, 404),
]


@pytest.mark.parametrize(("who", "target", "username", "role", "status"), MEMBER_CASES)
def test_hostile_membership_adds(client, hostile_world, who, target, username, role, status):
    world = hostile_world
    org = world.orgs[target]
    before = set(Membership.objects.values_list("user_id", "organisation_id", "role"))
    resp = _as(client, world, who).post(
        reverse("orgs:member_add", args=[org.pk]),
        {"username": username, "role": role, "password": "Fresh-pass-123"},
    )
    assert resp.status_code == status
    assert set(Membership.objects.values_list("user_id", "organisation_id", "role")) == before
    assert not get_user_model().objects.filter(username="fresh").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("role", "superuser", "角色"),
        ("role", "", "角色"),
        ("username", "u" * 151, "用户名"),
        ("username", "", "用户名"),
        ("full_name", "名" * 151, "姓名"),
        ("password", "short", "初始密码"),
    ],
)
def test_invalid_membership_values_are_form_errors(client, world, field, value, message):
    org = world.orgs["unit_a1"]
    data = {"username": "fresh", "role": Role.VIEWER, "password": "Fresh-pass-123"}
    data[field] = value
    c = _as(client, world, "admin_a")
    resp = c.post(reverse("orgs:member_add", args=[org.pk]), data, follow=True)
    assert resp.status_code == 200
    assert message in resp.content.decode()
    assert not Membership.objects.filter(organisation=org, user__username="fresh").exists()


def test_membership_service_refuses_role_escalation(hostile_world):
    world = hostile_world
    cases = [
        ("staff_a1", "unit_a1", "staff_a1", Role.OFFICE_ADMIN),
        ("admin_a", "unit_b1", "staff_a1", Role.VIEWER),
        ("admin_a", "unit_a1", "admin_a", Role.OFFICE_ADMIN),
        ("office_staff_a", "unit_a2", "office_staff_a", Role.OFFICE_ADMIN),
    ]
    for who, target, username, role in cases:
        before = Membership.objects.count()
        with pytest.raises(PermissionDenied):
            services.membership_add(
                user=world.users[who],
                organisation=world.orgs[target],
                username=username,
                role=role,
                password="Fresh-pass-123",
            )
        assert Membership.objects.count() == before, (who, target)


def test_office_admin_may_appoint_within_reach(world):
    m = services.membership_add(
        user=world.users["admin_a"],
        organisation=world.orgs["county_office_a"],
        username="county_admin2",
        role=Role.OFFICE_ADMIN,
        password="Fresh-pass-123",
    )
    assert m.role == Role.OFFICE_ADMIN


# --- create: every field with hostile values -----------------------------------------------
CREATE_ALLOWED_REGIONS = {
    # who: division codes inside their reach (where they may create)
    "super": {"530300", "530100", "530000", "530302"},
    "admin_a": {"530300", "530302"},
    "admin_b": {"530100"},
    "county_admin_a": {"530302"},
    "office_staff_a": {"530300", "530302"},  # unit staff of the office: no new offices
}
OFFICE_MAKERS = {"super", "admin_a", "admin_b", "county_admin_a"}
CREATE_CASES = [
    # (field overrides, valid?) on top of a plain department in 曲靖市
    ({}, True),
    ({"kind": OrgKind.ASSOCIATION}, True),
    ({"kind": OrgKind.OFFICE, "region": "530302"}, True),
    ({"kind": "superoffice"}, False),
    ({"region": "530100"}, True),
    ({"region": "530000"}, True),
    ({"region": "999999"}, False),
    ({"parent": "office_b"}, True),
    ({"parent": "abc"}, False),
    ({"name": "名" * 201}, False),
    ({"short_name": "简" * 101}, False),
    ({"aliases": "别" * 201}, False),
]


@pytest.mark.parametrize("who", USERS)
def test_hostile_organisation_creates(client, hostile_world, who):
    world = hostile_world
    c = _as(client, world, who)
    url = reverse("orgs:create")
    for overrides, valid in CREATE_CASES:
        data = {"name": "新建的单位", "kind": OrgKind.DEPARTMENT, "region": "530300"}
        data.update(overrides)
        if data.get("parent") in world.orgs:
            data["parent"] = world.orgs[data["parent"]].pk
        parent_visible = "parent" not in overrides or who in ("super", "admin_b")
        with _posted(c, url, data) as resp:
            created = Organisation.objects.filter(name="新建的单位").first()
            cell = (who, overrides)
            if who == "anon":
                assert resp.status_code == 302 and resp["Location"].startswith(reverse("login"))
            elif who not in CREATE_ALLOWED_REGIONS:
                assert resp.status_code == 403, cell
            elif not valid or not parent_visible:
                assert resp.status_code == 200 and 'class="errorlist' in resp.content.decode()
            elif data["region"] not in CREATE_ALLOWED_REGIONS[who]:
                assert resp.status_code == 403, cell
            elif data["kind"] in ("association", "office") and who not in OFFICE_MAKERS:
                assert resp.status_code == 403, cell
            else:
                assert resp.status_code == 302, cell
                assert created is not None and created.region.code == data["region"], cell
                continue
            assert created is None, cell


@pytest.mark.parametrize(
    ("who", "target", "status"),
    [
        ("admin_a", "office_a", 403),  # an office does not delete itself
        ("county_admin_a", "county_office_a", 403),
        ("staff_a1", "unit_a1", 403),
        ("admin_a", "town_a", 302),  # below: allowed
        ("super", "office_a", 302),
    ],
)
def test_deleting_an_organisation_is_for_the_office_above(client, world, who, target, status):
    org = world.orgs[target]
    resp = _as(client, world, who).post(reverse("orgs:delete", args=[org.pk]))
    assert resp.status_code == status
    assert Organisation.objects.filter(pk=org.pk).exists() == (status != 302)


def test_the_gate_itself_refuses_structural_saves_from_any_service(hostile_world):
    """save_in_scope checks organisations whatever service saves them (the plan import
    creates organisations too): no new office and no structural change without the right."""
    from kepu.orgs.scoping import save_in_scope

    world = hostile_world
    unit = Organisation.objects.get(pk=world.orgs["unit_a1"].pk)
    unit.kind = OrgKind.ASSOCIATION
    with pytest.raises(PermissionDenied):
        save_in_scope(world.users["staff_a1"], unit, Action.CHANGE)
    unit.refresh_from_db()
    assert unit.kind == OrgKind.DEPARTMENT
    office = Organisation(name="新办", kind=OrgKind.OFFICE, region=world.regions["city_a"])
    with pytest.raises(PermissionDenied):
        save_in_scope(world.users["office_staff_a"], office, Action.ADD)
    assert not Organisation.objects.filter(name="新办").exists()
    office = Organisation(name="新办", kind=OrgKind.OFFICE, region=world.regions["county_a"])
    save_in_scope(world.users["admin_a"], office, Action.ADD)
    assert Organisation.objects.filter(name="新办").exists()


def test_plan_import_cannot_create_an_office_for_office_staff(hostile_world, settings, tmp_path):
    from kepu.plans.services import PlanFields, UnitChoice, plan_draft_confirm, plan_draft_create

    settings.MEDIA_ROOT = tmp_path
    world = hostile_world
    staff = world.users["office_staff_a"]
    draft = plan_draft_create(
        user=staff,
        owner=world.orgs["office_a"],
        name="p.txt",
        data="要点\n一、工作\n1.开展讲座。(市新协会牵头)\n".encode(),
    )
    with pytest.raises(PermissionDenied):
        plan_draft_confirm(
            user=staff,
            draft=draft,
            fields=PlanFields(title="要点"),
            unit_choices={"市新协会": UnitChoice(create_kind=OrgKind.ASSOCIATION)},
        )
    assert not Organisation.objects.filter(name="市新协会").exists()
    plan = plan_draft_confirm(
        user=staff,
        draft=draft,
        fields=PlanFields(title="要点"),
        unit_choices={"市新协会": UnitChoice(create_kind=OrgKind.SOCIETY)},
    )
    assert plan.pk and Organisation.objects.get(name="市新协会").kind == OrgKind.SOCIETY
