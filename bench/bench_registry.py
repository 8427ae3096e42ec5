"""Registry benchmark: volunteer lists and searches at scale, and a large volunteer import,
on the database DATABASE_URL names (PostgreSQL for the real figures).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kepu_bench_registry \\
        .venv/bin/python bench/bench_registry.py [--volunteers 500000] [--teams 10000] \\
        [--import-rows 100000] [--repeat 20]

Needs the division tree (``kepu regions import``; the script imports it when the database
has none). The data set (teams of the provincial office spread over the counties, volunteers
bulk-inserted with made-up hashes) is built once and reused on later runs (``--rebuild``).
Then, in this process with Django's test client and the page cache off:

- the volunteer list, a name search, a deep page, the team list, one team's roster and the
  per-region totals, as the provincial office admin (its teams: every county outside 曲靖)
  and the 曲靖 city office admin (the teams in its counties): p50/p95 over ``--repeat``
  requests and the query count;
- the all-or-nothing import of ``--import-rows`` volunteers from one xlsx (the function the
  background job runs), against the time to merely read the same file with the shared reader.

Results print as a table and go to ``bench/out/registry.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
MARK = "(基准测试)"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国红梅志"


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kepu.settings")
    os.environ.setdefault("KEPU_DEBUG", "0")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    settings.ALLOWED_HOSTS = ["*"]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def build(n_volunteers: int, n_teams: int, rebuild: bool) -> dict:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import transaction

    from kepu.orgs.models import Membership, Organisation, OrgKind
    from kepu.orgs.scoping import Role
    from kepu.regions.models import Level, Region
    from kepu.registry.models import ServiceRecord, Volunteer, VolunteerTeam

    if not Region.objects.exists():
        call_command("import_regions", "--province", "53")
    prov = Region.objects.get(code="530000")
    city = Region.objects.get(code="530300")
    User = get_user_model()
    prov_office, _ = Organisation.objects.get_or_create(
        name=f"云南省科学技术协会{MARK}", region=prov, defaults={"kind": OrgKind.ASSOCIATION}
    )
    city_office, _ = Organisation.objects.get_or_create(
        name=f"曲靖市科学技术协会{MARK}", region=city, defaults={"kind": OrgKind.ASSOCIATION}
    )
    users = {}
    for username, org in (("bench_prov", prov_office), ("bench_city", city_office)):
        u, _ = User.objects.get_or_create(username=username)
        Membership.objects.get_or_create(
            user=u, organisation=org, defaults={"role": Role.OFFICE_ADMIN}
        )
        users[username] = u
    teams = VolunteerTeam.objects.filter(name__endswith=MARK)
    if rebuild:
        ServiceRecord.objects.filter(team__in=teams).delete()
        Volunteer.objects.filter(team__in=teams).delete()
        teams.delete()
    have = Volunteer.objects.filter(team__name__endswith=MARK).count()
    if have >= n_volunteers:
        print(f"复用已有数据: {have} 名志愿者")
        return users
    t0 = time.perf_counter()
    counties = list(Region.objects.filter(path__startswith=prov.path, level=Level.COUNTY))
    rng = random.Random(7)
    with transaction.atomic():
        VolunteerTeam.objects.bulk_create(
            [
                VolunteerTeam(
                    name=f"志愿服务队{i}{MARK}",
                    kind=rng.choice(["general", "youth", "health", "agriculture"]),
                    region=counties[i % len(counties)],
                    office=(
                        city_office
                        if counties[i % len(counties)].path.startswith(city.path)
                        else prov_office
                    ),
                )
                for i in range(n_teams)
            ],
            batch_size=5000,
        )
    team_ids = list(teams.values_list("pk", flat=True))
    batch: list = []
    today = dt.date.today()
    for i in range(have, n_volunteers):
        batch.append(
            Volunteer(
                team_id=team_ids[i % len(team_ids)],
                name=_name(rng),
                id_hash=f"bench{i:059d}",
                id_masked="530***********0000",
                gender=rng.choice(["male", "female"]),
                birth_year=rng.randint(1950, 2005),
                joined_on=today,
            )
        )
        if len(batch) == 10000:
            Volunteer.objects.bulk_create(batch)
            batch = []
            print(f"  已写入 {i + 1} 名志愿者", end="\r")
    if batch:
        Volunteer.objects.bulk_create(batch)
    # some service hours so the totals have work to do
    vids = list(
        Volunteer.objects.filter(team__name__endswith=MARK).values_list("pk", "team_id")[:100000]
    )
    ServiceRecord.objects.bulk_create(
        [
            ServiceRecord(
                volunteer_id=v,
                team_id=t,
                served_on=today - dt.timedelta(days=rng.randint(0, 200)),
                hours=rng.choice([1, 2, 3.5, 4]),
            )
            for v, t in vids
        ],
        batch_size=10000,
    )
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE registry_volunteer; ANALYZE registry_volunteerteam;")
            cur.execute("ANALYZE registry_servicerecord;")
    print(
        f"\n建立数据: {n_volunteers} 名志愿者, {n_teams} 支服务队, 用时 {time.perf_counter() - t0:.0f} 秒"
    )
    return users


def measure(client, url: str, params: dict, repeat: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    queries = 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            resp = client.get(url, params)
            times.append((time.perf_counter() - t0) * 1000)
        assert resp.status_code == 200, (url, resp.status_code)
        queries = len(ctx.captured_queries)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
        "queries": queries,
    }


def pages(users: dict, repeat: int) -> list[dict]:
    from django.test import Client
    from django.urls import reverse

    from kepu.registry.models import VolunteerTeam

    year = str(dt.date.today().year)
    rows = []
    for who in ("bench_prov", "bench_city"):
        client = Client()
        client.force_login(users[who])
        team = (
            VolunteerTeam.objects.restrict(users[who], "view")
            .filter(name__endswith=MARK, office__memberships__user=users[who])
            .order_by("pk")
            .first()
        )
        for label, url, params in (
            ("志愿者列表", reverse("registry:volunteers"), {}),
            ("姓名搜索 (张伟)", reverse("registry:volunteers"), {"q": "张伟"}),
            ("姓名搜索 (欧阳)", reverse("registry:volunteers"), {"q": "欧阳"}),
            ("志愿者列表第 200 页", reverse("registry:volunteers"), {"page": "200"}),
            ("服务队列表", reverse("registry:teams"), {}),
            ("服务队名册", reverse("registry:team", args=[team.pk]), {}),
            ("分区域服务时长", reverse("registry:volunteer_totals"), {"year": year}),
        ):
            client.get(url, params)  # warm
            r = measure(client, url, params, repeat)
            rows.append({"user": who, "page": label, **r})
            print(
                f"{who:11} {label:18} p50 {r['p50_ms']:8.1f} ms  p95 {r['p95_ms']:8.1f} ms  查询 {r['queries']}"
            )
    return rows


def import_bench(users: dict, n_rows: int) -> dict:
    from kepu.core.files import append_streaming_row, new_streaming_workbook
    from kepu.core.importing import xlsx_rows
    from kepu.registry import services
    from kepu.registry.identity import check_digit
    from kepu.registry.models import Volunteer, VolunteerTeam

    office = VolunteerTeam.objects.filter(name__endswith=MARK).first().office
    team, _ = VolunteerTeam.objects.get_or_create(
        name=f"导入基准服务队{MARK}",
        defaults={"kind": "general", "region": office.region, "office": office},
    )
    Volunteer.objects.filter(team=team).delete()
    rng = random.Random(11)
    wb = new_streaming_workbook()
    ws = wb.create_sheet("科技志愿者")
    append_streaming_row(ws, services.VOLUNTEER_HEADER)
    start = dt.date(1960, 1, 1)
    for i in range(n_rows):
        birth = start + dt.timedelta(days=i // 900)
        first17 = f"530302{birth:%Y%m%d}{i % 900 + 100:03d}"
        append_streaming_row(
            ws,
            [_name(rng), first17 + check_digit(first17), f"139{i:08d}", "科普讲解", "2026-01-01"],
        )
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    t0 = time.perf_counter()
    n_read = sum(1 for _ in xlsx_rows(data, services.VOLUNTEER_LIMITS))
    read_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    n = services.volunteers_import(
        user=users["bench_prov"], team=team, name="volunteers.xlsx", data=data
    )
    import_s = time.perf_counter() - t0
    print(
        f"导入 {n} 名志愿者 (文件 {len(data) / 1e6:.1f} MB, {n_read} 行): {import_s:.1f} 秒; "
        f"仅读取文件: {read_s:.1f} 秒 (比值 {import_s / read_s:.1f})"
    )
    return {
        "rows": n,
        "file_mb": round(len(data) / 1e6, 1),
        "import_s": round(import_s, 1),
        "read_only_s": round(read_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--volunteers", type=int, default=500_000)
    parser.add_argument("--teams", type=int, default=10_000)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--skip-import", action="store_true")
    args = parser.parse_args()
    setup()
    from django.db import connection

    users = build(args.volunteers, args.teams, args.rebuild)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")  # fresh statistics, as autovacuum keeps them in service
    result: dict = {
        "database": connection.vendor,
        "volunteers": args.volunteers,
        "teams": args.teams,
    }
    result["pages"] = pages(users, args.repeat)
    if not args.skip_import:
        result["import"] = import_bench(users, args.import_rows)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "registry.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
