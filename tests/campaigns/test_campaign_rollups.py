"""Roll-ups per region × kind of organisation: the quota dashboard, the Excel summary's
second sheet and the Word report."""

from __future__ import annotations

import io

from django.urls import reverse
from openpyxl import load_workbook

from kepu.campaigns import selectors, services
from kepu.orgs.models import OrgKind
from tests.campaigns.conftest import activity_fields


def _publish(world, org, user, region, title):
    a = services.activity_register(
        user=world.users[user],
        campaign=_publish.campaign,
        organiser=world.orgs[org],
        fields=activity_fields(world, region_key=region, title=title),
    )
    services.activity_review(user=world.users["admin_a"], activity=a, approve=True)
    return a


def _setup(world, campaign, town_staff):
    _publish.campaign = campaign
    _publish(world, "unit_a1", "staff_a1", "city_a", "教体局讲座")
    _publish(world, "town_a", "town_staff", "town_a", "街道讲座一")
    _publish(world, "town_a", "town_staff", "town_a", "街道讲座二")
    # registered, not published
    services.activity_register(
        user=world.users["staff_a2"],
        campaign=campaign,
        organiser=world.orgs["unit_a2"],
        fields=activity_fields(world, title="卫健委待审"),
    )


def test_quota_rollup_by_region_and_kind(world, campaign, town_staff):
    _setup(world, campaign, town_staff)
    rows = selectors.quota_rollup(user=world.users["admin_a"], campaign=campaign, by_kind=True)
    got = {
        (r["region"].name, r["kind"]): (r["orgs"], r["met"], r["published"], r["completed"])
        for r in rows
    }
    assert got == {
        ("曲靖市", OrgKind.DEPARTMENT): (2, 1, 1, 0),  # two departments, one met its 1
        ("麒麟区", OrgKind.TOWNSHIP): (1, 1, 2, 0),  # the township met its 2
    }
    # the per-region roll-up is the sum over kinds
    flat = {
        r["region"].name: (r["orgs"], r["met"], r["published"])
        for r in selectors.quota_rollup(user=world.users["admin_a"], campaign=campaign)
    }
    assert flat == {"曲靖市": (2, 1, 1), "麒麟区": (1, 1, 2)}
    merged = selectors.merge_kinds(rows)
    assert {r["region"].name: (r["orgs"], r["met"], r["published"]) for r in merged} == flat
    # the county office sees only its county's row
    county = selectors.quota_rollup(
        user=world.users["county_admin_a"], campaign=campaign, by_kind=True
    )
    assert [(r["region"].name, r["kind"]) for r in county] == [("麒麟区", OrgKind.TOWNSHIP)]


def test_dashboard_and_excel_show_region_by_kind(client, world, campaign, town_staff):
    _setup(world, campaign, town_staff)
    client.force_login(world.users["admin_a"])
    html = client.get(reverse("campaigns:quotas", args=[campaign.pk])).content.decode()
    assert "按区域和单位类型汇总" in html
    table = html[html.index('id="rollup-kinds"') :]
    assert OrgKind.TOWNSHIP.label in table and OrgKind.DEPARTMENT.label in table

    resp = client.get(reverse("campaigns:summary", args=[campaign.pk]))
    wb = load_workbook(io.BytesIO(resp.content))
    ws = wb["按区域和单位类型"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=3)]
    assert rows == [
        ["曲靖市", OrgKind.DEPARTMENT.label, 2, 1, 0, 0],
        ["麒麟区", OrgKind.TOWNSHIP.label, 2, 2, 0, 0],
        ["合计", None, 4, 3, 0, 0],
    ]
