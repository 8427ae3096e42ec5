from __future__ import annotations

from typing import Any

from django import template

from kepu.progress.selectors import todo_counts

register = template.Library()


@register.inclusion_tag("progress/_todo.html", takes_context=True)
def todo_block(context: dict[str, Any]) -> dict[str, Any]:
    """工作台: the signed-in user's to-do counts (four count queries)."""
    user = context["request"].user
    return {"todo": todo_counts(user=user)}
