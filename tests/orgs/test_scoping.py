"""The scoping gate itself: restrict() per role and the post-save re-check."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from kepu.orgs import services
from kepu.orgs.models import Membership, Organisation, OrganisationAlias, OrgKind
from kepu.orgs.scoping import Action, user_grants


def names(qs):
    return set(qs.values_list("name", flat=True))


def test_office_admin_sees_region_subtree_only(world):
    visible = names(Organisation.objects.restrict(world.users["admin_a"], Action.VIEW))
    assert visible == {
        "曲靖市科学技术协会",
        "曲靖市教育体育局",
        "曲靖市卫生健康委员会",
        "麒麟区科学技术协会",
        "麒麟区南宁街道办事处",
    }


def test_sibling_city_admin_sees_none_of_the_other_city(world):
    visible = names(Organisation.objects.restrict(world.users["admin_b"], Action.VIEW))
    assert visible == {"昆明市科学技术协会", "昆明市教育局"}


def test_county_office_sees_county_and_townships_not_city(world):
    visible = names(Organisation.objects.restrict(world.users["county_admin_a"], Action.VIEW))
    assert visible == {"麒麟区科学技术协会", "麒麟区南宁街道办事处"}


def test_unit_staff_sees_own_organisation_only(world):
    assert names(Organisation.objects.restrict(world.users["staff_a1"], Action.VIEW)) == {
        "曲靖市教育体育局"
    }


@pytest.mark.parametrize(
    ("user", "action", "expected"),
    [
        ("viewer_a", Action.VIEW, 5),
        ("viewer_a", Action.CHANGE, 0),
        ("viewer_a", Action.DELETE, 0),
        ("staff_a1", Action.CHANGE, 1),
        ("staff_a1", Action.DELETE, 0),
        ("staff_a1", Action.MANAGE, 0),
        ("admin_a", Action.DELETE, 5),
        ("admin_a", Action.MANAGE, 5),
        ("nobody", Action.VIEW, 0),
        ("super", Action.DELETE, 7),
    ],
)
def test_role_decides_actions(world, user, action, expected):
    assert Organisation.objects.restrict(world.users[user], action).count() == expected


def test_anonymous_gets_nothing(world):
    assert not Organisation.objects.restrict(AnonymousUser(), Action.VIEW).exists()


def test_inactive_user_gets_nothing(world):
    u = world.users["admin_a"]
    u.is_active = False
    assert not Organisation.objects.restrict(u, Action.VIEW).exists()


def test_related_models_follow_the_same_rules(world):
    assert (
        set(
            OrganisationAlias.objects.restrict(world.users["admin_b"], Action.VIEW).values_list(
                "name", flat=True
            )
        )
        == set()
    )
    assert set(
        OrganisationAlias.objects.restrict(world.users["staff_a1"], Action.VIEW).values_list(
            "name", flat=True
        )
    ) == {"市教育局"}
    members = Membership.objects.restrict(world.users["admin_a"], Action.VIEW)
    assert {m.user.username for m in members} == {
        "admin_a",
        "viewer_a",
        "staff_a1",
        "staff_a2",
        "county_admin_a",
    }


def test_create_outside_scope_is_rolled_back(world):
    with pytest.raises(PermissionDenied):
        services.organisation_create(
            user=world.users["admin_a"],
            name="昆明市新单位",
            kind=OrgKind.DEPARTMENT,
            region=world.regions["city_b"],
        )
    assert not Organisation.objects.filter(name="昆明市新单位").exists()


def test_unit_staff_cannot_create_other_organisations(world):
    with pytest.raises(PermissionDenied):
        services.organisation_create(
            user=world.users["staff_a1"],
            name="曲靖市某新局",
            kind=OrgKind.DEPARTMENT,
            region=world.regions["city_a"],
        )
    assert not Organisation.objects.filter(name="曲靖市某新局").exists()


def test_moving_an_object_out_of_scope_is_refused(world):
    org = world.orgs["unit_a1"]
    with pytest.raises(PermissionDenied):
        services.organisation_update(
            user=world.users["admin_a"], organisation=org, region=world.regions["city_b"]
        )
    org.refresh_from_db()
    assert org.region == world.regions["city_a"]


def test_create_inside_scope_works_with_aliases(world):
    org = services.organisation_create(
        user=world.users["admin_a"],
        name="曲靖市气象局",
        kind=OrgKind.DEPARTMENT,
        region=world.regions["city_a"],
        aliases="市气象局、气象局",
    )
    assert set(org.aliases.values_list("name", flat=True)) == {"市气象局", "气象局"}


def test_grants_describe_where_permissions_come_from(world):
    (grant,) = user_grants(world.users["admin_a"])
    assert grant.organisation_name == "曲靖市科学技术协会"
    assert grant.region_path == world.regions["city_a"].path
    assert "及下辖" in grant.scope_label
    (unit_grant,) = user_grants(world.users["staff_a1"])
    assert unit_grant.region_path is None
    assert unit_grant.scope_label == "本单位: 曲靖市教育体育局"


def test_membership_add_requires_manage_and_stays_in_scope(world):
    with pytest.raises(PermissionDenied):
        services.membership_add(
            user=world.users["staff_a1"],
            organisation=world.orgs["unit_a1"],
            username="newbie",
            role="viewer",
            password="Abcdefgh12",
        )
    m = services.membership_add(
        user=world.users["admin_a"],
        organisation=world.orgs["unit_a1"],
        username="newbie",
        role="unit_staff",
        password="Abcdefgh12",
    )
    assert m.user.check_password("Abcdefgh12")
    with pytest.raises(PermissionDenied):
        services.membership_add(
            user=world.users["admin_a"],
            organisation=world.orgs["unit_b1"],
            username="other",
            role="viewer",
            password="Abcdefgh12",
        )


def test_split_names_keeps_order_and_drops_blanks_and_repeats():
    from kepu.orgs.services import split_names

    assert split_names("市教体局、市卫健委，市科协;市教体局；\n 市民政局 ,") == [
        "市教体局",
        "市卫健委",
        "市科协",
        "市民政局",
    ]
    assert split_names(None) == [] and split_names(["甲、乙", "丙"]) == ["甲", "乙", "丙"]


def test_read_down_on_request_only_for_reading_and_only_upwards(world):
    """Plans declare scope_read_down = READ_DOWN_ON_REQUEST: an office below reads a plan
    of a region above only when the caller asks, never writes it; siblings never."""
    from kepu.orgs.scoping import can
    from kepu.plans.models import Plan

    city = Plan.objects.create(
        title="市方案", region=world.regions["city_a"], owner=world.orgs["office_a"]
    )
    other = Plan.objects.create(
        title="他市方案", region=world.regions["city_b"], owner=world.orgs["office_b"]
    )
    county = world.users["county_admin_a"]
    assert not can(county, city, Action.VIEW)
    assert can(county, city, Action.VIEW, read_down=True)
    assert not can(county, other, Action.VIEW, read_down=True)  # not above the county
    # a unit (not an office) never reads down: only what names it
    assert not can(world.users["staff_a2"], other, Action.VIEW, read_down=True)
    for action in (Action.CHANGE, Action.DELETE, Action.ADD):
        with pytest.raises(ValueError):
            Plan.objects.restrict(county, action, read_down=True)
    with pytest.raises(ValueError):
        Plan.objects.restrict(county, Action.VIEW, owned=True, read_down=True)
    with pytest.raises(TypeError):  # a model that does not declare reading down
        Organisation.objects.restrict(county, Action.VIEW, read_down=True)
