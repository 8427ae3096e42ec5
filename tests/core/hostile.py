"""Hostile data planted through the services into every user-editable text field.

Shared by the formula-injection export sweep (tests/core/test_excel_formula.py) and the
XSS browser sweep (tests/browser/test_xss_sweep.py).  ``text(field)`` gives the string to
plant in one field, so a sweep can use one payload everywhere or tag each field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model

from kepu.orgs import services as org_services
from kepu.orgs.models import Organisation, OrgKind
from kepu.orgs.scoping import Role
from kepu.plans import services as plan_services
from kepu.plans.models import Plan, Task
from kepu.plans.services import PlanFields
from kepu.regions.models import Region
from kepu.survey import services as survey_services
from kepu.survey.models import Wave, WaveTarget
from kepu.survey.services import WaveFields
from tests.survey.test_survey_services import MARGINS, add_second_county, csv_bytes, sample_rows

# Every planted field, by name (the sweeps report which field leaked).
FIELDS = (
    "org.name",
    "org.short_name",
    "org.alias",
    "user.username",
    "user.full_name",
    "plan.title",
    "plan.issuer",
    "plan.doc_number",
    "plan.source_name",
    "section.title",
    "task.number",
    "task.title",
    "task.text",
    "task.deadline",
    "unit.lead",
    "unit.cooperate",
    "unit.responsible",
    "target.text",
    "target.unit",
    "plan_target.text",
    "wave.title",
    "wave.notes",
    "wave.data_source_name",
    "wave_target.label",
    "trend_wave.title",
    "trend_target.label",
    "region.name",
    "campaign.title",
    "campaign.theme",
    "campaign.summary_column",
    "quota.who",
    "activity.title",
    "activity.address",
    "activity.co_organisers",
    "activity.audience",
    "activity.summary",
    "activity.contact_name",
    "activity.volunteers",
)


@dataclass
class Planted:
    org: Organisation
    member: Any
    plan: Plan
    task: Task
    wave: Wave
    earlier_wave: Wave
    target: WaveTarget
    campaign: Any = None
    activity: Any = None


def plant(world: Any, text: Callable[[str], str]) -> Planted:
    """Create an organisation, a member, a plan with a task, and two survey waves with
    results and targets, every text field written by ``text(field)``; all through the
    services, as the city office administrator of ``world`` (admin_a)."""
    admin = world.users["admin_a"]
    city = world.regions["city_a"]
    org = org_services.organisation_create(
        user=admin,
        name=text("org.name"),
        short_name=text("org.short_name"),
        kind=OrgKind.DEPARTMENT,
        region=city,
        is_member_unit=True,
        aliases=[text("org.alias")],
    )
    membership = org_services.membership_add(
        user=admin,
        organisation=org,
        username=text("user.username")[:150],
        role=Role.UNIT_STAFF,
        password="Kepu-hostile-pass-7",
        full_name=text("user.full_name"),
    )
    lead = text("unit.lead")
    parsed = {
        "tasks": [
            {
                "path": [text("section.title")],
                "number": text("task.number")[:20],
                "title": text("task.title"),
                "text": text("task.text"),
                "lead": [lead, org.name],
                "cooperate": [text("unit.cooperate")],
                "responsible": [lead, org.name, text("unit.cooperate"), text("unit.responsible")],
                "targets": [
                    {
                        "text": text("target.text"),
                        "comparator": ">=",
                        "value": -12.5,
                        "unit": text("target.unit")[:20],
                        "year": 2025,
                    }
                ],
            }
        ],
        "targets": [
            {
                "text": text("plan_target.text"),
                "comparator": ">=",
                "value": 13,
                "unit": "%",
                "year": 2025,
            }
        ],
    }
    plan = plan_services.plan_create_from_parsed(
        user=admin,
        owner=world.orgs["office_a"],
        parsed=parsed,
        fields=PlanFields(
            title=text("plan.title"),
            issuer=text("plan.issuer"),
            doc_number=text("plan.doc_number")[:100],
        ),
        source_name=text("plan.source_name")[:200],
        source_bytes="计划原文".encode(),
        deadlines={0: text("task.deadline")},
    )
    task = plan.tasks.get()

    add_second_county(world)
    # Region names come from the division import, not from a form; a hostile one still
    # must not run (it reaches the map's tooltips and labels through the geometry).
    Region.objects.filter(pk=world.regions["county_a"].pk).update(name=text("region.name"))
    earlier = survey_services.wave_create(
        user=admin,
        owner=world.orgs["office_a"],
        fields=WaveFields(title=text("trend_wave.title"), year=2024),
    )
    wave = survey_services.wave_create(
        user=admin,
        owner=world.orgs["office_a"],
        fields=WaveFields(title=text("wave.title"), year=2026, notes=text("wave.notes")),
    )
    for w, seed in ((earlier, 5), (wave, 7)):
        survey_services.respondents_import(
            user=admin,
            wave=w,
            name=text("wave.data_source_name")[:200] + ".csv",
            data=csv_bytes(sample_rows(120, seed=seed)),
        )
        survey_services.margins_replace(
            user=admin,
            wave=w,
            rows=[(v, c, str(p)) for v, cats in MARGINS.items() for c, p in cats.items()],
        )
    survey_services.wave_target_add(
        user=admin, wave=earlier, year=2024, rate=10, label=text("trend_target.label")
    )
    target = survey_services.wave_target_add(
        user=admin, wave=wave, year=2026, rate=13, label=text("wave_target.label")
    )
    for w in (earlier, wave):
        survey_services.run_start(user=admin, wave=w)
        w.refresh_from_db()
    campaign, activity = _plant_campaign(world, text)
    User = get_user_model()
    return Planted(
        campaign=campaign,
        activity=activity,
        org=org,
        member=User.objects.get(pk=membership.user_id),
        plan=plan,
        task=task,
        wave=wave,
        earlier_wave=earlier,
        target=target,
    )


def _plant_campaign(world: Any, text: Callable[[str], str]) -> tuple[Any, Any]:
    """A campaign of the city office with one approved (public) activity of a unit."""
    from unittest import mock

    from kepu.campaigns import services as campaign_services
    from tests.campaigns.conftest import TODAY, activity_fields, fields

    with mock.patch.object(campaign_services, "_today", lambda: TODAY):
        campaign = campaign_services.campaign_create(
            user=world.users["admin_a"],
            fields=fields(
                title=text("campaign.title"),
                theme=text("campaign.theme"),
                summary_columns=[
                    "序号",
                    "活动名称",
                    "活动地点",
                    "承办单位",
                    "受众对象",
                    "活动内容",
                    "联系人",
                    text("campaign.summary_column"),
                ],
            ),
            quotas=[
                campaign_services.QuotaFields(
                    who=text("quota.who"), min_count=1, kinds=[OrgKind.DEPARTMENT]
                )
            ],
        )
        activity = campaign_services.activity_register(
            user=world.users["staff_a1"],
            campaign=campaign,
            organiser=world.orgs["unit_a1"],
            fields=activity_fields(
                world,
                title=text("activity.title"),
                address=text("activity.address"),
                co_organisers=text("activity.co_organisers"),
                audience=text("activity.audience"),
                summary=text("activity.summary"),
                contact_name=text("activity.contact_name")[:50],  # the field holds 50
                volunteers=text("activity.volunteers"),
                latitude=25.49,  # a point on the public map, named by the title
                longitude=103.79,
            ),
        )
        activity = campaign_services.activity_review(
            user=world.users["admin_a"], activity=activity, approve=True
        )
    return campaign, activity
