"""Number formatting for survey pages: proportions as percentages, points, deff."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

from kepu.survey.models import CI_METHOD_SHORT, CIMethod

register = template.Library()


@register.filter
def pct(value: float | str | None, digits: int = 2) -> str:
    """0.1234 → '12.34%' (None → '—')."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{int(digits)}f}%"


@register.filter
def pct_num(value: float | str | None, digits: int = 2) -> str:
    """0.1234 → '12.34' (no sign; for table cells under a '%' header)."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{int(digits)}f}"


@register.filter
def num(value: float | str | None, digits: int = 2) -> str:
    if value is None or value == "":
        return "—"
    return f"{float(value):.{int(digits)}f}"


@register.filter
def signed(value: float | str | None, digits: int = 2) -> str:
    """Percentage points with a sign: 1.5 → '+1.50'."""
    if value is None or value == "":
        return "—"
    return f"{float(value):+.{int(digits)}f}"


@register.simple_tag
def ci(estimate: Any, method: str = CIMethod.LOGIT, digits: int = 2) -> str:
    """The one 95% CI the office chose, the other method's interval in the tooltip."""
    if estimate is None:
        return "—"
    low, high = estimate.interval(method)
    text = f"{pct(low, digits)} — {pct(high, digits)}"
    other_low, other_high = estimate.other_interval(method)
    if other_low is None:
        return text
    chosen = CIMethod(method) if method in CIMethod.values else CIMethod.LOGIT
    other = CIMethod.NORMAL if chosen == CIMethod.LOGIT else CIMethod.LOGIT
    tip = (
        f"{CI_METHOD_SHORT[chosen]}的95%置信区间; "
        f"{CI_METHOD_SHORT[other]}: {pct(other_low, digits)} — {pct(other_high, digits)}"
    )
    return format_html('<span class="ci-value" title="{}">{}</span>', tip, text)


@register.filter
def ci_method_label(method: str) -> str:
    return CI_METHOD_SHORT.get(method, CI_METHOD_SHORT[CIMethod.LOGIT])
