from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from kepu.orgs.models import Membership, Organisation, OrgKind
from kepu.orgs.scoping import Role
from kepu.registry import services
from kepu.registry.models import BaseCategory, BaseLevel
from kepu.registry.scoring import DEFAULT_SHEET
from tests.conftest import PASSWORD


@pytest.fixture
def base_org(world):
    org = Organisation.objects.create(
        name="麒麟区科技馆", kind=OrgKind.EDUCATION_BASE, region=world.regions["county_a"]
    )
    user = get_user_model().objects.create_user(username="base_staff", password=PASSWORD)
    Membership.objects.create(user=user, organisation=org, role=Role.UNIT_STAFF)
    world.users["base_staff"] = user
    world.orgs["base_org"] = org
    return org


def base_fields(world, **over):
    data = dict(
        name="麒麟区青少年科技馆",
        level=BaseLevel.CITY,
        category=BaseCategory.VENUE,
        region=world.regions["county_a"],
        address="麒麟区文化路",
        exhibition_area=600,
        opening_days=260,
        annual_visitors=12000,
        free_days=200,
        contact_name="李馆长",
        contact_phone="13900000000",
    )
    data.update(over)
    return services.BaseFields(**data)


@pytest.fixture
def certified(world, base_org):
    base = services.base_apply(
        user=world.users["base_staff"], organisation=base_org, fields=base_fields(world)
    )
    services.base_endorse(user=world.users["county_admin_a"], base=base)
    services.base_certify(
        user=world.users["admin_a"],
        base=base,
        approve=True,
        batch="第三批",
        valid_from=2026,
        valid_to=2030,
    )
    base.refresh_from_db()
    return base


@pytest.fixture
def sheet(world):
    return services.sheet_create(user=world.users["admin_a"], year=2026, data=DEFAULT_SHEET)
