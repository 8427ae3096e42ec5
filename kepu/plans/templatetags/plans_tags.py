from __future__ import annotations

from typing import Any

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


@register.filter
def target_display(target: Any) -> str:
    """A parsed target (dict from the parser's JSON, or a model) as the document words it:
    "不少于20个", "覆盖10万人次", "超过15% (2025年)"."""
    if hasattr(target, "label") and not isinstance(target, dict):
        return str(target.label)
    if not isinstance(target, dict):
        return ""
    from kepu.plans.parsing.targets import target_display as display

    try:
        return display(
            str(target.get("text") or ""),
            str(target.get("comparator") or ""),
            float(target.get("value") or 0),
            str(target.get("unit") or ""),
            target.get("year"),
        )
    except (TypeError, ValueError):
        return str(target.get("text") or "")


@register.filter
def target_structured(target: Any) -> str:
    """The structured reading of a parsed target, for a tooltip: "≥ 10万 人次 (2025年)"."""
    if not isinstance(target, dict):
        return str(getattr(target, "structured_label", ""))
    from kepu.plans.parsing.targets import format_value

    try:
        value = format_value(float(target.get("value") or 0))
    except (TypeError, ValueError):
        value = str(target.get("value"))
    year = f" ({target['year']}年)" if target.get("year") else ""
    symbol = SYMBOLS.get(str(target.get("comparator")), "")
    return f"{symbol} {value} {target.get('unit') or ''}{year}".strip()
