"""Browser date pickers accept only ISO values: every date widget is the shared one."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from kepu.core.forms import DATE_INPUT, DATETIME_INPUT

KEPU = Path(__file__).resolve().parents[2] / "kepu"


def test_shared_widgets_render_iso_values():
    html = DATE_INPUT.render("d", dt.date(2026, 1, 1))
    assert 'type="date"' in html and 'value="2026-01-01"' in html
    html = DATETIME_INPUT.render("t", dt.datetime(2026, 9, 16, 9, 5))
    assert 'type="datetime-local"' in html and 'value="2026-09-16T09:05"' in html


def test_no_module_builds_its_own_date_widget():
    own = re.compile(r"\b(?:DateInput|DateTimeInput|SplitDateTimeWidget)\(")
    offenders = [
        str(path.relative_to(KEPU))
        for path in KEPU.rglob("*.py")
        if path != KEPU / "core" / "forms.py" and own.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], f"use kepu.core.forms.DATE_INPUT / DATETIME_INPUT in {offenders}"
