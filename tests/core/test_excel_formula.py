"""Formula injection (issue 7, item 3): every Excel export writes user text as text.

Each payload is planted in every user text field (tests/core/hostile.py), every export of
the project is downloaded through its view, and every cell of every sheet is checked: no
formula cells, the planted text is there exactly as stored, and formula-like text carries
Excel's quote prefix so it stays text when edited.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from openpyxl import load_workbook

from kepu.core.files import (
    FORMULA_PREFIXES,
    append_row,
    csv_safe,
    new_workbook,
    workbook_bytes,
    write_cell,
)
from tests.core.hostile import plant

PAYLOADS = [
    '=HYPERLINK("http://x","y")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-1+1",
    "@SUM(1)",
    "\t=1",
    "\r=1",
]


def _cells(data: bytes) -> list:
    wb = load_workbook(io.BytesIO(data))
    return [cell for ws in wb.worksheets for row in ws.iter_rows() for cell in row]


def _assert_text_only(cells: list, expected: set[str], where: str) -> None:
    formulas = [(c.coordinate, c.value) for c in cells if c.data_type == "f"]
    assert not formulas, f"{where}: formula cells {formulas}"
    texts = {c.value for c in cells if isinstance(c.value, str)}
    missing = {e for e in expected if e not in texts}
    assert not missing, f"{where}: planted text not written as is: {missing}"
    for c in cells:
        if isinstance(c.value, str) and c.value.startswith(FORMULA_PREFIXES):
            assert c.data_type == "s" and c.quotePrefix, f"{where} {c.coordinate}: {c.value!r}"


@pytest.fixture
def planted(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"

    def _plant(payload: str):
        return plant(world, lambda field: payload)

    return _plant


@pytest.mark.parametrize("payload", PAYLOADS, ids=[repr(p) for p in PAYLOADS])
def test_every_export_writes_user_text_as_text(planted, client, world, payload):
    p = planted(payload)
    client.force_login(world.users["admin_a"])

    # 1. the ledger export (plans): plan title, task text, units, targets, deadline
    resp = client.get(reverse("plans:ledger_export"), {"plan": p.plan.pk})
    assert resp.status_code == 200
    task = p.task
    units = list(task.units.all())
    expected = {
        f"{p.plan.title} 任务台账",
        task.text,
        task.deadline,
        next(u.name for u in units if u.role == "cooperate"),
        next(t.text for t in task.targets.all()),
    }
    _assert_text_only(_cells(resp.content), expected, "ledger export")

    # 2. the survey results export: wave titles, target labels, data file name
    resp = client.get(reverse("survey:export", args=[p.wave.pk]))
    assert resp.status_code == 200
    cells = _cells(resp.content)
    expected = {p.wave.title, p.earlier_wave.title, p.target.display, p.wave.data_source_name}
    expected = {e for e in expected if e}
    _assert_text_only(cells, expected, "survey export")
    # 3. the campaign summary table (汇总表), in the campaign's own columns
    resp = client.get(reverse("campaigns:summary", args=[p.campaign.pk]))
    assert resp.status_code == 200
    a = p.activity
    expected = {a.title, a.co_organisers, a.audience, a.summary, a.contact_name}
    expected.add(next(c for c in p.campaign.summary_columns if c.endswith(payload.strip()[-3:])))
    _assert_text_only(_cells(resp.content), expected, "campaign summary")

    # 4. the public open-data CSV: formula-like fields get an apostrophe
    cache.clear()  # the portal caches its public responses (by campaign id)
    resp = client.get(reverse("portal:open_csv", args=[p.campaign.pk]))
    assert resp.status_code == 200
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    fields = [f for row in rows[1:] for f in row]
    assert fields and not [f for f in fields if f.startswith(FORMULA_PREFIXES)], fields
    assert "'" + a.title in fields

    # numbers stay numbers, negative ones included
    numeric = [
        c for c in cells if isinstance(c.value, int | float) and not isinstance(c.value, bool)
    ]
    assert numeric and all(c.data_type == "n" for c in numeric)


def test_negative_numbers_stay_numbers_and_text_stays_text():
    wb = new_workbook()
    ws = wb.active
    write_cell(ws, 1, 1, -12.5)
    write_cell(ws, 1, 2, "-12.5")
    write_cell(ws, 1, 3, "#N/A")  # openpyxl alone would make this an error cell
    write_cell(ws, 1, 4, "普通文字")
    append_row(ws, ["=1+1", 3])
    cells = _cells(workbook_bytes(wb))
    by = {c.coordinate: c for c in cells}
    assert by["A1"].value == -12.5 and by["A1"].data_type == "n"
    assert by["B1"].value == "-12.5" and by["B1"].data_type == "s" and by["B1"].quotePrefix
    assert by["C1"].value == "#N/A" and by["C1"].data_type == "s"
    assert by["D1"].value == "普通文字" and not by["D1"].quotePrefix
    assert by["A2"].value == "=1+1" and by["A2"].data_type == "s"
    assert by["B2"].value == 3 and by["B2"].data_type == "n"


def test_csv_fields_get_an_apostrophe_when_formula_like():
    assert [csv_safe(p) for p in PAYLOADS] == ["'" + p for p in PAYLOADS]
    assert csv_safe("曲靖市") == "曲靖市" and csv_safe(None) == "" and csv_safe(-3) == "'-3"


def test_no_workbook_is_built_outside_the_shared_writer():
    """Every export goes through kepu.core.files: no other module creates a workbook or
    writes cells with openpyxl's own value inference."""
    root = Path(settings.BASE_DIR) / "kepu"
    offenders = []
    pattern = re.compile(r"\bWorkbook\(|\.append\(\[|\bws\.cell\([^)]*,[^)]*,")
    for path in root.rglob("*.py"):
        if path == root / "core" / "files.py":
            continue
        source = path.read_text(encoding="utf-8")
        if "openpyxl" not in source:
            continue
        offenders += [f"{path.relative_to(root)}: {m.group(0)}" for m in pattern.finditer(source)]
    assert not offenders, offenders
