"""分解落实: which organisations a collective unit name ("各县(市、区)") stands for.

A city task naming "各县(市、区)人民政府" is assigned to every county office below the
city; "各乡镇(街道)" to every township; "各成员单位" to every member unit of the office's
own region. Only organisations inside the round office's region are ever chosen.
"""

from __future__ import annotations

import re

from django.db.models import Q

from kepu.orgs.models import OFFICE_KINDS, Organisation, OrgKind
from kepu.regions.models import Level, Region

COUNTY = "county"
TOWNSHIP = "township"
MEMBER = "member"

_PATTERNS = [
    (
        re.compile(
            r"^各(?:县|区|市辖区|县市区|县[(（]市[、,，]?区[)）]|县[(（]区[)）]|区[(（]县[)）])"
        ),
        COUNTY,
    ),
    (
        re.compile(r"^各(?:乡镇|乡|镇|街道|乡[(（]镇[)）]|乡镇[(（]街道[)）]|镇[(（]街道[)）])"),
        TOWNSHIP,
    ),
    (re.compile(r"^(?:各|全体|所有)(?:成员单位|有关单位|相关单位|有关部门|相关部门)"), MEMBER),
]


def cascade_kind(name: str) -> str | None:
    """``county`` / ``township`` / ``member`` for a collective name, else ``None``."""
    name = re.sub(r"\s+", "", name or "")
    for rx, kind in _PATTERNS:
        if rx.match(name):
            return kind
    return None


def cascade_targets(kind: str, office_region: Region) -> list[tuple[int, str]]:
    """(organisation id, region path) of every organisation a collective name means."""
    below = Organisation.objects.filter(is_active=True, region__path__startswith=office_region.path)
    if kind == COUNTY:
        # One office per county: a 纲要办 when there is one, else the county 科协.
        rows = (
            below.filter(region__level=Level.COUNTY, kind__in=OFFICE_KINDS)
            .order_by("region_id", "kind", "pk")  # "association" < "office": prefer office
            .values_list("pk", "region_id", "region__path", "kind")
        )
        per_region: dict[int, tuple[int, str, str]] = {}
        for pk, region_id, path, kind_ in rows:
            current = per_region.get(region_id)
            if current is None or (kind_ == OrgKind.OFFICE and current[2] != OrgKind.OFFICE):
                per_region[region_id] = (pk, path, kind_)
        return [(pk, path) for pk, path, _ in per_region.values()]
    if kind == TOWNSHIP:
        townships = below.filter(
            Q(kind=OrgKind.TOWNSHIP) | Q(region__level=Level.TOWNSHIP, kind__in=OFFICE_KINDS)
        ).values_list("pk", "region__path")
        return list(townships)
    if kind == MEMBER:
        return list(
            Organisation.objects.filter(
                is_active=True, is_member_unit=True, region=office_region
            ).values_list("pk", "region__path")
        )
    return []
