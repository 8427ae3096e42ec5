"""The view matrix: every URL of the project × every user of the ``world`` fixture.

``MATRIX`` maps each URL name (as ``reverse`` takes it) to a :class:`Row` that says who
gets what status. ``tests/test_url_matrix.py`` enumerates the URL resolver and fails for
any named URL without a row, then requests every row as every user and asserts the exact
status:

- ``ok`` users get ``ok_status`` (200 for a GET, 302 for a POST that succeeds);
- ``forbidden`` users can see the object but may not do this: 403;
- every other signed-in user gets ``rest`` (404: out of sight; 403 for pages with no
  object, such as an import form);
- anonymous users are sent to the login page (``anon=302``) unless the row says otherwise.

Adding a view is one line, e.g.::

    "plans:report": row("task_a1", ok=PLAN_WRITE, forbidden=PLAN_READ - PLAN_WRITE),

where the positional names are attributes of :class:`MatrixData` whose ``pk`` fill the
URL's arguments in order (add a ``cached_property`` there for a new kind of object).
POST rows are sent inside a savepoint that is rolled back, so each user starts from the
same data.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.urls import reverse

USERS = (
    "super",
    "admin_a",
    "admin_b",
    "viewer_a",
    "staff_a1",
    "staff_a2",
    "county_admin_a",
    "nobody",
    "anon",
)
SIGNED_IN = frozenset(USERS) - {"anon"}


@dataclass(frozen=True)
class Row:
    objects: tuple[str, ...] = ()
    ok: frozenset[str] = SIGNED_IN
    forbidden: frozenset[str] = frozenset()
    rest: int = 404
    method: str = "get"
    data: dict[str, Any] | Callable[[MatrixData], dict[str, Any]] = field(default_factory=dict)
    ok_status: int | None = None
    anon: int = 302
    status: dict[str, int] = field(default_factory=dict)  # per-user overrides
    login_url: str = "login"
    note: str = ""
    args: Callable[[MatrixData], list[Any]] | None = None  # URL args that are not pks

    def expected(self, who: str) -> int:
        if who in self.status:
            return self.status[who]
        if who == "anon":
            return self.anon
        if who in self.ok:
            return self.ok_status or (200 if self.method == "get" else 302)
        if who in self.forbidden:
            return 403
        return self.rest


def row(*objects: str, **kwargs: Any) -> Row:
    for key in ("ok", "forbidden"):
        if key in kwargs:
            kwargs[key] = frozenset(kwargs[key])
    return Row(objects=objects, **kwargs)


def post(*objects: str, **kwargs: Any) -> Row:
    return row(*objects, method="post", **kwargs)


class MatrixData:
    """The objects the matrix requests, built lazily so a row builds only what it uses."""

    def __init__(self, world: Any) -> None:
        self.world = world

    def org(self, key: str) -> Any:
        return self.world.orgs[key]

    @functools.cached_property
    def unit_a1(self) -> Any:
        return self.world.orgs["unit_a1"]

    @functools.cached_property
    def unit_a2(self) -> Any:
        return self.world.orgs["unit_a2"]

    @functools.cached_property
    def office_a(self) -> Any:
        return self.world.orgs["office_a"]

    @functools.cached_property
    def membership_staff_a1(self) -> Any:
        from kepu.orgs.models import Membership

        return Membership.objects.get(user=self.world.users["staff_a1"])

    @functools.cached_property
    def plans(self) -> tuple[Any, Any]:
        from kepu.plans.services import PlanFields, plan_create_from_parsed
        from tests.plans.conftest import PARSED

        w = self.world
        plan_a = plan_create_from_parsed(
            user=w.users["admin_a"],
            owner=w.orgs["office_a"],
            parsed=PARSED,
            fields=PlanFields(title="曲靖要点"),
            source_name="a.txt",
            source_bytes=b"plan a",
        )
        plan_b = plan_create_from_parsed(
            user=w.users["admin_b"],
            owner=w.orgs["office_b"],
            parsed={"tasks": []},
            fields=PlanFields(title="昆明要点"),
            source_name="b.txt",
            source_bytes=b"plan b",
        )
        return plan_a, plan_b

    @functools.cached_property
    def plan_a(self) -> Any:
        return self.plans[0]

    @functools.cached_property
    def task_a1(self) -> Any:
        """Names the education bureau (lead) and the health commission (cooperating)."""
        return self.plan_a.tasks.get(order=1)

    @functools.cached_property
    def task_a2(self) -> Any:
        """Names only the education bureau."""
        return self.plan_a.tasks.get(order=2)

    @functools.cached_property
    def draft(self) -> Any:
        from kepu.plans.services import plan_draft_create

        text = "测试要点\n一、工作\n1.开展讲座。每年不少于12场。(市教体局牵头,市卫健委配合)\n"
        return plan_draft_create(
            user=self.world.users["admin_a"],
            owner=self.world.orgs["office_a"],
            name="plan.txt",
            data=text.encode(),
        )

    @functools.cached_property
    def wave_a(self) -> Any:
        """曲靖市's wave: data, margins, a target and one finished estimation."""
        from kepu.survey import services
        from tests.survey.test_survey_services import load_wave, make_wave

        w = self.world
        wave = load_wave(w, make_wave(w, "a", title="曲靖调查"))
        services.wave_target_add(user=w.users["admin_a"], wave=wave, year=2026, rate=13)
        services.run_start(user=w.users["admin_a"], wave=wave)
        return wave

    @functools.cached_property
    def campaign(self) -> Any:
        """The city office's science month (registration open on the fixture's today)."""
        from kepu.campaigns import services
        from tests.campaigns.conftest import fields

        return services.campaign_create(
            user=self.world.users["admin_a"], fields=fields(), quotas=[]
        )

    def _activity(self, title: str) -> Any:
        from kepu.campaigns import services
        from tests.campaigns.conftest import activity_fields

        return services.activity_register(
            user=self.world.users["staff_a1"],
            campaign=self.campaign,
            organiser=self.world.orgs["unit_a1"],
            fields=activity_fields(self.world, title=title),
        )

    @functools.cached_property
    def activity(self) -> Any:
        """unit_a1's activity, submitted for review."""
        return self._activity("走进社区健康讲座")

    @functools.cached_property
    def published(self) -> Any:
        """unit_a1's activity, approved (public), with a poster."""
        from django.core.files.base import ContentFile

        from kepu.campaigns import services
        from tests.campaigns.conftest import png_bytes

        activity = self._activity("科学之夜")
        services.activity_review(user=self.world.users["admin_a"], activity=activity, approve=True)
        activity.refresh_from_db()
        activity.poster.save("poster.png", ContentFile(png_bytes()))
        return activity

    @functools.cached_property
    def photo(self) -> Any:
        from kepu.campaigns import services
        from tests.campaigns.conftest import png_bytes

        return services.activity_photo_add(
            user=self.world.users["staff_a1"],
            activity=self.published,
            name="现场.png",
            data=png_bytes(),
        )

    @functools.cached_property
    def nomination(self) -> Any:
        """unit_a1 nominated by the city office in the city campaign (pending)."""
        from kepu.campaigns import awards

        user = self.world.users["admin_a"]
        criteria = awards.criteria_for(self.campaign) or awards.criteria_create_defaults(
            user=user, campaign=self.campaign
        )
        return awards.nomination_create(
            user=user,
            campaign=self.campaign,
            scores={str(c.pk): 0 for c in criteria},
            organisation=self.world.orgs["unit_a1"],
        )

    @functools.cached_property
    def awarded(self) -> Any:
        """The city campaign with its awards decided and published."""
        from kepu.campaigns import awards

        user = self.world.users["admin_a"]
        awards.nomination_decide(user=user, nomination=self.nomination, award=True)
        self.campaign.refresh_from_db()
        return awards.awards_publish(user=user, campaign=self.campaign)

    # --- registries: a base of unit_a1 (city A), applying, then certified and reviewed
    @functools.cached_property
    def base(self) -> Any:
        from kepu.registry import services
        from tests.registry.conftest import base_fields

        w = self.world
        return services.base_apply(
            user=w.users["admin_a"],
            organisation=w.orgs["unit_a1"],
            fields=base_fields(w, region=w.regions["city_a"]),
        )

    @functools.cached_property
    def sheet(self) -> Any:
        from kepu.registry import services
        from kepu.registry.scoring import DEFAULT_SHEET

        return services.sheet_create(
            user=self.world.users["admin_a"], year=2026, data=DEFAULT_SHEET
        )

    @functools.cached_property
    def certified_base(self) -> Any:
        from kepu.registry import services

        admin = self.world.users["admin_a"]
        services.base_certify(
            user=admin, base=self.base, approve=True, valid_from=2026, valid_to=2030
        )
        _ = self.sheet
        return self.base

    @functools.cached_property
    def review(self) -> Any:
        from kepu.registry import services

        return services.review_open(
            user=self.world.users["admin_a"], base=self.certified_base, sheet=self.sheet, year=2026
        )

    @functools.cached_property
    def expert(self) -> Any:
        from kepu.registry import services

        return services.expert_save(
            user=self.world.users["admin_a"],
            fields=services.ExpertFields(
                name="王教授", region=self.world.regions["city_a"], fields=["健康"]
            ),
        )

    # museums and volunteers: unit_a1's museum; the city office's team in the county,
    # hosted by unit_a1, with one volunteer (personal data: the city office only)
    @functools.cached_property
    def _registry(self) -> dict[str, Any]:
        from tests.registry.conftest import registry_world

        return registry_world(self.world)

    @property
    def museum(self) -> Any:
        return self._registry["museum"]

    @property
    def museum_report(self) -> Any:
        return self._registry["report"]

    @property
    def team(self) -> Any:
        return self._registry["team"]

    @property
    def volunteer(self) -> Any:
        return self._registry["volunteer"]

    @property
    def service_record(self) -> Any:
        from kepu.registry.models import ServiceRecord

        return ServiceRecord.objects.get(volunteer=self.volunteer)  # unscoped: the fixture's

    @functools.cached_property
    def target_a(self) -> Any:
        return self.wave_a.targets.get()

    @functools.cached_property
    def run_a(self) -> Any:
        return self.wave_a.runs.get()

    @functools.cached_property
    def job_a(self) -> Any:
        """admin_a's finished ledger export, a background job of the city office."""
        from kepu.core.jobs import job_start

        return job_start(
            user=self.world.users["admin_a"],
            kind="ledger_export",
            organisation=self.world.orgs["office_a"],
            func="kepu.plans.jobs.ledger_export",
            params={"filters": {}, "title": "任务台账"},
        )

    # --- who may do what with the objects above -------------------------------------------------

    # progress: a round of the city office over a task led by unit_a1, whose report is
    # submitted with a photo, and a notice issued to unit_a1
    @functools.cached_property
    def _progress(self) -> dict[str, Any]:
        from kepu.progress.models import Notice, Report, ReportEvidence, ReportingRound
        from tests.progress.helpers import progress_objects

        o = progress_objects(self.world)
        return {
            "round": ReportingRound.objects.get(pk=o["progress"]["pk"]),
            "report": Report.objects.get(pk=o["progress:report"]["pk"]),
            "evidence": ReportEvidence.objects.get(pk=o["progress:evidence"]["pk"]),
            "notice": Notice.objects.get(pk=o["progress:notice"]["pk"]),
        }

    @property
    def p_round(self) -> Any:
        return self._progress["round"]

    @property
    def p_report(self) -> Any:
        return self._progress["report"]

    @property
    def p_evidence(self) -> Any:
        return self._progress["evidence"]

    @property
    def p_notice(self) -> Any:
        return self._progress["notice"]

    @property
    def p_task(self) -> Any:
        return self._progress["report"].task

    @functools.cached_property
    def p_parent_plan(self) -> Any:
        """Another plan of the city office whose task plan_a's first task implements."""
        from kepu.plans.services import PlanFields, plan_create_from_parsed

        task = self.task_a1
        return plan_create_from_parsed(
            user=self.world.users["admin_a"],
            owner=self.world.orgs["office_a"],
            parsed={
                "tasks": [
                    {
                        "path": [],
                        "number": "1",
                        "title": task.title,
                        "text": task.text,
                        "lead": [],
                        "cooperate": [],
                        "responsible": [],
                        "targets": [],
                    }
                ]
            },
            fields=PlanFields(title="曲靖实施方案"),
        )

    @functools.cached_property
    def p_link(self) -> Any:
        """The suggested link of task_a1 to the parent plan's task."""
        from kepu.progress.models import TaskLink
        from kepu.progress.services import links_suggest

        links_suggest(
            user=self.world.users["admin_a"], local_plan=self.plan_a, parent_plan=self.p_parent_plan
        )
        return TaskLink.objects.get(local=self.task_a1)

    # 上下级任务对应 by a county: the county office's own plan, whose task 1 implements
    # task_a1 of the city's plan_a, and a sibling county's plan (same city, no user of its
    # own: the county office must not reach it)
    def _local_plan(self, owner: Any, user: Any, title: str) -> Any:
        from kepu.plans.services import PlanFields, plan_create_from_parsed

        task = self.task_a1
        parsed = {
            "tasks": [
                {
                    "path": [],
                    "number": "1",
                    "title": task.title,
                    "text": task.text,
                    "lead": [],
                    "cooperate": [],
                    "responsible": [],
                    "targets": [],
                }
            ]
        }
        return plan_create_from_parsed(
            user=user, owner=owner, parsed=parsed, fields=PlanFields(title=title)
        )

    @functools.cached_property
    def county_plan(self) -> Any:
        w = self.world
        return self._local_plan(w.orgs["county_office_a"], w.users["county_admin_a"], "麒麟区要点")

    @functools.cached_property
    def sibling_plan(self) -> Any:
        from kepu.orgs.models import Organisation, OrgKind
        from tests.conftest import make_region

        w = self.world
        region = make_region("530303", "沾益区", 3, w.regions["city_a"])
        office = Organisation.objects.create(
            name="沾益区科学技术协会", kind=OrgKind.ASSOCIATION, region=region
        )
        return self._local_plan(office, w.users["admin_a"], "沾益区要点")

    def _link_of(self, plan: Any, user: Any) -> Any:
        from kepu.progress.models import TaskLink
        from kepu.progress.services import links_suggest

        links_suggest(user=user, local_plan=plan, parent_plan=self.plan_a)
        return TaskLink.objects.get(local__plan=plan, parent=self.task_a1)

    @functools.cached_property
    def county_link(self) -> Any:
        return self._link_of(self.county_plan, self.world.users["county_admin_a"])

    @functools.cached_property
    def sibling_link(self) -> Any:
        return self._link_of(self.sibling_plan, self.world.users["admin_a"])

    # statistics: the city office's 2026 collection; unit_a1's report (a draft)
    @functools.cached_property
    def stat_collection(self) -> Any:
        from tests.statistics.conftest import make_collection

        return make_collection(self.world)

    @property
    def stat_catalogue(self) -> Any:
        return self.stat_collection.catalogue

    @property
    def stat_report(self) -> Any:
        return self.stat_collection.reports.get(organisation=self.world.orgs["unit_a1"])


OFFICE_ADMINS = {"super", "admin_a", "admin_b", "county_admin_a"}  # may import / create
UNIT_A1_READ = {"super", "admin_a", "viewer_a", "staff_a1"}
UNIT_A1_WRITE = {"super", "admin_a", "staff_a1"}
CITY_A_ADMIN = {"super", "admin_a"}
PLAN_A_READ = {"super", "admin_a", "viewer_a", "staff_a1", "staff_a2"}  # office + named units
PLAN_A_OWNER_READ = {"super", "admin_a", "viewer_a"}  # the owner office (the original file)
WAVE_A_READ = {"super", "admin_a", "viewer_a"}
# A county office reads the city survey's results (scope_read_down), never changes it.
WAVE_A_RESULTS = WAVE_A_READ | {"county_admin_a"}
WAVE_A_FORBID = {"viewer_a", "county_admin_a"}
# the city campaign is open to every organisation of the city; unit_a1's activity is read
# by its unit and the city office
CAMPAIGN_READ = {"super", "admin_a", "viewer_a", "staff_a1", "staff_a2", "county_admin_a"}
ACTIVITY_READ = {"super", "admin_a", "viewer_a", "staff_a1"}
ACTIVITY_WRITE = {"super", "admin_a", "staff_a1"}
EVERYONE = {"anon": 200}  # public pages
NOT_SUPER = SIGNED_IN - {"super"}
P_ROUND_READ = {"super", "admin_a", "viewer_a"}  # the round office (units see their reports)
# the volunteer team: its office (city A), the county office (region), the host unit
TEAM_READ = {"super", "admin_a", "viewer_a", "staff_a1", "county_admin_a"}
PERSONAL_READ = {"super", "admin_a", "viewer_a"}  # the team's office only

MATRIX: dict[str, Row] = {
    # shell
    "home": row(),
    "my_permissions": row(),
    "favicon": row(status=EVERYONE, note="the site icon, public"),
    "audit": row(),
    "login": row(ok=set(), rest=302, anon=200, note="signed-in users go home"),
    "logout": post(ok=SIGNED_IN, status={"anon": 302}),
    "password_change": row(),
    "password_change_done": row(),
    # organisations
    "orgs:list": row(),
    "orgs:create": row(ok=OFFICE_ADMINS, rest=403),
    "orgs:detail": row("unit_a1", ok=UNIT_A1_READ),
    "orgs:edit": row("unit_a1", ok=UNIT_A1_WRITE, forbidden={"viewer_a"}),
    "orgs:delete": post("unit_a2", ok=CITY_A_ADMIN, forbidden={"viewer_a", "staff_a2"}),
    "orgs:member_add": post("unit_a1", ok=CITY_A_ADMIN, forbidden={"viewer_a", "staff_a1"}),
    "orgs:member_remove": post(
        "membership_staff_a1", ok=CITY_A_ADMIN, forbidden={"viewer_a", "staff_a1"}
    ),
    # plans and the ledger
    "plans:ledger": row(),
    "plans:ledger_export": row(),
    "plans:my_tasks": row(),
    "plans:list": row(),
    "plans:upload": row(ok=OFFICE_ADMINS, rest=403),
    "plans:ledger_import": row(ok=OFFICE_ADMINS, rest=403),
    "plans:draft": row("draft", ok=CITY_A_ADMIN, note="drafts are seen only by who may add"),
    "plans:draft_cancel": post("draft", ok=CITY_A_ADMIN),
    "plans:detail": row("plan_a", ok=PLAN_A_READ),
    "plans:source": row("plan_a", ok=PLAN_A_OWNER_READ, forbidden=PLAN_A_READ - PLAN_A_OWNER_READ),
    # plans' own views fetch with restrict(DELETE): readers get 404, not 403, here
    "plans:delete": post("plan_a", ok=CITY_A_ADMIN),
    "plans:task": row("task_a2", ok=UNIT_A1_READ),
    "plans:task_edit": row("task_a1", ok=CITY_A_ADMIN, forbidden=PLAN_A_READ - CITY_A_ADMIN),
    # survey
    "survey:waves": row(),
    "survey:wave_create": row(ok=OFFICE_ADMINS, rest=403),
    "survey:wave": row("wave_a", ok=WAVE_A_RESULTS),
    "survey:wave_edit": row("wave_a", ok=CITY_A_ADMIN, forbidden=WAVE_A_FORBID),
    "survey:wave_delete": post("wave_a", ok=CITY_A_ADMIN, forbidden=WAVE_A_FORBID),
    "survey:import": row("wave_a", ok=CITY_A_ADMIN, forbidden=WAVE_A_FORBID),
    "survey:data_template": row("wave_a", ok=CITY_A_ADMIN, forbidden=WAVE_A_FORBID),
    "survey:margins": row("wave_a", ok=WAVE_A_READ, forbidden={"county_admin_a"}),
    "survey:targets": row("wave_a", ok=CITY_A_ADMIN, forbidden=WAVE_A_FORBID),
    "survey:target_delete": post("wave_a", "target_a", ok=CITY_A_ADMIN, forbidden=WAVE_A_FORBID),
    "survey:run_start": post("wave_a", ok=CITY_A_ADMIN, forbidden=WAVE_A_FORBID),
    "survey:run_status": row("wave_a", "run_a", ok=WAVE_A_RESULTS),
    "survey:geo": row("wave_a", ok=WAVE_A_RESULTS),
    "survey:export": row("wave_a", ok=WAVE_A_RESULTS),
    "survey:questionnaire_export": row("wave_a", ok=WAVE_A_RESULTS),
    "survey:questionnaire_template": row(),
    "survey:run_cancel": post("wave_a", "run_a", ok=CITY_A_ADMIN, forbidden=WAVE_A_FORBID),
    # background jobs (the city office's job: its office sees it, the starter cancels it)
    "jobs:list": row(),
    "jobs:detail": row("job_a", ok=WAVE_A_READ),
    "jobs:status": row("job_a", ok=WAVE_A_READ),
    "jobs:download": row("job_a", ok=WAVE_A_READ),
    "jobs:cancel": post("job_a", ok=CITY_A_ADMIN, forbidden={"viewer_a"}),
    # bulk onboarding (office administrators)
    "orgs:import": row(ok=OFFICE_ADMINS, rest=403),
    "orgs:import_template": row(ok=OFFICE_ADMINS, rest=403),
    "orgs:import_confirm": post(ok=OFFICE_ADMINS, rest=403, note="nothing staged: back"),
    "orgs:user_import": row(ok=OFFICE_ADMINS, rest=403),
    "orgs:user_import_template": row(ok=OFFICE_ADMINS, rest=403),
    "orgs:user_import_confirm": post(ok=OFFICE_ADMINS, rest=403),
    "orgs:invite": row(args=lambda d: ["MQ", "set-password"], status=EVERYONE),
    # campaigns
    "campaigns:list": row(),
    "campaigns:create": row(ok=OFFICE_ADMINS, rest=403),
    "campaigns:import": row(ok=OFFICE_ADMINS, rest=403),
    "campaigns:detail": row("campaign", ok=CAMPAIGN_READ),
    "campaigns:activities": row("campaign", ok=CAMPAIGN_READ),
    "campaigns:map": row("campaign", ok=CAMPAIGN_READ, note="needs the map package"),
    "campaigns:review": row("campaign", ok=CAMPAIGN_READ),
    "campaigns:quotas": row("campaign", ok=CAMPAIGN_READ),
    "campaigns:summary": row("campaign", ok=CAMPAIGN_READ),
    "campaigns:summary_report": row("campaign", ok=CAMPAIGN_READ),
    "campaigns:register": row("campaign", ok=CAMPAIGN_READ - {"viewer_a"}, forbidden={"viewer_a"}),
    "campaigns:edit": row("campaign", ok=CITY_A_ADMIN, forbidden=CAMPAIGN_READ - CITY_A_ADMIN),
    "campaigns:activities_import": row(
        "campaign", ok=CAMPAIGN_READ - {"viewer_a"}, forbidden={"viewer_a"}
    ),
    "campaigns:activities_template": row("campaign", ok=CAMPAIGN_READ),
    "campaigns:awards": row("campaign", ok=CAMPAIGN_READ),
    "campaigns:award_nominate": post("campaign", ok=CAMPAIGN_READ),
    "campaigns:award_decide": post(
        "nomination", data={"award": "1"}, ok=CITY_A_ADMIN, forbidden={"viewer_a"}
    ),
    "campaigns:award_publish": post(
        "campaign", ok=CITY_A_ADMIN, forbidden=CAMPAIGN_READ - CITY_A_ADMIN
    ),
    "campaigns:award_criteria": post(
        "campaign", ok=CITY_A_ADMIN, forbidden=CAMPAIGN_READ - CITY_A_ADMIN
    ),
    "campaigns:activity": row("activity", ok=ACTIVITY_READ),
    "campaigns:activity_edit": row("activity", ok=ACTIVITY_WRITE, forbidden={"viewer_a"}),
    "campaigns:activity_submit": post("activity", ok=ACTIVITY_WRITE, forbidden={"viewer_a"}),
    "campaigns:activity_review": post(
        "activity",
        data={"decision": "approve"},
        ok=CITY_A_ADMIN,
        forbidden=ACTIVITY_READ - CITY_A_ADMIN,
    ),
    "campaigns:activity_reopen": post(
        "published",
        data={"until": "2026-10-20"},
        ok=CITY_A_ADMIN,
        forbidden=ACTIVITY_READ - CITY_A_ADMIN,
    ),
    # Only an office over the activity may take it off the portal: the organiser's own
    # unit and the city's viewer see it but get 403; other regions' offices do not see it.
    "campaigns:activity_unpublish": post(
        "published",
        data={"reason": "地址有误, 请核实后重新提交"},
        ok=CITY_A_ADMIN,
        forbidden=ACTIVITY_READ - CITY_A_ADMIN,
    ),
    "campaigns:activity_photo_add": post("published", ok=ACTIVITY_WRITE, forbidden={"viewer_a"}),
    "campaigns:activity_complete": post("published", ok=ACTIVITY_WRITE, forbidden={"viewer_a"}),
    "campaigns:activity_poster": row("published", ok=ACTIVITY_READ),
    "campaigns:photo": row("photo", ok=ACTIVITY_READ),
    # the public portal: everyone, signed in or not
    "portal:index": row(status=EVERYONE),
    "portal:campaign": row("campaign", status=EVERYONE),
    "portal:geo": row("campaign", status=EVERYONE, note="needs the map package"),
    "portal:points": row("campaign", status=EVERYONE),
    "portal:ics": row("campaign", status=EVERYONE),
    "portal:open_json": row("campaign", status=EVERYONE),
    "portal:open_csv": row("campaign", status=EVERYONE),
    "portal:activity": row("published", status=EVERYONE),
    "portal:poster": row("published", status=EVERYONE),
    "portal:photo": row("photo", status=EVERYONE),
    "portal:awards": row("awarded", status=EVERYONE),
    # searched filter choices (organisations, regions, plans), each scoped to the user
    "autocomplete": row(args=lambda d: ["orgs"]),
    # registries: the base belongs to unit_a1 in city A
    "registry:bases": row(),
    "registry:base_apply": row(ok=SIGNED_IN - {"viewer_a", "nobody"}, rest=403),
    "registry:base": row("base", ok=UNIT_A1_READ),
    "registry:base_edit": row("base", ok=UNIT_A1_WRITE, forbidden={"viewer_a"}),
    "registry:base_endorse": post("base", ok=CITY_A_ADMIN, forbidden={"viewer_a", "staff_a1"}),
    "registry:base_certify": post(
        "base",
        ok=CITY_A_ADMIN,
        forbidden={"viewer_a", "staff_a1"},
        data={"decision": "approve", "valid_from": "2026", "valid_to": "2030"},
    ),
    "registry:review_open": post(
        "certified_base",
        ok=UNIT_A1_WRITE,
        forbidden={"viewer_a"},
        data=lambda d: {"sheet": d.sheet.pk},
    ),
    "registry:review": row("review", ok=UNIT_A1_READ),
    "registry:sheets": row(),
    "registry:sheet_template": row(),
    "registry:sheet": row("sheet", ok={"super", "admin_a", "viewer_a"}),
    "registry:sheet_export": row("sheet", ok={"super", "admin_a", "viewer_a"}),
    "registry:experts": row(),
    "registry:expert_new": row(ok=OFFICE_ADMINS, rest=403),
    "registry:expert_edit": row("expert", ok=CITY_A_ADMIN, forbidden={"viewer_a"}),
    # science museums: unit_a1's museum in city A
    "registry:museums": row(),
    "registry:museum_new": row(ok=SIGNED_IN - {"viewer_a", "nobody"}, rest=403),
    "registry:museum_summary": row(),
    "registry:museum_export": row(),
    "registry:museum": row("museum", ok=UNIT_A1_READ),
    "registry:museum_edit": row("museum", ok=UNIT_A1_WRITE, forbidden={"viewer_a"}),
    "registry:museum_report_open": post(
        "museum",
        ok=UNIT_A1_WRITE,
        forbidden={"viewer_a"},
        data=lambda d: {"year": str(d.museum_report.year)},
    ),
    "registry:museum_report": row("museum_report", ok=UNIT_A1_READ),
    # volunteers: the team is the city office's, in the county, hosted by unit_a1; the
    # county office and the host unit see the team but never its volunteers' personal data
    "registry:teams": row(),
    "registry:team_new": row(ok=OFFICE_ADMINS, rest=403),
    "registry:team": row("team", ok=TEAM_READ),
    "registry:team_edit": row("team", ok=CITY_A_ADMIN, forbidden=TEAM_READ - CITY_A_ADMIN),
    "registry:team_import": row("team", ok=CITY_A_ADMIN, forbidden=TEAM_READ - CITY_A_ADMIN),
    "registry:volunteer_new": row("team", ok=CITY_A_ADMIN, forbidden=TEAM_READ - CITY_A_ADMIN),
    "registry:volunteers": row(),
    "registry:volunteer_template": row(),
    "registry:volunteer_totals": row(),
    "registry:volunteer": row("volunteer", ok=PERSONAL_READ, forbidden=TEAM_READ - PERSONAL_READ),
    "registry:volunteer_edit": row(
        "volunteer", ok=CITY_A_ADMIN, forbidden=TEAM_READ - CITY_A_ADMIN
    ),
    "registry:volunteer_certificate": row(
        "volunteer", ok=PERSONAL_READ, forbidden=TEAM_READ - PERSONAL_READ
    ),
    "registry:service_add": post(
        "volunteer",
        ok=CITY_A_ADMIN,
        forbidden=TEAM_READ - CITY_A_ADMIN,
        data={"served_on": "2026-01-02", "hours": "2"},
    ),
    "registry:service_edit": row(
        "service_record", ok=CITY_A_ADMIN, forbidden=TEAM_READ - CITY_A_ADMIN
    ),
    "registry:service_delete": post(
        "service_record",
        ok=CITY_A_ADMIN,
        forbidden=TEAM_READ - CITY_A_ADMIN,
        data={"reason": "重复录入"},
    ),
    # progress reporting and supervision
    "progress:rounds": row(),
    "progress:round_create": row(ok=OFFICE_ADMINS, rest=403),
    "progress:round": row("p_round", ok=P_ROUND_READ),
    "progress:round_close": post("p_round", ok=CITY_A_ADMIN, forbidden={"viewer_a"}),
    "progress:round_docx": row("p_round", ok=P_ROUND_READ),
    "progress:round_xlsx": row("p_round", ok=P_ROUND_READ),
    "progress:review": row("p_round", ok=CITY_A_ADMIN, forbidden={"viewer_a"}),
    "progress:reports": row(),
    "progress:report": row("p_report", ok=UNIT_A1_READ),
    "progress:report_split": post(
        "p_report", ok=set(), forbidden=UNIT_A1_READ, note="only an office's own slot splits"
    ),
    "progress:report_review": post(
        "p_report",
        data={"decision": "accept"},
        ok=CITY_A_ADMIN,
        forbidden={"viewer_a", "staff_a1"},
    ),
    "progress:notice_create": row("p_report", ok=CITY_A_ADMIN, forbidden={"viewer_a", "staff_a1"}),
    "progress:evidence": row("p_evidence", ok=UNIT_A1_READ),
    "progress:dashboard": row(),
    "progress:plan_dashboard": row("plan_a", ok=PLAN_A_READ),
    "progress:office_dashboard": row("office_a", ok=P_ROUND_READ),
    "progress:settings": row(ok=OFFICE_ADMINS, rest=403),
    "progress:notices": row(),
    "progress:notice": row("p_notice", ok=UNIT_A1_READ),
    "progress:notice_docx": row("p_notice", ok=UNIT_A1_READ),
    "progress:task_terminate": post("p_task", ok=CITY_A_ADMIN, forbidden={"viewer_a", "staff_a1"}),
    "progress:plan_links": row("plan_a", ok=PLAN_A_READ),
    "progress:plan_links_suggest": post(
        "plan_a",
        data=lambda d: {"parent": d.p_parent_plan.pk},
        ok=CITY_A_ADMIN,
        forbidden=PLAN_A_READ - CITY_A_ADMIN,
    ),
    # a link is out of sight unless its parent task is visible too (the units named on
    # plan_a do not see the parent plan)
    "progress:link_decide": post(
        "p_link", data={"decision": "confirm"}, ok=CITY_A_ADMIN, forbidden={"viewer_a"}
    ),
    "progress:link_create": post(
        "plan_a",
        data=lambda d: {"local": d.task_a1.pk, "parent_task": d.p_parent_plan.tasks.get().pk},
        ok=CITY_A_ADMIN,
        forbidden=PLAN_A_READ - CITY_A_ADMIN,
    ),
    # a county office reads the city plan's coverage (read down, for linking its tasks)
    "progress:plan_coverage": row("plan_a", ok=PLAN_A_READ | {"county_admin_a"}),
    "notifications:inbox": row(),
    "notifications:mark_read": post(ok=SIGNED_IN),
    # annual statistics (科普统计)
    "statistics:index": row(),
    "statistics:catalogues": row(),
    "statistics:catalogue_import": row(ok={"super"}, rest=403),
    "statistics:catalogue": row("stat_catalogue", note="reference data: every signed-in user"),
    "statistics:collection_new": row(ok=OFFICE_ADMINS, rest=403),
    "statistics:collection": row("stat_collection", ok=WAVE_A_READ),
    "statistics:rollup": row("stat_collection", ok=WAVE_A_READ),
    "statistics:rollup_export": row("stat_collection", ok=WAVE_A_READ),
    "statistics:population": row(ok=OFFICE_ADMINS, rest=403),
    "statistics:population_template": row(ok=OFFICE_ADMINS, rest=403),
    "statistics:report": row("stat_report", ok=UNIT_A1_READ),
    "statistics:report_template": row("stat_report", ok=UNIT_A1_READ),
    "statistics:report_upload": post("stat_report", ok=UNIT_A1_WRITE, forbidden={"viewer_a"}),
    "statistics:report_review": post(
        "stat_report",
        data={"decision": "accept"},
        ok=CITY_A_ADMIN,
        forbidden={"viewer_a", "staff_a1"},
    ),
}

# The county office links its own plan's tasks to the city plan (parent plans and their
# tasks are read downward on these pages only: scope_read_down = "on_request"); it never
# reaches a sibling county's plan or links. Rows that need objects other than a URL's
# main row: case → (URL name, row); tests/test_url_matrix.py requests them like MATRIX.
COUNTY_PLAN_READ = {"super", "admin_a", "viewer_a", "county_admin_a"}
COUNTY_PLAN_WRITE = {"super", "admin_a", "county_admin_a"}
SIBLING_READ = {"super", "admin_a", "viewer_a"}
CASES: dict[str, tuple[str, Row]] = {
    "county links page, city plan as parent": (
        "progress:plan_links",
        row("county_plan", data=lambda d: {"parent": d.plan_a.pk}, ok=COUNTY_PLAN_READ),
    ),
    "county suggests from the city plan": (
        "progress:plan_links_suggest",
        post(
            "county_plan",
            data=lambda d: {"parent": d.plan_a.pk},
            ok=COUNTY_PLAN_WRITE,
            forbidden={"viewer_a"},
        ),
    ),
    "county confirms its link": (
        "progress:link_decide",
        post(
            "county_link",
            data={"decision": "confirm"},
            ok=COUNTY_PLAN_WRITE,
            forbidden={"viewer_a"},
        ),
    ),
    "county picks a city task by hand": (
        "progress:link_create",
        post(
            "county_plan",
            data=lambda d: {"local_number": "1", "parent_task": d.task_a1.pk},
            ok=COUNTY_PLAN_WRITE,
            forbidden={"viewer_a"},
        ),
    ),
    "city plan coverage with the county plan as local": (
        "progress:plan_coverage",
        row(
            "plan_a",
            data=lambda d: {"local": d.county_plan.pk},
            ok=PLAN_A_READ | {"county_admin_a"},
        ),
    ),
    "sibling county's links page": ("progress:plan_links", row("sibling_plan", ok=SIBLING_READ)),
    "sibling county's coverage": ("progress:plan_coverage", row("sibling_plan", ok=SIBLING_READ)),
    "sibling county's link": (
        "progress:link_decide",
        post("sibling_link", data={"decision": "confirm"}, ok=CITY_A_ADMIN, forbidden={"viewer_a"}),
    ),
    "pick for the sibling county's plan": (
        "progress:link_create",
        post(
            "sibling_plan",
            data=lambda d: {"local_number": "1", "parent_task": d.task_a1.pk},
            ok=CITY_A_ADMIN,
            forbidden={"viewer_a"},
        ),
    ),
    "sibling county's plan as the county's parent": (
        "progress:plan_links_suggest",
        post(
            "county_plan",
            data=lambda d: {"parent": d.sibling_plan.pk},
            ok=CITY_A_ADMIN,
            forbidden={"viewer_a"},
            note="the city office reads both: 302 back with the refusal (not a parent region)",
        ),
    ),
}

# Whole namespaces served by one row (Django's admin: superusers only; the rest are sent
# to the admin's own login page).
NAMESPACES: dict[str, tuple[str, Row]] = {
    "admin": (
        "admin:index",
        row(ok={"super"}, rest=302, status={"anon": 302}, login_url="admin:login"),
    ),
}


def url_for(name: str, row_: Row, data: MatrixData) -> str:
    args = row_.args(data) if row_.args else [getattr(data, obj).pk for obj in row_.objects]
    return reverse(name, args=args)


def _is_login_redirect(resp: Any, login_url: str) -> bool:
    return resp.status_code == 302 and resp["Location"].startswith(reverse(login_url))


def check_row(
    client: Any, world: Any, data: MatrixData, name: str, row_: Row, users: Iterable[str] = USERS
) -> list[str]:
    """Request ``name`` as every user; return the cells whose status is not the expected."""
    url = url_for(name, row_, data)
    payload = row_.data(data) if callable(row_.data) else row_.data
    wrong = []
    for who in users:
        client.logout()
        if who != "anon":
            client.force_login(world.users[who])
        with transaction.atomic():
            resp = getattr(client, row_.method)(url, payload)
            transaction.set_rollback(True)
        expected = row_.expected(who)
        got = resp.status_code
        if got != expected:
            wrong.append(f"{name} as {who}: {got}, expected {expected}")
        elif who == "anon" and expected == 302 and not _is_login_redirect(resp, row_.login_url):
            wrong.append(f"{name} as anon: redirected to {resp['Location']}, not the login page")
    return wrong
