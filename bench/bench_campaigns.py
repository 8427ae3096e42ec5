"""Campaign benchmark: a national campaign with many activities (default 500,000 from
60,000 organisers) on the database DATABASE_URL names (PostgreSQL for the real figures).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kepu_bench_campaigns \\
        .venv/bin/python bench/bench_campaigns.py [--activities 500000] [--organisers 60000]

Needs the national division tree (``kepu regions import``; the script runs it when the
database has none). The data set is built once with bulk inserts and reused on later runs
(``--rebuild`` drops and rebuilds it). Then, in this process with Django's test client and
the page cache off (every request does its full work):

- published counts (``kepu.campaigns.counts``): the time of a full rebuild
  (``kepu campaign recount``) and of one approval, which maintains them;
- public portal: the campaign page (calendar, list, map data) unfiltered and filtered by
  province, county, type, key group, online, a common and a rare search word (and a
  common word in a province), one day, deep pages, the iCal feed of a province (default
  window, and from the campaign's first day);
  p50/p95 over ``--repeat`` requests, query count; baseline: the portal's smallest page
  (the campaign index) in the same run;
- bulk registration: 5,000 activities from Excel, against the time to merely read the same
  file with the shared streaming reader;
- the summary table of one province (every activity of its organisers), time and peak memory.
Results print as a table and go to ``bench/out/campaigns.json``. ``--portal-only`` skips
the bulk registration and the summary table; the counts are rebuilt when missing or
with ``--recount``.
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
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
TITLE = "全国科普月 (基准测试)"


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kepu.settings")
    os.environ.setdefault("KEPU_DEBUG", "0")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    settings.ALLOWED_HOSTS = ["*"]


def build(n_activities: int, n_organisers: int, rebuild: bool) -> object:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from kepu.campaigns.models import PUBLISHED, Activity, ActivityType, Campaign, Mode, Status
    from kepu.orgs.models import Membership, Organisation, OrgKind
    from kepu.regions.models import Level, Region

    if not Region.objects.filter(level=Level.TOWNSHIP).exists():
        call_command("import_regions")
    campaign = Campaign.objects.filter(title=TITLE).first()
    if campaign and not rebuild and campaign.activities.count() >= n_activities:
        return campaign
    if campaign:
        Activity.objects.filter(campaign=campaign).delete()
        campaign.delete()
    root = Region.objects.get(level=Level.NATIONAL)
    office, _ = Organisation.objects.get_or_create(
        region=root, name="中国科协(基准)", defaults={"kind": OrgKind.ASSOCIATION}
    )
    user, created = get_user_model().objects.get_or_create(username="bench_campaign_admin")
    if created:
        user.set_password("Kepu-bench-2025")
        user.save()
    Membership.objects.get_or_create(
        user=user, organisation=office, defaults={"role": "office_admin"}
    )
    today = timezone.localdate()
    year = today.year
    campaign = Campaign.objects.create(
        title=TITLE,
        kind="science_month",
        year=year,
        region=root,
        owner=office,
        event_start=dt.date(year, 9, 1),
        event_end=dt.date(year, 9, 30),
        registration_start=today - dt.timedelta(days=30),
        registration_end=today + dt.timedelta(days=30),
        summary_columns=["序号", "活动名称", "活动时间", "活动地点", "主办单位", "参与人数"],
    )
    rng = random.Random(7)
    counties = list(Region.objects.filter(level=Level.COUNTY).values_list("pk", "path"))
    towns = list(Region.objects.filter(level=Level.TOWNSHIP).values_list("pk", "path"))
    existing = list(
        Organisation.objects.filter(name__startswith="基准组织").values_list("pk", "region_id")
    )
    if len(existing) < n_organisers:
        t0 = time.perf_counter()
        new = []
        for i in range(len(existing), n_organisers):
            if i % 3 == 0:
                rid, _ = rng.choice(towns)
                kind = OrgKind.TOWNSHIP
            else:
                rid, _ = rng.choice(counties)
                kind = OrgKind.DEPARTMENT
            new.append(Organisation(name=f"基准组织{i:06d}", kind=kind, region_id=rid))
        Organisation.objects.bulk_create(new, batch_size=5000)
        existing = list(
            Organisation.objects.filter(name__startswith="基准组织").values_list("pk", "region_id")
        )
        print(f"organisers: {len(new):,} in {time.perf_counter() - t0:.1f} s", flush=True)
    orgs = existing[:n_organisers]
    kinds = ActivityType.values
    groups = ["youth", "farmers", "workers", "elderly", "cadres"]
    tz = timezone.get_current_timezone()
    t0 = time.perf_counter()
    batch = []
    statuses = [Status.APPROVED] * 6 + [Status.COMPLETED] * 2 + [Status.SUBMITTED, Status.DRAFT]
    for i in range(n_activities):
        org_id, region_id = orgs[i % len(orgs)]
        day = rng.randint(1, 30)
        start = dt.datetime(year, 9, day, rng.randint(8, 19), 0, tzinfo=tz)
        batch.append(
            Activity(
                campaign=campaign,
                organiser_id=org_id,
                title=f"科普活动 {i} {rng.choice(['健康讲座', '科技展览', '科普进校园', '农技培训', '应急演练'])}",
                kind=rng.choice(kinds),
                starts_at=start,
                ends_at=start + dt.timedelta(hours=2),
                region_id=region_id,
                address=f"活动地点{i % 997}号",
                mode=Mode.OFFLINE if i % 5 else Mode.ONLINE,
                link="" if i % 5 else "https://live.example.cn/x",
                key_groups=[rng.choice(groups)],
                expected_participants=rng.randint(20, 500),
                status=rng.choice(statuses),
                contact_name="联系人",
                contact_phone="010-00000000",
            )
        )
        if len(batch) >= 10000:
            with transaction.atomic():
                Activity.objects.bulk_create(batch, batch_size=5000)
            batch.clear()
            print(f"  activities: {i + 1:,}", end="\r", flush=True)
    if batch:
        Activity.objects.bulk_create(batch, batch_size=5000)
    published = Activity.objects.filter(campaign=campaign, status__in=PUBLISHED).count()
    print(
        f"activities: {n_activities:,} ({published:,} published) in {time.perf_counter() - t0:.1f} s"
    )
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as c:
            c.execute("ANALYZE campaigns_activity")
            c.execute("ANALYZE orgs_organisation")
            c.execute("ANALYZE regions_region")
    return campaign


def bench_counts(campaign, recount: bool = False) -> dict:
    """Rebuild the published counts (needed after the bulk seeding) and time one approval
    that maintains them."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from kepu.campaigns import counts, services
    from kepu.campaigns.models import Activity, PublishedCount, Status

    t0 = time.perf_counter()
    rebuilt = recount or not PublishedCount.objects.filter(campaign=campaign).exists()
    if rebuilt:
        rows = counts.rebuild(campaign)
    else:
        rows = PublishedCount.objects.filter(campaign=campaign).count()
    rebuild = time.perf_counter() - t0
    if connection.vendor == "postgresql":
        with connection.cursor() as c:
            c.execute("ANALYZE campaigns_publishedcount")
    user = get_user_model().objects.get(username="bench_campaign_admin")
    user.is_superuser = True  # review needs an office over the activity; the bench user is national
    activity = (
        Activity.objects.filter(campaign=campaign, status=Status.SUBMITTED)
        .select_related("campaign__region", "region")
        .first()
    )
    approve = None
    if activity is not None:
        t0 = time.perf_counter()
        services.activity_review(user=user, activity=activity, approve=True)
        approve = time.perf_counter() - t0
    consistent = counts.stored(campaign) == counts.computed(campaign)
    n = PublishedCount.objects.filter(campaign=campaign).count()
    print(
        f"发布计数重建: {rows:,} 行, {rebuild:.1f} s; 审核通过一场 (含计数): "
        f"{(approve or 0) * 1000:.0f} ms; 与重新统计{'一致' if consistent else '不一致!'} ({n:,} 行)",
        flush=True,
    )
    return {
        "rows": rows,
        "rebuilt": rebuilt,
        "rebuild_seconds": round(rebuild, 2) if rebuilt else None,
        "approve_ms": round((approve or 0) * 1000, 1),
        "consistent": consistent,
    }


def timed(client, url: str, repeat: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    size = status = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        resp = client.get(url)
        times.append(time.perf_counter() - t0)
        size, status = len(resp.content), resp.status_code
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    times.sort()
    return {
        "url": url,
        "status": status,
        "p50_ms": round(statistics.median(times) * 1000, 1),
        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)] * 1000, 1),
        "kb": round(size / 1024, 1),
        "queries": len(ctx.captured_queries),
    }


def bench_portal(campaign, repeat: int) -> list[dict]:
    from django.test import Client
    from django.urls import reverse

    from kepu.regions.models import Level, Region

    province = Region.objects.filter(level=Level.PROVINCE).order_by("code").first()
    county = (
        Region.objects.filter(level=Level.COUNTY, path__startswith=province.path)
        .order_by("code")
        .first()
    )
    client = Client()
    base = reverse("portal:campaign", args=[campaign.pk])
    year = campaign.year
    cases = [
        ("基线: 活动索引页", reverse("portal:index")),
        ("活动页 (日历+列表)", base),
        ("按省筛选", f"{base}?region={province.code}"),
        ("按区县筛选", f"{base}?region={county.code}"),
        ("按类型筛选", f"{base}?kind=lecture"),
        ("按重点人群筛选", f"{base}?group=elderly"),
        ("搜索 (常见词)", f"{base}?q=农技"),
        ("搜索 (少见词)", f"{base}?q=活动 4242"),
        ("搜索+省", f"{base}?q=农技&region={province.code}"),
        ("线上活动", f"{base}?mode=online"),
        ("某一天", f"{base}?from={year}-09-15&to={year}-09-15"),
        ("翻到第 50 页", f"{base}?page=50"),
        ("翻到第 250 页", f"{base}?page=250"),
        ("类型+省+第 10 页", f"{base}?region={province.code}&kind=lecture&page=10"),
        ("地图点位", reverse("portal:points", args=[campaign.pk])),
        ("iCal (某省)", reverse("portal:ics", args=[campaign.pk]) + f"?region={province.code}"),
        (
            "iCal (某省, 自 9 月 1 日)",
            reverse("portal:ics", args=[campaign.pk])
            + f"?region={province.code}&from={year}-09-01",
        ),
    ]
    rows = []
    for label, url in cases:
        r = timed(client, url, repeat)
        r["label"] = label
        rows.append(r)
        print(
            f"{label:<18} p50 {r['p50_ms']:>8} ms  p95 {r['p95_ms']:>8} ms  {r['kb']:>8} KB  {r['queries']:>3} 次查询  HTTP {r['status']}",
            flush=True,
        )
    return rows


def bench_bulk_registration(campaign, n: int = 5000) -> dict:
    from django.contrib.auth import get_user_model
    from openpyxl import Workbook

    from kepu.campaigns import importing
    from kepu.campaigns.models import Activity
    from kepu.core.importing import xlsx_rows

    user = get_user_model().objects.get(username="bench_campaign_admin")
    org = campaign.owner
    wb = Workbook()
    ws = wb.active
    ws.append(
        [
            "主办单位",
            "活动名称",
            "活动类型",
            "开始时间",
            "结束时间",
            "区划代码",
            "详细地址",
            "形式",
            "预计参与人数",
        ]
    )
    for i in range(n):
        ws.append(
            [
                org.name,
                f"批量登记活动{i}",
                "讲座",
                f"{campaign.year}-09-16 09:00",
                f"{campaign.year}-09-16 11:00",
                "110101",
                "某地",
                "线下",
                "50",
            ]
        )
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    t0 = time.perf_counter()
    rows = sum(1 for _ in xlsx_rows(data, importing.LIMITS))
    read = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = importing.activities_import(user=user, campaign=campaign, name="bulk.xlsx", data=data)
    took = time.perf_counter() - t0
    Activity.objects.filter(campaign=campaign, title__startswith="批量登记活动").delete()
    out = {
        "rows": rows - 1,
        "created": result.created,
        "seconds": round(took, 2),
        "read_seconds": round(read, 2),
        "ratio": round(took / read, 1),
    }
    print(
        f"批量登记 {result.created:,} 场: {took:.2f} s (只读取文件 {read:.2f} s, {took / read:.1f}×)"
    )
    return out


def bench_summary(campaign) -> dict:
    from django.contrib.auth import get_user_model

    from kepu.campaigns import excel, selectors
    from kepu.regions.models import Level, Region

    user = get_user_model().objects.get(username="bench_campaign_admin")
    province = Region.objects.filter(level=Level.PROVINCE).order_by("code")[10]
    qs = selectors.activity_list(
        user=user, campaign=campaign, filters=selectors.ActivityFilters(region_code=province.code)
    )
    n = qs.count()
    tracemalloc.start()
    t0 = time.perf_counter()
    data = excel.summary_xlsx(campaign=campaign, activities=qs, title_suffix=province.name)
    took = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(
        f"汇总表 ({province.name}, {n:,} 行): {took:.1f} s, {len(data) / 1024 / 1024:.1f} MB, Python 峰值内存 {peak / 1024 / 1024:.0f} MB"
    )
    return {
        "province": province.name,
        "rows": n,
        "seconds": round(took, 2),
        "peak_mb": round(peak / 1024 / 1024),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--activities", type=int, default=500_000)
    ap.add_argument("--organisers", type=int, default=60_000)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--portal-only", action="store_true")
    ap.add_argument(
        "--recount", action="store_true", help="rebuild the published counts even if present"
    )
    args = ap.parse_args()
    setup()
    from django.db import connection

    campaign = build(args.activities, args.organisers, args.rebuild)
    print(
        f"database: {connection.vendor}; campaign {campaign.pk}: {campaign.activities.count():,} activities"
    )
    load = os.getloadavg()
    print(f"load average before measuring: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    result = {
        "load_before": [round(x, 2) for x in load],
        "database": connection.vendor,
        "activities": args.activities,
        "organisers": args.organisers,
        "counts": bench_counts(campaign, args.recount),
        "portal": bench_portal(campaign, args.repeat),
    }
    if not args.portal_only:
        result["bulk_registration"] = bench_bulk_registration(campaign)
        result["summary"] = bench_summary(campaign)
    load = os.getloadavg()
    print(f"load average after measuring: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    result["load_after"] = [round(x, 2) for x in load]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "campaigns.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8"
    )


if __name__ == "__main__":
    main()
