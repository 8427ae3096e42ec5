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
    from django.db import connection, transaction

    from kepu.orgs.models import Membership, Organisation, OrgKind
    from kepu.orgs.scoping import Role
    from kepu.regions.models import Level, Region
    from kepu.registry.models import Volunteer, VolunteerTeam

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
        with connection.cursor() as cur:
            ids = "SELECT id FROM registry_volunteerteam WHERE name LIKE %s"
            for table in ("registry_servicerecord", "registry_volunteer", "registry_teamtotals"):
                cur.execute(f"DELETE FROM {table} WHERE team_id IN ({ids})", [f"%{MARK}"])
            cur.execute(
                f"DELETE FROM registry_teamyeartotals WHERE team_id IN ({ids})", [f"%{MARK}"]
            )
            cur.execute(f"DELETE FROM registry_volunteerteam WHERE id IN ({ids})", [f"%{MARK}"])
    have = Volunteer.objects.filter(team__name__endswith=MARK).count()
    if have >= n_volunteers:
        print(f"复用已有数据: {have} 名志愿者")
        return users
    t0 = time.perf_counter()
    pg = connection.vendor == "postgresql"
    if not teams.exists():
        counties = list(
            Region.objects.filter(path__startswith=prov.path, level=Level.COUNTY).order_by("code")
        )
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
        print(f"  {n_teams} 支服务队: {time.perf_counter() - t0:.0f} 秒")
    if not pg:
        raise SystemExit("大规模数据只在 PostgreSQL 上生成 (DATABASE_URL)。")
    # Volunteers and service records in SQL (INSERT … SELECT generate_series): no Python
    # objects, about a minute per million rows on the shared development machine.
    today = dt.date.today()
    step = 500_000
    with connection.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE bench_teams AS SELECT row_number() OVER (ORDER BY id) - 1 AS i, id "
            "FROM registry_volunteerteam WHERE name LIKE %s",
            [f"%{MARK}"],
        )
        cur.execute("CREATE UNIQUE INDEX ON bench_teams (i)")
        cur.execute("SELECT COUNT(*) FROM bench_teams")
        n_t = cur.fetchone()[0]
        for lo in range(have, n_volunteers, step):
            hi = min(n_volunteers, lo + step) - 1
            cur.execute(
                """
                INSERT INTO registry_volunteer (team_id, name, id_hash, id_masked, gender,
                    birth_year, phone, skills, joined_on, active, created_at, version)
                SELECT t.id,
                    substr(%(s)s::text, (1 + (g * 7919) %% 37)::integer, 1)
                      || substr(%(g)s::text, (1 + (g * 104729) %% 32)::integer, 1)
                      || CASE WHEN g %% 3 = 0 THEN ''
                         ELSE substr(%(g)s::text, (1 + (g * 1299709) %% 32)::integer, 1) END,
                    'bench' || lpad(g::text, 59, '0'), '530***********0000',
                    CASE WHEN g %% 2 = 0 THEN 'male' ELSE 'female' END,
                    (1950 + g %% 56)::integer, '', '', %(today)s, true, now(), 1
                FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) g JOIN bench_teams t ON t.i = g %% %(n)s
                """,
                {"s": SURNAMES, "g": GIVEN, "today": today, "lo": lo, "hi": hi, "n": n_t},
            )
            print(f"  已写入 {hi + 1} 名志愿者 ({time.perf_counter() - t0:.0f} 秒)", flush=True)
        # service hours: one record for every fifth volunteer, over the last 200 days
        cur.execute(
            """
            INSERT INTO registry_servicerecord (volunteer_id, team_id, served_on, hours,
                description, created_at)
            SELECT v.id, v.team_id, %(today)s - (v.id %% 200)::integer,
                (ARRAY[1, 2, 3.5, 4])[1 + v.id %% 4], '', now()
            FROM registry_volunteer v JOIN bench_teams t ON t.id = v.team_id
            WHERE v.id %% 5 = 0
            """,
            {"today": today},
        )
        print(f"  服务记录: {cur.rowcount} 条 ({time.perf_counter() - t0:.0f} 秒)", flush=True)
    from kepu.registry import totals

    totals.rebuild()
    with connection.cursor() as cur:
        cur.execute("ANALYZE registry_volunteer; ANALYZE registry_volunteerteam;")
        cur.execute("ANALYZE registry_servicerecord; ANALYZE registry_teamyeartotals;")
    print(
        f"建立数据: {n_volunteers} 名志愿者, {n_teams} 支服务队, 用时 {time.perf_counter() - t0:.0f} 秒"
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
            ("志愿者列表末页 (第 10 页)", reverse("registry:volunteers"), {"page": "10"}),
            ("服务队列表", reverse("registry:teams"), {}),
            ("服务队列表末页 (第 20 页)", reverse("registry:teams"), {"page": "20"}),
            ("服务队搜索 (队10)", reverse("registry:teams"), {"q": "队10"}),
            ("服务队名册", reverse("registry:team", args=[team.pk]), {}),
            ("分区域服务时长", reverse("registry:volunteer_totals"), {"year": year}),
            ("基地列表", reverse("registry:bases"), {}),
            ("科技馆列表", reverse("registry:museums"), {}),
            ("科技馆年报汇总", reverse("registry:museum_summary"), {"year": year}),
            ("专家库", reverse("registry:experts"), {}),
            ("评分表", reverse("registry:sheets"), {}),
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
    from kepu.registry.models import VolunteerTeam

    office = VolunteerTeam.objects.filter(name__endswith=MARK).first().office
    team, _ = VolunteerTeam.objects.get_or_create(
        name=f"导入基准服务队{MARK}",
        defaults={"kind": "general", "region": office.region, "office": office},
    )
    from django.db import connection

    from kepu.registry import totals

    with connection.cursor() as cur:  # a previous run's rows, without 100,000 delete entries
        cur.execute("DELETE FROM registry_volunteer WHERE team_id = %s AND active", [team.pk])
        totals.volunteers_added(team=team, n=-cur.rowcount)
        cur.execute("DELETE FROM registry_volunteer WHERE team_id = %s", [team.pk])
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
    import openpyxl

    t0 = time.perf_counter()
    wb_in = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    sum(1 for _ in wb_in.worksheets[0].iter_rows(values_only=True))
    wb_in.close()
    openpyxl_s = time.perf_counter() - t0
    steps: list[tuple[float, str]] = []
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    n = services.volunteers_import(
        user=users["bench_prov"],
        team=team,
        name="volunteers.xlsx",
        data=data,
        progress=lambda f, m: steps.append((round(time.perf_counter() - t0, 1), m)),
    )
    import_s = time.perf_counter() - t0
    cpu_s = time.process_time() - cpu0
    print(
        f"导入 {n} 名志愿者 (文件 {len(data) / 1e6:.1f} MB, {n_read} 行): {import_s:.1f} 秒; "
        f"仅读取文件: {read_s:.1f} 秒 (比值 {import_s / read_s:.1f}); "
        f"openpyxl 只读模式读取: {openpyxl_s:.1f} 秒; 本进程 CPU {cpu_s:.1f} 秒"
    )
    print("  进度: " + "; ".join(f"{t} 秒 {m}" for t, m in steps[-5:]))
    return {
        "rows": n,
        "file_mb": round(len(data) / 1e6, 1),
        "import_s": round(import_s, 1),
        "import_cpu_s": round(cpu_s, 1),
        "read_only_s": round(read_s, 1),
        "openpyxl_read_s": round(openpyxl_s, 1),
        "progress": steps,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--volunteers", type=int, default=500_000)
    parser.add_argument("--teams", type=int, default=10_000)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--skip-pages", action="store_true")
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
    result["load_before"] = [round(x, 2) for x in os.getloadavg()]
    if not args.skip_pages:
        result["pages"] = pages(users, args.repeat)
    if not args.skip_import:
        result["import"] = import_bench(users, args.import_rows)
    result["load_after"] = [round(x, 2) for x in os.getloadavg()]
    print(f"负载 (1/5/15 分钟): 开始 {result['load_before']}, 结束 {result['load_after']}")
    OUT.mkdir(parents=True, exist_ok=True)
    name = "registry.json" if not args.skip_pages else "registry_import.json"
    (OUT / name).write_text(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
