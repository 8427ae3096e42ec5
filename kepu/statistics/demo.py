"""Demo statistics for the demo city: the project's catalogue for last year and this
year, last year's collection accepted in full (the year-over-year baseline and the
series chart), this year's collection open with a mix of states (the education
bureau's form still a draft for the demo login to fill), and population figures."""

from __future__ import annotations

import datetime as dt
import json

from django.contrib.auth import get_user_model
from django.utils import timezone

from kepu.core.demo import DemoContext
from kepu.regions.models import Region
from kepu.statistics import services
from kepu.statistics.models import Catalogue, ReportStatus
from kepu.statistics.views import SHIPPED_CATALOGUE


def demo_values(seed: int, unit: int) -> dict[str, str]:
    """Values that satisfy the catalogue's rules, linear in ``unit`` (so a 10% larger
    unit next year stays under the jump threshold)."""
    s = seed % 7 + 1
    u = s * unit
    v = {
        "P02": 3 * u, "P03": 5 * u, "P04": u, "P05": u, "P06": u // 2, "P07": 2 * u,
        "V02": 50 * u, "V03": 30 * u, "V04": 400 * u, "V07": u // 5, "V10": u // 3,
        "F02": 2 * u, "F03": u, "F04": u // 5, "F05": u // 2, "F06": u // 10,
        "F08": u // 5, "F09": 2 * u, "F10": u // 2,
        "M01": u // 10, "M02": 100 * u, "M07": u // 10, "M08": 5 * u,
        "A01": u, "A02": 80 * u, "A03": u // 3, "A04": 60 * u, "A08": u // 2, "A09": 40 * u,
        "I03": u // 5,
    }  # fmt: skip
    v["P01"] = v["P02"] + v["P03"]
    v["F01"] = v["F02"] + v["F04"] + v["F05"] + v["F06"]
    v["F11"] = 0
    v["F07"] = v["F08"] + v["F09"] + v["F10"] + v["F11"]
    return {k: str(x) for k, x in v.items()}


def load(ctx: DemoContext) -> None:
    year = timezone.localdate().year
    if Catalogue.objects.filter(year=year - 1).exists():
        return
    User = get_user_model()
    superuser = User.objects.get(username="admin")
    city_admin = User.objects.get(username="city_admin")
    data = json.loads(SHIPPED_CATALOGUE.read_text(encoding="utf-8"))
    catalogues = {}
    for y in (year - 1, year):
        data.update(year=y, name=f"{y}年度科普统计指标目录(项目示例)")
        catalogues[y] = services.catalogue_import(
            user=superuser, data=data, source_name=SHIPPED_CATALOGUE.name
        )
    office_id = ctx.data["association"].pk

    def _reviewer(report):  # type: ignore[no-untyped-def]
        # the association's own report is reviewed above it (here: the superuser)
        return superuser if report.organisation_id == office_id else city_admin

    last = services.collection_create(
        user=city_admin,
        catalogue=catalogues[year - 1],
        fields=services.CollectionFields(
            title=f"{year - 1}年度曲靖市科普统计",
            year=year - 1,
            due_date=dt.date(year, 6, 30),  # the national system's deadline for last year
        ),
        office_id=office_id,
    )
    for report in last.reports.select_related("region", "collection__catalogue"):
        services.report_save(
            user=superuser,
            report=report,
            raw=demo_values(report.organisation_id, 10),
            submit=True,
        )
        services.report_review(user=_reviewer(report), report=report, accept=True)
    current = services.collection_create(
        user=city_admin,
        catalogue=catalogues[year],
        fields=services.CollectionFields(
            title=f"{year}年度曲靖市科普统计",
            year=year,
            due_date=timezone.localdate().replace(month=12, day=31),
        ),
        office_id=office_id,
    )
    edu = ctx.data["units"]["市教体局"].pk
    reports = list(current.reports.select_related("region", "collection__catalogue"))
    for n, report in enumerate(reports):
        if report.organisation_id == edu:
            continue  # left for the demo login edu_staff to fill
        services.report_save(
            user=superuser, report=report, raw=demo_values(report.organisation_id, 11), submit=True
        )
        if n % 3 != 0:
            services.report_review(user=_reviewer(report), report=report, accept=True)
    city = ctx.data["city"]
    regions = Region.objects.filter(path__startswith=city.path, level__lte=city.level + 1)
    lines = ["区划代码,年度,常住人口(人)"]
    for r in regions.order_by("code"):
        base = 5_760_000 if r.pk == city.pk else 400_000 + int(r.code[-2:] or 0) * 10_000
        lines += [f"{r.code},{year - 1},{base}", f"{r.code},{year},{base + base // 200}"]
    services.population_import(
        user=city_admin, name="常住人口.csv", data="\n".join(lines).encode("utf-8")
    )
    accepted = current.reports.filter(status=ReportStatus.ACCEPTED).count()
    ctx.notes.append(
        f"科普统计: {year - 1}年度已全部审核通过; {year}年度 {len(reports)} 份报表中 "
        f"{accepted} 份已通过, 市教体局 (edu_staff) 的报表待填报。"
    )
