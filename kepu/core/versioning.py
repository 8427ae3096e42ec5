"""Optimistic locking: editable records carry a version; a stale save is refused.

Usage in a service (inside the write transaction, after assigning the user's values
to ``obj`` and before ``save``)::

    obj.title = title
    version_check(obj, expected=submitted_version, fields=["title", "deadline"])
    obj.save()  # version_check already bumped obj.version; save it with the rest

``obj`` then holds what the user submitted, the locked row what is saved now; the
refusal lists every named field where the two differ (related rows, e.g. a task's
units, through ``extra``).

and in a form: ``class TaskForm(VersionedForm, forms.Form)`` adds the hidden ``version``
field; the view passes ``form.cleaned_data["version"]`` to the service and shows
``StaleEditError.differences`` (field label, the value the user submitted, the value
saved by the other person) beside the form when the service raises.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models, transaction


class Versioned(models.Model):
    """Abstract base: a ``version`` incremented on every service-level save."""

    version = models.PositiveIntegerField("版本", default=1, editable=False)

    class Meta:
        abstract = True


DISPLAY_LIMIT = 300


def _display(obj: models.Model, field: models.Field) -> str:
    if getattr(field, "choices", None):
        return str(getattr(obj, f"get_{field.name}_display")())
    value = getattr(obj, field.name)
    if value is None or value == "":
        return "(空)"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple):
        text = "、".join(str(v) for v in value) or "(空)"
    else:
        text = str(value)
    return text if len(text) <= DISPLAY_LIMIT else text[:DISPLAY_LIMIT] + "…"


class StaleEditError(ValidationError):
    """Somebody else saved the record after the user opened it."""

    def __init__(
        self,
        current: models.Model,
        *,
        mine: models.Model | None,
        fields: Iterable[str] = (),
        extra: Iterable[tuple[str, str, str]] = (),
    ) -> None:
        self.current = current
        self.differences: list[tuple[str, str, str]] = []
        for name in fields:
            field = current._meta.get_field(name)
            theirs = _display(current, field)
            yours = _display(mine, field) if mine is not None else ""
            if yours != theirs:
                self.differences.append((str(field.verbose_name), yours, theirs))
        for label, yours, theirs in extra:
            if yours != theirs:
                self.differences.append((label, yours or "(空)", theirs or "(空)"))
        super().__init__(
            "保存失败: 在您打开之后, 其他人已修改并保存了这条记录 (当前为第 %(v)s 版)。"
            "您的修改没有保存, 请核对下方对方保存的内容后重新编辑。",
            code="stale",
            params={"v": current.version},
        )


def version_check(
    obj: models.Model,
    *,
    expected: int | None,
    fields: Iterable[str] = (),
    extra: Callable[[models.Model], Iterable[tuple[str, str, str]]] | None = None,
) -> None:
    """Lock ``obj``'s row, refuse if its version is not ``expected``, then bump it.

    Call inside ``transaction.atomic()``. ``expected=None`` skips the comparison (a
    write that did not start from a form, e.g. a bulk import) but still bumps.
    ``fields`` names the fields whose saved values the error should show; ``extra``
    is called with the locked row and returns more ``(label, yours, theirs)`` rows
    (values of related records), only when the save is refused.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("version_check must run inside transaction.atomic()")
    model = type(obj)
    current = model._base_manager.select_for_update().filter(pk=obj.pk).first()
    if current is None:
        raise ValidationError("该记录已被删除。", code="deleted")
    if expected is not None and current.version != expected:
        raise StaleEditError(
            current, mine=obj, fields=fields, extra=extra(current) if extra else ()
        )
    obj.version = current.version + 1


class VersionedForm(forms.Form):
    """Mixin for edit forms of versioned records: the version the user started from."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)
    stale_differences: list[tuple[str, str, str]] | None = None

    def stale(self, exc: StaleEditError) -> None:
        """Attach a stale-edit refusal to the form (the template lists the differences)."""
        self.add_error(None, exc.messages)
        self.stale_differences = exc.differences
        # The next submit starts from what is saved now.
        data = self.data.copy()
        data[self.add_prefix("version")] = str(exc.current.version)
        self.data = data


def version_initial(obj: Any) -> dict[str, Any]:
    return {"version": getattr(obj, "version", None)}
