from __future__ import annotations

from django import template

register = template.Library()

SYMBOLS = {">=": "≥", ">": ">", "=": "=", "<=": "≤", "<": "<"}


@register.filter
def comparator_symbol(value: str) -> str:
    """'>=' → '≥' for display."""
    return SYMBOLS.get(value, value)


@register.filter
def number(value: float | int) -> str:
    """300.0 → '300', 12.5 → '12.5'."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return str(value)
    return str(int(f)) if f.is_integer() else f"{f:g}"
