"""Demo registries: a certified base with a submitted self-report waiting for scoring, a
base on warning after last year's review, an application waiting for endorsement, the
default score sheet and a few experts."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils import timezone

from kepu.core.demo import DemoContext
from kepu.orgs.models import Membership, Organisation, OrgKind
from kepu.orgs.scoping import Role
from kepu.registry import services
from kepu.registry.models import BaseCategory, BaseLevel, EducationBase, Museum
from kepu.registry.scoring import DEFAULT_SHEET


def _base_org(ctx: DemoContext, name: str, region) -> Organisation:  # type: ignore[no-untyped-def]
    org, _ = Organisation.objects.get_or_create(
        region=region, name=name, defaults={"kind": OrgKind.EDUCATION_BASE}
    )
    return org


def load(ctx: DemoContext) -> None:
    if not EducationBase.objects.filter(name="曲靖市科技馆").exists():
        _bases(ctx)
    if not Museum.objects.filter(name="曲靖市科技馆").exists():
        _museums_and_volunteers(ctx)


def _bases(ctx: DemoContext) -> None:
    User = get_user_model()
    admin = User.objects.get(username="city_admin")
    county_admin = User.objects.get(username="county_admin")
    city = ctx.data["city"]
    county = ctx.data["county_associations"][0].region
    year = timezone.localdate().year
    museum = _base_org(ctx, "曲靖市科技馆", city)
    farm = _base_org(ctx, "麒麟区现代农业科普示范园", county)
    park = _base_org(ctx, "麒麟区湿地公园", county)
    staff = ctx.user("base_staff", label=f"单位填报员 · {museum.name}", full_name="周馆员")
    Membership.objects.get_or_create(
        user=staff, organisation=museum, defaults={"role": Role.UNIT_STAFF}
    )

    def fields(name, region, **over):  # type: ignore[no-untyped-def]
        data = dict(
            name=name,
            level=BaseLevel.CITY,
            category=BaseCategory.VENUE,
            region=region,
            address="演示地址",
            exhibition_area=1200,
            opening_days=310,
            annual_visitors=52000,
            free_days=310,
            contact_name="周馆员",
            contact_phone="0874-0000001",
        )
        data.update(over)
        return services.BaseFields(**data)

    sheet_last = services.sheet_create(
        user=admin, year=year - 1, data=DEFAULT_SHEET, owner_id=ctx.data["association"].pk
    )
    sheet = services.sheet_create(
        user=admin, year=year, data=DEFAULT_SHEET, owner_id=ctx.data["association"].pk
    )
    base = services.base_apply(user=admin, organisation=museum, fields=fields("曲靖市科技馆", city))
    services.base_certify(
        user=admin, base=base, approve=True, batch="第二批", valid_from=year - 2, valid_to=year + 2
    )
    review = services.review_open(user=staff, base=base, sheet=sheet, year=year)
    services.review_save(
        user=staff,
        review=review,
        figures={},
        summary="全年免费开放, 举办科普展览和讲座。",
        evidence_links="",
        version=review.version,
        submit=True,
    )

    weak = services.base_apply(
        user=county_admin,
        organisation=farm,
        fields=fields(
            "麒麟区现代农业科普示范园",
            county,
            category=BaseCategory.RURAL,
            exhibition_area=300,
            opening_days=180,
            annual_visitors=4000,
            free_days=100,
        ),
    )
    services.base_certify(
        user=admin, base=weak, approve=True, batch="第一批", valid_from=year - 3, valid_to=year + 1
    )
    last = services.review_open(user=county_admin, base=weak, sheet=sheet_last, year=year - 1)
    services.review_save(
        user=county_admin,
        review=last,
        figures={},
        summary="",
        evidence_links="",
        version=last.version,
        submit=True,
    )
    services.review_score(
        user=admin, review=last, reviewer_scores={"rules": 8, "content": 6, "safety": 5}
    )

    services.base_apply(
        user=county_admin,
        organisation=park,
        fields=fields(
            "麒麟区湿地公园科普基地",
            county,
            category=BaseCategory.NATURE,
            exhibition_area=800,
            opening_days=365,
            annual_visitors=90000,
            free_days=365,
        ),
    )
    for name, title, tags in (
        ("杨医生", "主任医师", ["健康", "营养", "慢病防治"]),
        ("何研究员", "农艺师", ["农业技术", "种植"]),
        ("孙老师", "中学高级教师", ["青少年科技教育", "人工智能"]),
    ):
        services.expert_save(
            user=admin,
            owner_id=ctx.data["association"].pk,
            fields=services.ExpertFields(
                name=name, region=city, fields=tags, title=title, employer="演示单位"
            ),
        )
    ctx.notes.append(
        "演示科普教育基地: 1 个待评分的年度自评, 1 个预警基地, 1 个待推荐的申报; 3 位科普专家。"
    )


def _demo_id(seq: int) -> str:
    """A made-up identity number with a valid check digit (demo people only)."""
    from kepu.registry.identity import check_digit

    first17 = f"530302{1970 + seq % 35}{seq % 12 + 1:02d}{seq % 28 + 1:02d}{seq:03d}"
    return first17 + check_digit(first17)


def _museums_and_volunteers(ctx: DemoContext) -> None:
    """A science museum with last year's accepted report and this year's draft; a team of
    the city office with volunteers and service hours (some on a campaign activity)."""
    import datetime as dt
    from decimal import Decimal

    from kepu.campaigns.models import PUBLISHED, Activity

    User = get_user_model()
    admin = User.objects.get(username="city_admin")
    city = ctx.data["city"]
    county = ctx.data["county_associations"][0].region
    year = timezone.localdate().year
    museum_org = _base_org(ctx, "曲靖市科技馆", city)
    museum = services.museum_save(
        user=admin,
        organisation=museum_org,
        fields=services.MuseumFields(
            name="曲靖市科技馆",
            region=city,
            address="演示地址",
            building_area=16800,
            exhibition_area=9200,
            opened_year=2016,
            free_entry=True,
            contact_name="周馆员",
            contact_phone="0874-0000001",
        ),
    )
    figures = {
        "opening_days": 306,
        "visitors": 412000,
        "staff": 86,
        "staff_full_time": 52,
        "operating_funds": Decimal("1350.00"),
        "exhibits": 420,
        "temp_exhibitions": 7,
        "education_activities": 365,
        "education_participants": 58000,
        "outreach_events": 48,
        "research_projects": 2,
        "papers": 6,
        "exhibits_developed": 9,
        "satisfaction": 96,
        "complaints": 1,
        "media_reports": 41,
        "subsidy_received": Decimal("600.00"),
        "subsidy_used": Decimal("585.00"),
    }
    last = services.museum_report_open(user=admin, museum=museum, year=year - 1)
    services.museum_report_save(
        user=admin,
        report=last,
        figures=figures,
        summary="全年免费开放 306 天, 接待观众 41.2 万人次; 举办临时展览 7 个、科学教育活动 365 场, "
        "流动科技馆进校园、进社区 48 场。",
        subsidy_use="用于展品维护更新、科学教育活动和免费开放运行保障。",
        version=last.version,
        submit=True,
    )
    services.museum_report_review(user=admin, report=last, accept=True)
    services.museum_report_open(user=admin, museum=museum, year=year)

    team = services.team_save(
        user=admin,
        fields=services.TeamFields(
            name="麒麟区青少年科技教育志愿服务队",
            kind="youth",
            region=county,
            host=museum_org,
            leader="李队长",
            founded_on=dt.date(year - 3, 5, 30),
            description="科技馆讲解、校园科学课、科普大篷车进乡村。",
        ),
    )
    names = ["李明", "王芳", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄丽"]
    volunteers = [
        services.volunteer_save(
            user=admin,
            team=team,
            fields=services.VolunteerFields(
                name=name,
                id_number=_demo_id(i + 1),
                phone=f"1390000{i + 1:04d}",
                skills=["天文", "机器人", "健康", "农业技术"][i % 4],
                joined_on=dt.date(year - 2, 3, 1),
            ),
        )
        for i, name in enumerate(names)
    ]
    # unscoped: the demo picks a published activity of the city for volunteers to serve at
    published = Activity.objects.filter(status__in=PUBLISHED, region__path__startswith=city.path)
    activity = (
        published.exclude(starts_at__date__gt=timezone.localdate()).order_by("starts_at").first()
    )
    today = timezone.localdate()
    for i, v in enumerate(volunteers):
        services.service_add(
            user=admin,
            volunteer=v,
            served_on=today - dt.timedelta(days=7 + i),
            hours=Decimal("3.5"),
            description="科技馆周末讲解",
        )
        if activity is not None and i < 4:
            services.service_add(
                user=admin,
                volunteer=v,
                served_on=timezone.localtime(activity.starts_at).date(),
                hours=Decimal("4"),
                activity_id=activity.pk,
            )
    ctx.notes.append(
        f"演示科技馆: 曲靖市科技馆 ({year - 1}年度报告已审核, {year}年度报告待填报); "
        f"志愿服务队 1 支、科技志愿者 {len(volunteers)} 名及服务时长记录。"
    )
