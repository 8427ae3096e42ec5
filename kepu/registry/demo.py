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
from kepu.registry.models import BaseCategory, BaseLevel, EducationBase
from kepu.registry.scoring import DEFAULT_SHEET


def _base_org(ctx: DemoContext, name: str, region) -> Organisation:  # type: ignore[no-untyped-def]
    org, _ = Organisation.objects.get_or_create(
        region=region, name=name, defaults={"kind": OrgKind.EDUCATION_BASE}
    )
    return org


def load(ctx: DemoContext) -> None:
    if EducationBase.objects.filter(name="曲靖市科技馆").exists():
        return
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
