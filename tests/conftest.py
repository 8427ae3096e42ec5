"""Shared fixtures: a small region tree with two sibling cities, organisations and
users for every role. Tests write everything they use; nothing comes from outside."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from kepu.orgs.models import Membership, Organisation, OrganisationAlias, OrgKind
from kepu.orgs.scoping import Role
from kepu.regions.models import Level, Region

PASSWORD = "Kepu-test-pass-9"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(pytest.mark.django_db(transaction=True))


@pytest.fixture(scope="session", autouse=True)
def _database_engine_is_what_was_asked(django_db_setup, django_db_blocker):
    """When the suite is pointed at PostgreSQL it must really run there."""
    from django.db import connection

    wanted = os.environ.get("KEPU_TEST_DATABASE_URL", "")
    if wanted.startswith(("postgres://", "postgresql://")):
        assert connection.vendor == "postgresql", f"expected PostgreSQL, got {connection.vendor}"


def make_region(code: str, name: str, level: int, parent: Region | None) -> Region:
    from kepu.regions.models import short_code

    path = (parent.path if parent else "") + (short_code(code, level) + "/")
    return Region.objects.create(code=code, name=name, level=level, parent=parent, path=path)


@dataclass
class World:
    regions: dict[str, Region] = field(default_factory=dict)
    orgs: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def world(db) -> World:
    w = World()
    root = make_region("000000", "全国", Level.NATIONAL, None)
    prov = make_region("530000", "云南省", Level.PROVINCE, root)
    city_a = make_region("530300", "曲靖市", Level.PREFECTURE, prov)
    county_a = make_region("530302", "麒麟区", Level.COUNTY, city_a)
    town_a = make_region("530302001", "南宁街道", Level.TOWNSHIP, county_a)
    city_b = make_region("530100", "昆明市", Level.PREFECTURE, prov)
    county_b = make_region("530102", "五华区", Level.COUNTY, city_b)
    w.regions.update(
        root=root,
        prov=prov,
        city_a=city_a,
        county_a=county_a,
        town_a=town_a,
        city_b=city_b,
        county_b=county_b,
    )

    def org(key, name, kind, region, short="", aliases=()):
        o = Organisation.objects.create(
            name=name,
            kind=kind,
            region=region,
            short_name=short,
            is_member_unit=kind == OrgKind.DEPARTMENT,
        )
        for a in aliases:
            OrganisationAlias.objects.create(organisation=o, name=a)
        w.orgs[key] = o
        return o

    org("office_a", "曲靖市科学技术协会", OrgKind.ASSOCIATION, city_a, "市科协")
    org("office_b", "昆明市科学技术协会", OrgKind.ASSOCIATION, city_b, "市科协")
    org("unit_a1", "曲靖市教育体育局", OrgKind.DEPARTMENT, city_a, "市教体局", ["市教育局"])
    org("unit_a2", "曲靖市卫生健康委员会", OrgKind.DEPARTMENT, city_a, "市卫健委")
    org("county_office_a", "麒麟区科学技术协会", OrgKind.ASSOCIATION, county_a, "区科协")
    org("town_a", "麒麟区南宁街道办事处", OrgKind.TOWNSHIP, town_a, "南宁街道")
    org("unit_b1", "昆明市教育局", OrgKind.DEPARTMENT, city_b, "市教育局")

    User = get_user_model()

    def user(key, org_key=None, role=None, **extra):
        u = User.objects.create_user(username=key, password=PASSWORD, **extra)
        if org_key:
            Membership.objects.create(user=u, organisation=w.orgs[org_key], role=role)
        w.users[key] = u
        return u

    user("super", is_superuser=True, is_staff=True)
    user("admin_a", "office_a", Role.OFFICE_ADMIN)
    user("admin_b", "office_b", Role.OFFICE_ADMIN)
    user("viewer_a", "office_a", Role.VIEWER)
    user("staff_a1", "unit_a1", Role.UNIT_STAFF)
    user("staff_a2", "unit_a2", Role.UNIT_STAFF)
    user("county_admin_a", "county_office_a", Role.OFFICE_ADMIN)
    user("nobody")
    return w


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login
