"""Optimistic locking: editable records carry a version; a stale save is refused.

Usage in a service (inside the write transaction, before ``save``)::

    version_check(obj, expected=submitted_version, fields=["title", "deadline"])
    obj.title = ...
    obj.save()  # version_check already bumped obj.version

and in a form: ``class TaskForm(VersionedForm, forms.Form)`` adds the hidden ``version``
field; the view passes ``form.cleaned_data["version"]`` to the service and shows
``StaleEditError.differences`` (field label, the value the user saw, the value saved
by the other person) beside the form when the service raises.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models


class Versioned(models.Model):
    """Abstract base: a ``version`` incremented on every service-level save."""

    version = models.PositiveIntegerField("版本", default=1, editable=False)

    class Meta:
        abstract = True


def _display(obj: models.Model, field: models.Field) -> str:
    if getattr(field, "choices", None):
        return str(getattr(obj, f"get_{field.name}_display")())
    value = getattr(obj, field.name)
    if value is None or value == "":
        return "(空)"
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value) or "(空)"
    return str(value)


class StaleEditError(ValidationError):
    """Somebody else saved the record after the user opened it."""

    def __init__(
        self, current: models.Model, *, mine: models.Model | None, fields: Iterable[str] = ()
    ) -> None:
        self.current = current
        self.differences: list[tuple[str, str, str]] = []
        for name in fields:
            field = current._meta.get_field(name)
            theirs = _display(current, field)
            yours = _display(mine, field) if mine is not None else ""
            if yours != theirs:
                self.differences.append((str(field.verbose_name), yours, theirs))
        super().__init__(
            "保存失败: 在您打开之后, 其他人已修改并保存了这条记录 (当前为第 %(v)s 版)。"
            "您的修改没有保存, 请核对下方对方保存的内容后重新编辑。",
            code="stale",
            params={"v": current.version},
        )


def version_check(obj: models.Model, *, expected: int | None, fields: Iterable[str] = ()) -> None:
    """Lock ``obj``'s row, refuse if its version is not ``expected``, then bump it.

    Call inside ``transaction.atomic()``. ``expected=None`` skips the comparison (a
    write that did not start from a form, e.g. a bulk import) but still bumps.
    ``fields`` names the fields whose saved values the error should show.
    """
    model = type(obj)
    current = model._base_manager.select_for_update().filter(pk=obj.pk).first()
    if current is None:
        raise ValidationError("该记录已被删除。", code="deleted")
    if expected is not None and current.version != expected:
        raise StaleEditError(current, mine=obj, fields=fields)
    obj.version = current.version + 1


class VersionedForm(forms.Form):
    """Mixin for edit forms of versioned records: the version the user started from."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def stale(self, exc: StaleEditError) -> None:
        """Attach a stale-edit refusal to the form (the template lists the differences)."""
        self.add_error(None, exc.messages)
        self.stale_differences = exc.differences
        # The next submit starts from what is saved now.
        data = self.data.copy()
        data["version"] = str(exc.current.version)
        self.data = data


def version_initial(obj: Any) -> dict[str, Any]:
    return {"version": getattr(obj, "version", None)}
