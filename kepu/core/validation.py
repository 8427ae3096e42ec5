"""Small validation helpers shared by services."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models


def length_errors(model: type[models.Model], values: Mapping[str, Any]) -> dict[str, str]:
    """``{field: message}`` for text longer than the model field allows (a clear Chinese
    form error instead of a database error on PostgreSQL, which enforces the length)."""
    errors: dict[str, str] = {}
    for name, value in values.items():
        if not isinstance(value, str):
            continue
        try:
            field: Any = model._meta.get_field(name)
        except Exception:  # not a model field
            continue
        limit = getattr(field, "max_length", None)
        if limit and len(value.strip()) > limit:
            errors[name] = (
                f"「{field.verbose_name}」最多 {limit} 个字 (现在 {len(value.strip())} 个)。"
            )
    return errors
