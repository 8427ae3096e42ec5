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


def id_number(seq: int, *, birth: str = "19900101", region: str = "530302") -> str:
    """A valid 18-digit identity number (check digit computed) for test person ``seq``."""
    from kepu.registry.identity import check_digit

    first17 = f"{region}{birth}{seq % 1000:03d}"
    return first17 + check_digit(first17)


def museum_fields(world, **over):
    data = dict(
        name="曲靖市科技馆",
        region=world.regions["city_a"],
        address="麒麟区",
        building_area=16000,
        exhibition_area=9000,
        opened_year=2015,
        free_entry=True,
        contact_name="王馆长",
        contact_phone="0874-1234567",
    )
    data.update(over)
    return services.MuseumFields(**data)


def registry_world(world) -> dict:
    """unit_a1's museum (city A) with this year's draft report; a team of the city office
    in the county, hosted by unit_a1, with one volunteer and one service record."""
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    admin = world.users["admin_a"]
    museum = services.museum_save(
        user=admin, organisation=world.orgs["unit_a1"], fields=museum_fields(world)
    )
    report = services.museum_report_open(user=admin, museum=museum, year=timezone.localdate().year)
    team = services.team_save(
        user=admin,
        fields=services.TeamFields(
            name="麒麟区健康科普志愿服务队",
            kind="health",
            region=world.regions["county_a"],
            host=world.orgs["unit_a1"],
            leader="赵队长",
        ),
    )
    volunteer = services.volunteer_save(
        user=admin,
        team=team,
        fields=services.VolunteerFields(
            name="张晓明", id_number=id_number(1), phone="13900001111", skills="健康讲座"
        ),
    )
    today = timezone.localdate()
    services.service_add(
        user=admin,
        volunteer=volunteer,
        served_on=today - dt.timedelta(days=today.timetuple().tm_yday - 1),
        hours=Decimal("3.5"),
        description="社区健康讲座",
    )
    return {"museum": museum, "report": report, "team": team, "volunteer": volunteer}


@pytest.fixture
def reg(world):
    return registry_world(world)
