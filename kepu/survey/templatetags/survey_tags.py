"""Number formatting for survey pages: proportions as percentages, points, deff."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def pct(value: float | None, digits: int = 2) -> str:
    """0.1234 → '12.34%' (None → '—')."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{int(digits)}f}%"


@register.filter
def pct_num(value: float | None, digits: int = 2) -> str:
    """0.1234 → '12.34' (no sign; for table cells under a '%' header)."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{int(digits)}f}"


@register.filter
def num(value: float | None, digits: int = 2) -> str:
    if value is None or value == "":
        return "—"
    return f"{float(value):.{int(digits)}f}"


@register.filter
def signed(value: float | None, digits: int = 2) -> str:
    """Percentage points with a sign: 1.5 → '+1.50'."""
    if value is None or value == "":
        return "—"
    return f"{float(value):+.{int(digits)}f}"
