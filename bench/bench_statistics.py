"""Benchmark: the national statistics roll-up (target ≤ 10 s for 60,000 reporters).

Builds, in its own PostgreSQL database (default ``kepu_statistics_bench``), a national
office over 31 provinces × 10 prefectures and N reporting units (default 60,000) spread
over them, imports the project's catalogue, times ``collection_create`` (one report per
unit, bulk-created and audited: the body of the background job), fills every report with accepted values (one SQL
UPDATE, not timed), then times the national roll-up per region (provinces) and per
department kind as the national office sees it (through the scoping gate; summed in the
kept totals; ``collection_totals_rebuild`` and ``selectors.group_sums`` time the sum over
every report in the database) and one indicator's yearly series. The baseline,
measured in the same run, is reading the same reports' values with one plain SQL query.
``--indicators 150`` pads the catalogue to a national form's size.

Not a test: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/kepu_statistics_bench \
.venv/bin/python bench/bench_statistics.py [--units 60000] [--indicators 150]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/kepu_statistics_bench"


def _ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=60_000)
    parser.add_argument(
        "--indicators",
        type=int,
        default=0,
        help="pad the shipped catalogue (53 indicators) to this many (e.g. 150)",
    )
    args = parser.parse_args()
    url = os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    if not url.startswith(("postgres://", "postgresql://")):
        print("需要 PostgreSQL: 请设置 DATABASE_URL=postgres://…", file=sys.stderr)
        return 2
    _ensure_database(url)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kepu.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from kepu.orgs.models import Membership, Organisation, OrgKind
    from kepu.orgs.scoping import Role
    from kepu.regions.models import Level, Region
    from kepu.statistics import selectors, services
    from kepu.statistics.views import SHIPPED_CATALOGUE

    t0 = time.perf_counter()
    root = Region.objects.create(code="000000", name="全国", level=Level.NATIONAL, path="CN/")
    prefectures = []
    for p in range(31):
        pc = 11 + p
        prov = Region.objects.create(
            code=f"{pc}0000", name=f"省{pc}", level=Level.PROVINCE, parent=root, path=f"CN/{pc}/"
        )
        prefectures += Region.objects.bulk_create(
            Region(
                code=f"{pc}{c:02d}00",
                name=f"市{pc}{c:02d}",
                level=Level.PREFECTURE,
                parent=prov,
                path=f"CN/{pc}/{pc}{c:02d}/",
            )
            for c in range(1, 11)
        )
    office = Organisation.objects.create(name="中国科协", kind=OrgKind.ASSOCIATION, region=root)
    kinds = [OrgKind.DEPARTMENT, OrgKind.SCHOOL, OrgKind.ENTERPRISE, OrgKind.TOWNSHIP]
    names = ["教育局", "卫生健康委员会", "科学技术局", "农业农村局", "学校", "公司", "街道办事处"]
    Organisation.objects.bulk_create(
        (
            Organisation(
                name=f"单位{i}{names[i % len(names)]}",
                kind=kinds[i % len(kinds)],
                region=prefectures[i % len(prefectures)],
            )
            for i in range(args.units)
        ),
        batch_size=5000,
    )
    User = get_user_model()
    superuser = User.objects.create_superuser(username="root", password="x")
    user = User.objects.create_user(username="bench", password="x")
    Membership.objects.create(user=user, organisation=office, role=Role.OFFICE_ADMIN)
    data = json.loads(SHIPPED_CATALOGUE.read_text(encoding="utf-8"))
    for k in range(len(data["indicators"]), args.indicators):
        data["indicators"].append(
            {"code": f"X{k:03d}", "name": f"补充指标{k}", "category": "activities", "unit": "次"}
        )
    catalogue = services.catalogue_import(user=superuser, data=data)
    print(
        f"准备数据: {args.units:,} 个填报单位, {len(data['indicators'])} 个指标, "
        f"用时 {time.perf_counter() - t0:.1f} 秒; 负载 {os.getloadavg()}"
    )

    t = time.perf_counter()
    collection = services.collection_create(
        user=user,
        catalogue=catalogue,
        fields=services.CollectionFields(title="全国科普统计", year=catalogue.year),
    )
    create_s = time.perf_counter() - t
    codes = catalogue.parsed().codes()
    pairs = [f"'{c}', (id * {k + 7}) %% 1000" for k, c in enumerate(codes)]
    # jsonb_build_object takes at most 100 arguments: build in chunks and concatenate
    chunks = [", ".join(pairs[i : i + 40]) for i in range(0, len(pairs), 40)]
    expr = " || ".join(f"jsonb_build_object({c})" for c in chunks)
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE statistics_statreport SET status = 'accepted', "
            f"values = {expr} WHERE collection_id = %s",
            [collection.pk],
        )
        n = cur.rowcount
        cur.execute("VACUUM ANALYZE statistics_statreport")  # as autovacuum would after it
    print(f"生成报表 (collection_create, 含逐行审计): {n:,} 份, 用时 {create_s:.2f} 秒")

    with connection.cursor() as cur:
        t = time.perf_counter()
        cur.execute(
            "SELECT values FROM statistics_statreport WHERE collection_id = %s AND status = %s",
            [collection.pk, "accepted"],
        )
        rows = cur.fetchall()
        baseline = time.perf_counter() - t
    print(f"基线 (一条 SQL 读取 {len(rows):,} 份报表的数据): {baseline:.2f} 秒")

    expected = dict.fromkeys(codes, 0)  # the same sums in Python (not timed): a check
    for (raw,) in rows:
        values = json.loads(raw) if isinstance(raw, str) else raw
        for code, value in values.items():
            expected[code] += value
    t = time.perf_counter()
    kept = services.collection_totals_rebuild(collection=collection)
    rebuild_s = time.perf_counter() - t
    print(
        f"汇总表重算 (数据库内一次求和, 按地区×部门 {kept} 行): {rebuild_s:.2f} 秒 "
        f"(基线的 {rebuild_s / baseline:.1f} 倍)"
    )
    from kepu.orgs.scoping import Action
    from kepu.statistics.models import ReportStatus, StatReport

    for by in ("region", "department"):
        user = User.objects.get(pk=user.pk)
        qs = StatReport.objects.restrict(user, Action.VIEW).filter(
            collection=collection, status=ReportStatus.ACCEPTED
        )
        t = time.perf_counter()
        sums = selectors.group_sums(
            qs, key=selectors.group_key(by, collection.region.path), codes=codes
        )
        took = time.perf_counter() - t
        print(
            f"逐份报表求和 (数据库内, 按{'地区' if by == 'region' else '部门类别'}, "
            f"{len(sums)} 组; 下级办公室查看时的路径): {took:.2f} 秒 (基线的 {took / baseline:.1f} 倍)"
        )
        assert sum(g["_reports"] for g in sums.values()) == n
    results = {}
    for by in ("region", "department"):
        user = User.objects.get(pk=user.pk)  # fresh grants, as in a request
        t = time.perf_counter()
        rollup = selectors.rollup(user=user, collection=collection, by=by)
        results[by] = time.perf_counter() - t
        print(
            f"全国汇总 (按{'地区' if by == 'region' else '部门类别'}): {len(rollup.rows)} 组, "
            f"{rollup.total.reports:,} 份报表, 用时 {results[by]:.2f} 秒 "
            f"(基线的 {results[by] / baseline:.1f} 倍)"
        )
        assert rollup.total.reports == n
        assert {c: rollup.total.values[c] for c in codes} == expected
    user = User.objects.get(pk=user.pk)
    t = time.perf_counter()
    points = selectors.series(user=user, collection=collection, code=codes[0])
    series_s = time.perf_counter() - t
    print(f"历年趋势 (一个指标, {len(points)} 年): {series_s:.2f} 秒")
    worst = max(results.values())
    print(f"负载 (1/5/15 分钟): {os.getloadavg()}")
    print(f"目标 ≤ 10 秒: {'达到' if worst <= 10 else '未达到'} (最慢 {worst:.2f} 秒)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
