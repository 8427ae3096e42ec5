from __future__ import annotations

import json
from typing import Any

from kepu.statistics import services
from kepu.statistics.views import SHIPPED_CATALOGUE


def shipped_data(year: int = 2026) -> dict[str, Any]:
    data = json.loads(SHIPPED_CATALOGUE.read_text(encoding="utf-8"))
    data["year"] = year
    return data


def make_catalogue(world: Any, year: int = 2026) -> Any:
    return services.catalogue_import(
        user=world.users["super"], data=shipped_data(year), source_name="kepu-2026.json"
    )


def make_collection(world: Any, year: int = 2026, **kw: Any) -> Any:
    catalogue = make_catalogue(world, year)
    return services.collection_create(
        user=world.users["admin_a"],
        catalogue=catalogue,
        fields=services.CollectionFields(title=f"{year}年度曲靖市科普统计", year=year, **kw),
    )


def valid_values(**over: int) -> dict[str, str]:
    """A consistent set of values for the shipped catalogue (rules satisfied)."""
    v = {
        "P01": 30,
        "P02": 10,
        "P03": 20,
        "P04": 5,
        "P05": 4,
        "P06": 1,
        "V02": 1000,
        "V03": 600,
        "F01": 100,
        "F02": 60,
        "F03": 40,
        "F04": 10,
        "F05": 20,
        "F06": 10,
        "F07": 90,
        "F08": 10,
        "F09": 50,
        "F10": 20,
        "F11": 10,
        "M01": 2,
        "M02": 3000,
        "A01": 12,
        "A02": 1500,
    }
    v.update(over)
    return {k: str(x) for k, x in v.items()}


def report_of(collection: Any, world: Any, key: str = "unit_a1") -> Any:
    return collection.reports.get(organisation=world.orgs[key])


def add_reports(world: Any, collection: Any, n: int, *, status: str = "accepted") -> None:
    """``n`` more reporting units in the county with reports in ``status`` (test data)."""
    from kepu.orgs.models import Organisation, OrgKind
    from kepu.statistics.models import StatReport

    start = Organisation.objects.count()
    orgs = Organisation.objects.bulk_create(
        [
            Organisation(
                name=f"测试学校{start + k}", kind=OrgKind.SCHOOL, region=world.regions["county_a"]
            )
            for k in range(n)
        ]
    )
    values = {k: int(v) for k, v in valid_values().items()}
    StatReport.objects.bulk_create(
        [
            StatReport(
                collection=collection,
                organisation=o,
                region=o.region,
                department="03",
                department_name="教育",
                values=values,
                status=status,
            )
            for o in orgs
        ]
    )
    services.collection_totals_rebuild(collection=collection)
