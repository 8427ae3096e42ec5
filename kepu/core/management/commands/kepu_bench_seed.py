"""``kepu bench seed``: a national-scale synthetic data set for benchmarks.

``--scale national`` builds what issue 8 describes: one office (科协) per region down to the
county level (1 + 31 + 342 + 2,975 = 3,349 from the real division tree), about 20 member units
each (67,000), 10,000 accounts, 3,000 plans with 200,000 tasks and 621,000 task-unit links,
and a 300,000-respondent national survey wave, estimated.  ``--scale province`` is the same for
one province (``--province``, default 53) at roughly 1/30 of the volume; ``--scale demo`` is a
few hundred rows for tests.

Organisations and accounts go through the project's bulk services
(:func:`kepu.orgs.bulk.organisations_import`, :func:`kepu.orgs.bulk.users_import`), so the
seeder also benchmarks onboarding.  Plans, tasks and links have no import path at this volume
(a ledger import is one plan per file), so they are written here with ``bulk_create`` in
batches of plans, each row with its audit entry (``audit_rows``).  Respondents are written
with ``bulk_create`` from the survey engine's synthetic sample (codes mapped to the model's),
margins through ``margins_replace``, and the estimation runs in-process.

Six accounts get a known password (``--password``, default ``Kepu-bench-2025``) for
``bench/bench_pages.py`` and ``bench/bench_load.py``: bench_national, bench_province,
bench_city, bench_county (office administrators), bench_unit (staff of a city member unit
named on tasks) and bench_viewer (viewer at the provincial office).
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from kepu.audit.context import acting_as
from kepu.audit.services import audit_rows
from kepu.orgs import bulk
from kepu.orgs.models import Organisation, OrgKind
from kepu.orgs.scoping import Role
from kepu.regions.models import Level, Region

BENCH_PASSWORD = "Kepu-bench-2025"
BENCH_USERS = ("national", "province", "city", "county", "unit", "viewer")


@dataclass(frozen=True)
class Scale:
    name: str
    national: bool
    units_per_office: int
    users: int
    plans: int
    tasks: int
    links: int
    respondents: int


SCALES = {
    "national": Scale("national", True, 20, 10_000, 3_000, 200_000, 621_000, 300_000),
    "province": Scale("province", False, 20, 340, 100, 6_700, 20_700, 10_000),
    "demo": Scale("demo", False, 3, 30, 4, 60, 180, 600),
}

# (name suffix, short name suffix, alias) of member units; the office's region prefixes them.
DEPARTMENTS = [
    ("教育局", "教育局", "教体局"),
    ("卫生健康委员会", "卫健委", ""),
    ("科学技术局", "科技局", ""),
    ("农业农村局", "农业农村局", "农业局"),
    ("民政局", "民政局", ""),
    ("人力资源和社会保障局", "人社局", ""),
    ("文化和旅游局", "文旅局", ""),
    ("生态环境局", "生态环境局", ""),
    ("应急管理局", "应急局", ""),
    ("自然资源局", "自然资源局", ""),
    ("工业和信息化局", "工信局", ""),
    ("市场监督管理局", "市场监管局", ""),
    ("总工会", "总工会", ""),
    ("共青团委员会", "团委", ""),
    ("妇女联合会", "妇联", ""),
    ("气象局", "气象局", ""),
    ("地震局", "地震局", ""),
    ("融媒体中心", "融媒体中心", ""),
    ("委员会宣传部", "宣传部", ""),
    ("委员会组织部", "组织部", ""),
    ("财政局", "财政局", ""),
    ("发展和改革委员会", "发改委", ""),
]
TASK_WORDS = [
    ("开展青少年科技教育活动", "组织中小学生参加科技竞赛和研学, 每年不少于{n}场。"),
    ("推进农民科学素质提升", "面向农村开展实用技术培训, 培训农民{n}人次以上。"),
    ("加强产业工人技能培训", "举办职工技能竞赛和工匠讲堂, 覆盖职工{n}人。"),
    ("实施老年人数字素养行动", "在社区开展适老化智能技术培训, 每年不少于{n}场。"),
    ("提升领导干部和公务员科学素质", "将科学素质纳入干部教育培训, 每年举办专题讲座{n}场。"),
    ("建设科普教育基地", "新认定科普教育基地{n}个。"),
    ("开展全国科普日活动", "组织集中示范活动, 参与人数突破{n}万人次。"),
    ("加强应急科普", "开展防灾减灾和应急避险科普宣传{n}次。"),
    ("繁荣科普创作", "扶持原创科普作品{n}部。"),
    ("推进科普信息化", "建设科普网站和新媒体平台, 年访问量超过{n}万。"),
]
SECTIONS = ["一、总体要求", "二、重点任务", "三、重点工程", "四、保障措施"]
SKIP_NAMES = {"全国", "市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


def office_name(region: Region, by_id: dict[int, Region]) -> str:
    """'云南省曲靖市麒麟区' for a county: the chain of names without 市辖区/县 placeholders."""
    names = []
    r: Region | None = region
    while r is not None:
        if r.name not in SKIP_NAMES:
            names.append(r.name)
        r = by_id.get(r.parent_id) if r.parent_id else None
    return "".join(reversed(names)) or "全国"


class Timer:
    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write
        self.started = time.perf_counter()
        self.steps: list[tuple[str, float]] = []

    def step(self, label: str, t0: float, detail: str = "") -> None:
        dt = time.perf_counter() - t0
        self.steps.append((label, dt))
        self.write(f"  {label}: {dt:.1f} 秒 {detail}".rstrip())


def _regions_for(scale: Scale, province: str) -> list[Region]:
    qs = Region.objects.filter(level__lte=Level.COUNTY)
    if not scale.national:
        root = Region.objects.filter(level=Level.NATIONAL).first()
        prov = Region.objects.filter(level=Level.PROVINCE, code=f"{province}0000").first()
        if prov is None:
            prov = Region.objects.filter(level=Level.PROVINCE).order_by("code").first()
        if prov is None or root is None:
            raise CommandError("请先导入行政区划: kepu regions import")
        qs = qs.filter(path__startswith=prov.path)
        return [root, *qs.order_by("level", "code")]
    regions = list(qs.order_by("level", "code"))
    if not regions or regions[0].level != Level.NATIONAL:
        raise CommandError("请先导入行政区划: kepu regions import")
    return regions


def seed(
    *,
    scale: Scale,
    province: str = "53",
    password: str = BENCH_PASSWORD,
    write: Callable[[str], None] = print,
    seed_value: int = 20250101,
) -> dict[str, Any]:
    """Build the data set; returns counts, timings and the bench accounts."""
    if Organisation.objects.exists():
        raise CommandError(
            "数据库中已有组织数据。基准数据请写入一个空数据库, 例如 "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/kepu_bench kepu manage migrate"
        )
    rng = random.Random(seed_value)
    timer = Timer(write)
    regions = _regions_for(scale, province)
    by_id = {r.pk: r for r in _with_ancestors(regions)}
    scope = bulk.ImportScope.system()
    counts: dict[str, int] = {}

    # 1. offices, through the bulk organisation import
    t0 = time.perf_counter()
    names = {r.pk: office_name(r, by_id) for r in regions}
    rows = []
    for i, r in enumerate(regions, start=2):
        parent = by_id.get(r.parent_id) if r.parent_id else None
        rows.append(
            bulk.OrgRow(
                line=i,
                name="中国科学技术协会"
                if r.level == Level.NATIONAL
                else f"{names[r.pk]}科学技术协会",
                short_name="中国科协" if r.level == Level.NATIONAL else "科协",
                kind=OrgKind.ASSOCIATION,
                region=r.code,
                parent=(
                    ""
                    if parent is None
                    else (
                        "中国科学技术协会"
                        if parent.level == Level.NATIONAL
                        else f"{names[parent.pk]}科学技术协会"
                    )
                ),
            )
        )
    with acting_as(None):
        result = bulk.organisations_import(scope=scope, rows=rows)
    offices = result.created
    counts["offices"] = len(offices)
    timer.step("科协 (组织批量导入)", t0, f"{len(offices)} 个")

    # 2. member units, through the same service
    t0 = time.perf_counter()
    rows = []
    line = 2
    for office in offices:
        prefix = "国家" if office.region.level == Level.NATIONAL else names[office.region_id]
        for name, short, alias in DEPARTMENTS[: scale.units_per_office]:
            rows.append(
                bulk.OrgRow(
                    line=line,
                    name=f"{prefix}{name}",
                    short_name=short,
                    kind=OrgKind.DEPARTMENT,
                    region=office.region.code,
                    parent=str(office.pk),
                    aliases=alias,
                    is_member_unit="是",
                )
            )
            line += 1
    with acting_as(None):
        result = bulk.organisations_import(scope=scope, rows=rows)
    units = result.created
    counts["member_units"] = len(units)
    counts["aliases"] = result.aliases
    timer.step("成员单位 (组织批量导入)", t0, f"{len(units)} 个, 别名 {result.aliases} 个")
    units_by_office: dict[int, list[Organisation]] = defaultdict(list)
    for u in units:
        if u.parent_id is not None:
            units_by_office[u.parent_id].append(u)

    # 3. accounts, through the bulk user import
    t0 = time.perf_counter()
    bench = _bench_offices(offices, province)
    bench_unit = units_by_office[bench["city"].pk][0]
    user_rows = [
        bulk.UserRow(line=2, username="bench_national", organisation=str(bench["national"].pk), role="office_admin"),
        bulk.UserRow(line=3, username="bench_province", organisation=str(bench["province"].pk), role="office_admin"),
        bulk.UserRow(line=4, username="bench_city", organisation=str(bench["city"].pk), role="office_admin"),
        bulk.UserRow(line=5, username="bench_county", organisation=str(bench["county"].pk), role="office_admin"),
        bulk.UserRow(line=6, username="bench_unit", organisation=str(bench_unit.pk), role="unit_staff"),
        bulk.UserRow(line=7, username="bench_viewer", organisation=str(bench["province"].pk), role="viewer"),
    ]  # fmt: skip
    budget = scale.users - len(user_rows)
    plan_of = [(f"a{o.pk}", o, Role.OFFICE_ADMIN) for o in offices]
    plan_of += [(f"v{o.pk}", o, Role.VIEWER) for o in offices]
    plan_of += [(f"s{u.pk}", u, Role.UNIT_STAFF) for u in units]
    for prefix, org, role in plan_of[:budget]:
        user_rows.append(
            bulk.UserRow(
                line=len(user_rows) + 2,
                username=f"u_{prefix}",
                organisation=str(org.pk),
                role=role,
                full_name=f"测试用户{len(user_rows)}",
                email=f"u_{prefix}@bench.kepu.invalid",
            )
        )
    with acting_as(None):
        uresult = bulk.users_import(scope=scope, rows=user_rows)
    counts["users"] = uresult.users
    timer.step("用户 (用户批量导入, 激活链接)", t0, f"{uresult.users} 个")
    t0 = time.perf_counter()
    User = get_user_model()
    for account in User.objects.filter(username__in=[f"bench_{k}" for k in BENCH_USERS]):
        account.set_password(password)
        account.save(update_fields=["password"])
    timer.step("基准账号设置密码", t0, f"{len(BENCH_USERS)} 个")

    # 4. plans, sections, tasks, task units, targets
    t0 = time.perf_counter()
    pc = _seed_plans(scale, offices, units_by_office, bench, rng)
    counts.update(pc)
    timer.step(
        "规划/任务/任务单位 (bulk_create + 审计)",
        t0,
        f"规划 {pc['plans']}, 任务 {pc['tasks']}, 任务单位 {pc['task_units']}, 目标 {pc['targets']}",
    )

    # 5. survey wave with respondents, margins and an estimation run
    t0 = time.perf_counter()
    counts["respondents"] = _seed_survey(scale, bench, regions, seed_value, timer)
    timer.step("监测调查合计", t0, f"{counts['respondents']} 名受访者")
    if connection.vendor == "postgresql":
        t0 = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
        timer.step("ANALYZE", t0)
    return {
        "scale": scale.name,
        "counts": counts,
        "seconds": {label: round(s, 1) for label, s in timer.steps},
        "total_seconds": round(time.perf_counter() - timer.started, 1),
        "bench_users": {k: f"bench_{k}" for k in BENCH_USERS},
        "bench_unit": bench_unit.name,
    }


def _with_ancestors(regions: list[Region]) -> list[Region]:
    """The regions plus every ancestor (for names), in one query."""
    paths: set[str] = set()
    for r in regions:
        parts = r.path.strip("/").split("/")
        paths.update("/".join(parts[: i + 1]) + "/" for i in range(len(parts)))
    known = {r.path for r in regions}
    missing = sorted(paths - known)
    return [*regions, *Region.objects.filter(path__in=missing)] if missing else regions


def _bench_offices(offices: list[Organisation], province: str) -> dict[str, Organisation]:
    """The offices the bench accounts belong to: national, one province, its first city and
    that city's first county (sorted by division code)."""
    by_level: dict[int, list[Organisation]] = defaultdict(list)
    for o in offices:
        by_level[o.region.level].append(o)
    for v in by_level.values():
        v.sort(key=lambda o: o.region.code)
    provs = by_level[Level.PROVINCE]
    prov = next((o for o in provs if o.region.code.startswith(province)), provs[0])
    cities = [o for o in by_level[Level.PREFECTURE] if o.region.path.startswith(prov.region.path)]
    city = cities[0] if cities else prov
    counties = [o for o in by_level[Level.COUNTY] if o.region.path.startswith(city.region.path)]
    county = counties[0] if counties else city
    return {
        "national": by_level[Level.NATIONAL][0],
        "province": prov,
        "city": city,
        "county": county,
    }


def _plan_owners(
    scale: Scale, offices: list[Organisation], bench: dict[str, Organisation]
) -> list[Organisation]:
    """Who owns the plans: the bench offices first, then offices from the top level down."""
    first = list(dict.fromkeys(bench.values()))
    rest = [
        o for o in sorted(offices, key=lambda o: (o.region.level, o.region.code)) if o not in first
    ]
    ordered = first + rest
    return [ordered[i % len(ordered)] for i in range(scale.plans)]


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _seed_plans(
    scale: Scale,
    offices: list[Organisation],
    units_by_office: dict[int, list[Organisation]],
    bench: dict[str, Organisation],
    rng: random.Random,
) -> dict[str, int]:
    from kepu.plans.models import Plan, PlanKind, Section, Target, Task, TaskUnit, UnitRole
    from kepu.plans.services import detect_key_groups

    owners = _plan_owners(scale, offices, bench)
    tasks_per_plan = _split(scale.tasks, scale.plans)
    extra_links = scale.links - 3 * scale.tasks  # tasks that name a 4th unit
    counts = {"plans": 0, "sections": 0, "tasks": 0, "task_units": 0, "targets": 0}
    task_no = 0
    batch_plans = 50
    for start in range(0, scale.plans, batch_plans):
        with transaction.atomic(), acting_as(None):
            plans = []
            for i in range(start, min(start + batch_plans, scale.plans)):
                owner = owners[i]
                year = 2021 + i % 5
                plans.append(
                    Plan(
                        title=f"{owner.name.removesuffix('科学技术协会')}{year}年全民科学素质行动工作要点(第{i + 1}号)",
                        kind=PlanKind.ANNUAL if i % 3 else PlanKind.IMPLEMENTATION,
                        region=owner.region,
                        owner=owner,
                        issuer=owner.name,
                        doc_number=f"科协发〔{year}〕{i + 1}号",
                        period_start=year,
                        period_end=year if i % 3 else 2025,
                    )
                )
            Plan.objects.bulk_create(plans)
            sections = [
                Section(plan=p, title=t, depth=0, order=k)
                for p in plans
                for k, t in enumerate(SECTIONS)
            ]
            Section.objects.bulk_create(sections, batch_size=2000)
            sec_by_plan = defaultdict(list)
            for s in sections:
                sec_by_plan[s.plan_id].append(s)
            tasks: list[Task] = []
            units: list[TaskUnit] = []
            targets: list[Target] = []
            for idx, p in enumerate(plans):
                pool = units_by_office[p.owner_id]
                for k in range(tasks_per_plan[start + idx]):
                    title, text = TASK_WORDS[(task_no + k) % len(TASK_WORDS)]
                    n = rng.choice((5, 10, 12, 20, 50, 100, 300))
                    section = sec_by_plan[p.pk][1 + k % (len(SECTIONS) - 1)]
                    body = text.format(n=n)
                    t = Task(
                        plan=p,
                        section=section,
                        order=k,
                        number=f"{k + 1}.",
                        title=f"{title}({k + 1})",
                        text=f"{title}。{body}",
                        path=[section.title],
                        deadline=f"{p.period_end}年底前",
                        key_groups=detect_key_groups(f"{title}{body}"),
                    )
                    tasks.append(t)
                    n_units = 4 if task_no < extra_links else 3
                    task_no += 1
                    chosen = rng.sample(pool, min(n_units, len(pool)))
                    for order, org in enumerate(chosen):
                        units.append(
                            TaskUnit(
                                task=t,
                                name=org.name,
                                role=UnitRole.LEAD if order == 0 else UnitRole.COOPERATE,
                                organisation=org,
                                order=order,
                            )
                        )
                    if k % 10 == 0:
                        targets.append(
                            Target(
                                plan=p,
                                task=t,
                                text=body.rstrip("。"),
                                comparator=">=",
                                value=float(n),
                                unit="场",
                                year=p.period_end,
                            )
                        )
            Task.objects.bulk_create(tasks, batch_size=2000)
            for u in units:
                u.task = u.task  # picks up the saved task's id
            for tg in targets:
                tg.task = tg.task
            TaskUnit.objects.bulk_create(units, batch_size=5000)
            Target.objects.bulk_create(targets, batch_size=2000)
            for rows in (plans, tasks, units, targets):
                audit_rows(action="create", rows=rows, actor=None)
        counts["plans"] += len(plans)
        counts["sections"] += len(sections)
        counts["tasks"] += len(tasks)
        counts["task_units"] += len(units)
        counts["targets"] += len(targets)
    return counts


# synth codes → model codes
_SEX = {1: "male", 2: "female"}
_AGE = {1: "18-29", 2: "30-39", 3: "40-49", 4: "50-59", 5: "60-69"}
_EDU = {1: "primary", 2: "junior", 3: "senior", 4: "college", 5: "bachelor"}
_GROUP = {1: "other", 2: "farmers", 3: "workers", 4: "elderly", 5: "cadres", 6: "other"}


def _seed_survey(
    scale: Scale,
    bench: dict[str, Organisation],
    regions: list[Region],
    seed_value: int,
    timer: Timer,
) -> int:
    import numpy as np

    from kepu.survey.engine.synth import synth
    from kepu.survey.models import Respondent, WaveKind
    from kepu.survey.services import WaveFields, margins_replace, run_create, wave_create
    from kepu.survey.tasks import estimate_wave

    User = get_user_model()
    owner = bench["national"] if scale.national else bench["province"]
    admin = User.objects.get(username="bench_national" if scale.national else "bench_province")
    wave_region = owner.region
    t0 = time.perf_counter()
    with acting_as(admin):
        wave = wave_create(
            user=admin,
            owner=owner,
            fields=WaveFields(
                title=f"2025年{wave_region.name}公民科学素质调查 (基准测试数据)",
                kind=WaveKind.NATIONAL if scale.national else WaveKind.PROVINCIAL,
                year=2025,
                region=wave_region,
                notes="kepu bench seed 生成的合成样本",
            ),
        )
    sample = synth(max(scale.respondents, 500), seed=seed_value)
    cols = sample.columns
    n = len(cols["id"])
    # Place each respondent in a county: of its province (national wave) or of the province.
    counties_by_prov: dict[str, list[Region]] = defaultdict(list)
    children: dict[str, Region] = {}
    for r in regions:
        if r.level == Level.COUNTY:
            counties_by_prov[r.code[:2]].append(r)
        if r.parent_id == wave_region.pk:
            children[r.code[:4] if not scale.national else r.code[:2]] = r
    rng = np.random.default_rng(seed_value)
    all_counties = [c for cs in counties_by_prov.values() for c in cs]
    pick = rng.random(n)
    rows: list[Respondent] = []
    created = 0

    def flush() -> None:
        nonlocal rows, created
        Respondent.objects.bulk_create(rows, batch_size=5000)
        created += len(rows)
        rows = []

    with transaction.atomic():
        for i in range(n):
            prov = str(int(cols["province"][i]))
            pool = counties_by_prov.get(prov) if scale.national else all_counties
            pool = pool or all_counties
            county = pool[int(pick[i] * len(pool))]
            sub = children.get(county.code[:2] if scale.national else county.code[:4])
            urban = int(cols["urban"][i])
            group = _GROUP[int(cols["group"][i])]
            if group == "other" and urban and int(cols["group"][i]) == 6:
                group = "urban_labour"
            rows.append(
                Respondent(
                    wave=wave,
                    row_number=i + 2,
                    external_id=str(int(cols["id"][i])),
                    region=county,
                    subregion=sub,
                    urban_rural="urban" if urban else "rural",
                    sex=_SEX[int(cols["sex"][i])],
                    age_band=_AGE[int(cols["age_band"][i])],
                    education=_EDU[int(cols["education"][i])],
                    key_group=group,
                    stratum=str(int(cols["stratum"][i])),
                    psu=str(int(cols["psu"][i])),
                    weight=float(cols["weight"][i]),
                    score=float(cols["score"][i]),
                    literate=bool(cols["literate"][i]),
                )
            )
            if len(rows) >= 20_000:
                flush()
        if rows:
            flush()
        wave.data_source_name = "kepu-bench-synth.csv"
        wave.data_mode = "scores"
        wave.data_version = 1
        wave.data_imported_at = timezone.now()
        wave.save(
            update_fields=["data_source_name", "data_mode", "data_version", "data_imported_at"]
        )
    timer.step("受访者 (bulk_create)", t0, f"{created} 名")
    t0 = time.perf_counter()
    margin_rows = []
    for var, model_var, mapping in (
        ("sex", "sex", _SEX),
        ("age_band", "age_band", _AGE),
        ("education", "education", _EDU),
        ("urban", "urban_rural", {0: "rural", 1: "urban"}),
    ):
        for code, pop in sample.margins[var].items():
            margin_rows.append((model_var, mapping[code], str(pop)))
    if scale.national:
        for code, pop in sample.margins["province"].items():
            if f"{code}" in children:
                margin_rows.append(("subregion", children[str(code)].code, str(pop)))
    with acting_as(admin):
        margins_replace(user=admin, wave=wave, rows=margin_rows)
        run = run_create(user=admin, wave=wave)
    estimate_wave.call(run.pk)
    run.refresh_from_db()
    timer.step("估计 (进程内)", t0, f"状态 {run.get_status_display()} {run.message}")
    return created


class Command(BaseCommand):
    help = (
        "生成全国规模的基准测试数据 (科协、成员单位、用户、规划任务台账、监测调查); 请使用空数据库"
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=sorted(SCALES), default="province")
        parser.add_argument(
            "--province", default="53", help="province/demo 规模使用的省份 (两位代码)"
        )
        parser.add_argument("--password", default=BENCH_PASSWORD, help="6 个基准账号的密码")
        parser.add_argument("--json", help="把计数和用时写入该 JSON 文件")

    def handle(self, *args, scale: str, province: str, password: str, json: str | None, **options):
        self.stdout.write(f"生成基准数据 (规模: {scale}, 数据库: {connection.vendor}) …")
        info = seed(
            scale=SCALES[scale], province=province, password=password, write=self.stdout.write
        )
        self.stdout.write(
            "完成: "
            + ", ".join(f"{k} {v:,}" for k, v in info["counts"].items())
            + f"; 共用时 {info['total_seconds']} 秒"
        )
        self.stdout.write(
            f"基准账号 (密码 {password}): "
            + "、".join(info["bench_users"].values())
            + f"; bench_unit 属于「{info['bench_unit']}」"
        )
        if json:
            import json as _json
            from pathlib import Path

            Path(json).parent.mkdir(parents=True, exist_ok=True)
            Path(json).write_text(_json.dumps(info, ensure_ascii=False, indent=2), encoding="utf-8")
