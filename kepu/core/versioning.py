"""Optimistic locking: editable records carry a version; a stale save is refused.

Usage in a service (inside the write transaction, after assigning the user's values
to ``obj`` and before ``save``)::

    obj.title = title
    version_check(obj, expected=submitted_version, fields=["title", "deadline"])
    obj.save()  # version_check already bumped obj.version; save it with the rest

``obj`` then holds what the user submitted, the locked row what is saved now; the
refusal lists every named field where the two differ (related rows, e.g. a task's
units, through ``extra``).

In a form, ``class TaskForm(VersionedForm, forms.Form)`` adds the hidden ``version``
field and hidden copies of the values the user was shown; the view passes
``form.cleaned_data["version"]`` to the service and, when it raises, calls
``form.stale(exc, initial_of(exc.current))``: the template ``core/_stale.html`` then lists
each field whose saved value differs from what the user saw (您看到的 / 对方保存的),
with the user's input still in the form. Without ``saved`` (or when the client posted no
seen values) it shows ``StaleEditError.differences``: submitted beside saved.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

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
        current: Any,
        *,
        mine: models.Model | None,
        fields: Iterable[str] = (),
        extra: Iterable[tuple[str, str, str]] = (),
    ) -> None:
        self.current = current
        self.differences: list[tuple[str, str, str]] = []
        for name in fields:
            field = cast(models.Field, current._meta.get_field(name))
            theirs = _display(current, field)
            yours = _display(mine, field) if mine is not None else ""
            if yours != theirs:
                self.differences.append((str(field.verbose_name), yours, theirs))
        for label, yours, theirs in extra:
            if yours != theirs:
                self.differences.append((label, yours or "(空)", theirs or "(空)"))
        super().__init__(
            "保存失败: 在您打开之后, 其他人已修改并保存了这条记录 (当前为第 %(v)s 版)。"
            "您的修改没有保存, 请核对「保存冲突」中对方保存的内容后重新保存。",
            code="stale",
            params={"v": current.version},
        )


def version_check(
    obj: Any,
    *,
    expected: int | None,
    fields: Iterable[str] = (),
    extra: Callable[[Any], Iterable[tuple[str, str, str]]] | None = None,
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
    current: Any = model._base_manager.select_for_update().filter(pk=obj.pk).first()
    if current is None:
        raise ValidationError("该记录已被删除。", code="deleted")
    if expected is not None and current.version != expected:
        raise StaleEditError(
            current, mine=obj, fields=fields, extra=extra(current) if extra else ()
        )
    obj.version = current.version + 1


class VersionedForm(forms.Form):
    """Mixin for edit forms of versioned records.

    Carries the version the user started from (hidden ``version``) and, for every
    editable field, the value the user saw when the page was rendered (Django's hidden
    ``initial-<name>`` inputs). When the save is refused, :meth:`stale` lists each field
    whose saved value differs from what the user saw: what the other person changed,
    in the form's own terms, while the user's input stays in the form.
    """

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)
    stale_differences: list[tuple[str, str, str]] | None = None
    stale_mine_label = "您看到的"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name != "version" and not field.disabled:
                field.show_hidden_initial = True

    def _as_posted(self, field: forms.Field, value: Any) -> str:
        """``value`` as the hidden initial input carries it."""
        rendered = field.hidden_widget().format_value(field.prepare_value(value))
        return "" if rendered is None else str(rendered)

    def _shown(self, field: forms.Field, raw: str) -> str:
        """A posted value as people read it: choice labels, names, 是/否."""
        if raw in ("", "None", "[]", "{}"):
            return "(空)"
        if isinstance(field, forms.BooleanField):
            return "是" if raw == "True" else "否"
        if isinstance(field, forms.ModelChoiceField):
            # The seen value is posted by the client: names come only from the field's
            # own (scoped) choices, so no id can reveal a record out of the user's sight.
            queryset = field.queryset
            obj = (
                queryset.filter(pk=raw).first() if raw.isdigit() and queryset is not None else None
            )
            return str(obj) if obj is not None else f"#{raw}"
        if isinstance(field, forms.ChoiceField):
            choices = cast(Iterable[tuple[Any, Any]], field.choices)
            return str(dict((str(k), v) for k, v in choices).get(raw, raw))
        raw = " ".join(raw.split())
        return raw if len(raw) <= DISPLAY_LIMIT else raw[:DISPLAY_LIMIT] + "…"

    def stale(self, exc: StaleEditError, saved: Mapping[str, Any] | None = None) -> None:
        """Attach a stale-edit refusal to the form (the template lists the differences).

        ``saved`` is the form's initial data built from the row as saved now
        (``exc.current``), the same way the view built it for the user; without it the
        service's differences (submitted beside saved) are shown.
        """
        self.add_error(None, exc.messages)
        data = self.data.copy()  # type: ignore[attr-defined]  # a QueryDict or dict
        # The next submit starts from what is saved now.
        data[self.add_prefix("version")] = str(exc.current.version)
        posted_initials = any(k.startswith(self.add_initial_prefix("")) for k in self.data)
        if saved is None or not posted_initials:  # e.g. an API client or an old page
            self.stale_mine_label = "您提交的"
            self.stale_differences = exc.differences
        else:
            self.stale_differences = []
            for name, field in self.fields.items():
                if name == "version" or name not in saved or field.disabled:
                    continue
                key = self.add_initial_prefix(name)
                seen = self.data.get(key, "")
                theirs = self._as_posted(field, saved[name])
                if seen != theirs:
                    label = re.split(r"\s*[(（]", str(field.label or name))[0]
                    self.stale_differences.append(
                        (label, self._shown(field, seen), self._shown(field, theirs))
                    )
                data[key] = theirs
        self.data = data
