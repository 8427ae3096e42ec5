"""Demo organisations and users for a city office, its member units and townships."""

from __future__ import annotations

from kepu.core.demo import DEMO_CITY_CODE, DemoContext
from kepu.orgs.models import Membership, Organisation, OrganisationAlias, OrgKind
from kepu.orgs.scoping import Role
from kepu.regions.models import Region

# (full name, short name, aliases)
MEMBER_UNITS = [
    ("中共{c}委员会宣传部", "市委宣传部", []),
    ("中共{c}委员会组织部", "市委组织部", []),
    ("{c}发展和改革委员会", "市发展改革委", ["市发改委"]),
    ("{c}教育体育局", "市教体局", ["市教育局", "市教育体育局"]),
    ("{c}科学技术局", "市科技局", []),
    ("{c}工业和信息化局", "市工业和信息化局", ["市工信局"]),
    ("{c}民政局", "市民政局", []),
    ("{c}财政局", "市财政局", []),
    ("{c}人力资源和社会保障局", "市人力资源社会保障局", ["市人社局"]),
    ("{c}自然资源和规划局", "市自然资源规划局", ["市自然资源局"]),
    ("{c}生态环境局", "市生态环境局", []),
    ("{c}农业农村局", "市农业农村局", ["市农业局"]),
    ("{c}文化和旅游局", "市文化和旅游局", ["市文旅局"]),
    ("{c}卫生健康委员会", "市卫生健康委", ["市卫健委"]),
    ("{c}应急管理局", "市应急管理局", ["市应急局"]),
    ("{c}市场监督管理局", "市市场监管局", ["市市场监督管理局"]),
    ("{c}林业和草原局", "市林草局", []),
    ("{c}水务局", "市水务局", []),
    ("{c}人民政府国有资产监督管理委员会", "市国资委", []),
    ("{c}气象局", "市气象局", []),
    ("{c}地震局", "市地震局", []),
    ("{c}总工会", "市总工会", []),
    ("共青团{c}委员会", "团市委", ["共青团市委"]),
    ("{c}妇女联合会", "市妇联", []),
    ("{c}融媒体中心", "市融媒体中心", []),
    ("{c}老科学技术工作者协会", "市老科协", []),
]

SOCIETIES = [
    ("{c}医学会", "市医学会"),
    ("{c}农学会", "市农学会"),
    ("{c}青少年科技教育协会", "市青少年科技教育协会"),
]


def _org(
    name: str,
    *,
    kind: str,
    region: Region,
    short: str = "",
    parent=None,
    member=False,
    aliases: list[str] | tuple[str, ...] = (),
) -> Organisation:
    org, _ = Organisation.objects.get_or_create(
        region=region,
        name=name,
        defaults={"kind": kind, "short_name": short, "parent": parent, "is_member_unit": member},
    )
    for alias in aliases:
        OrganisationAlias.objects.get_or_create(organisation=org, name=alias)
    return org


def _member(ctx: DemoContext, username: str, org: Organisation, role: str, full_name: str) -> None:
    user = ctx.user(username, label=f"{Role(role).label} · {org.name}", full_name=full_name)
    Membership.objects.get_or_create(user=user, organisation=org, defaults={"role": role})


def load(ctx: DemoContext) -> None:
    city = Region.objects.filter(code=DEMO_CITY_CODE).first()
    if city is None:
        raise RuntimeError("演示数据需要先导入行政区划: kepu regions import")
    c = city.name
    association = _org(
        f"{c}科学技术协会",
        kind=OrgKind.ASSOCIATION,
        region=city,
        short="市科协",
        aliases=["市科协"],
    )
    office = _org(
        f"{c}全民科学素质纲要实施工作办公室",
        kind=OrgKind.OFFICE,
        region=city,
        short="市纲要办",
        parent=association,
        aliases=["纲要办"],
    )
    units = {}
    for name, short, aliases in MEMBER_UNITS:
        units[short] = _org(
            name.format(c=c),
            kind=OrgKind.DEPARTMENT,
            region=city,
            short=short,
            member=True,
            aliases=[short, *aliases],
        )
    association.is_member_unit = True
    association.save(update_fields=["is_member_unit"])
    for name, short in SOCIETIES:
        _org(name.format(c=c), kind=OrgKind.SOCIETY, region=city, short=short, parent=association)

    counties = list(city.children.order_by("code"))
    county_assocs = []
    for county in counties[:3]:
        county_assocs.append(
            _org(
                f"{county.name}科学技术协会",
                kind=OrgKind.ASSOCIATION,
                region=county,
                short=f"{county.name[:-1] if len(county.name) > 2 else county.name}科协",
                parent=association,
            )
        )
    first_county = counties[0]
    townships = list(first_county.children.order_by("code")[:3])
    township_orgs = []
    for town in townships:
        kind_name = "办事处" if town.name.endswith("街道") else "人民政府"
        township_orgs.append(
            _org(
                f"{first_county.name}{town.name}{kind_name}",
                kind=OrgKind.TOWNSHIP,
                region=town,
                short=town.name,
            )
        )

    ctx.user("admin", label="超级管理员", full_name="系统管理员", superuser=True)
    _member(ctx, "city_admin", association, Role.OFFICE_ADMIN, "王科普")
    _member(ctx, "city_viewer", office, Role.VIEWER, "李观察")
    _member(ctx, "edu_staff", units["市教体局"], Role.UNIT_STAFF, "张教育")
    _member(ctx, "health_staff", units["市卫生健康委"], Role.UNIT_STAFF, "刘健康")
    _member(ctx, "county_admin", county_assocs[0], Role.OFFICE_ADMIN, "赵区县")
    _member(ctx, "town_staff", township_orgs[0], Role.UNIT_STAFF, "陈乡镇")
    ctx.data.update(
        city=city,
        association=association,
        office=office,
        units=units,
        county_associations=county_assocs,
        townships=township_orgs,
    )
