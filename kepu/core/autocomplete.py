"""Searched choices instead of drop-downs of everything.

A national office sees 3,000 plans and 67,000 organisations: a ``<select>`` listing
them all costs megabytes on every page. Filter and form fields that pick one of
many rows use :class:`AutocompleteWidget` instead: a hidden input carrying the
value, a search box, and ``kepu/autocomplete.js`` (a static file; no inline
script) that asks ``/autocomplete/<source>/?q=…`` for at most :data:`LIMIT`
matches and shows them with ``textContent`` (user text is never parsed as HTML).

Each source is a selector ``(*, user, query, limit) -> list[Choice]`` that goes
through the scoping gate, so a user never gets names from outside their scope.
The widget renders only the chosen value's label, looked up through the field's
own (scoped) queryset: one query whatever the number of rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.module_loading import import_string
from django.utils.safestring import SafeString, mark_safe

LIMIT = 20
MAX_QUERY = 100


@dataclass(frozen=True)
class Choice:
    id: str
    label: str
    hint: str = ""


# source name → dotted path of its selector (imported lazily: core depends on no app)
SOURCES: dict[str, str] = {
    "orgs": "kepu.orgs.selectors.organisation_search",
    "regions": "kepu.orgs.selectors.region_search",
    "plans": "kepu.plans.selectors.plan_search",
}


def source_selector(source: str) -> Callable[..., list[Choice]]:
    if source not in SOURCES:
        raise Http404("没有该数据源")
    return import_string(SOURCES[source])


@login_required
def autocomplete(request: HttpRequest, source: str) -> JsonResponse:
    """``{"results": [{"id", "label", "hint"}], "more": bool}``: at most ``LIMIT`` matches."""
    search = source_selector(source)
    query = request.GET.get("q", "").strip()[:MAX_QUERY]
    found = search(user=request.user, query=query, limit=LIMIT + 1)
    return JsonResponse(
        {
            "results": [{"id": c.id, "label": c.label, "hint": c.hint} for c in found[:LIMIT]],
            "more": len(found) > LIMIT,
        }
    )


class AutocompleteWidget(forms.Widget):
    """A searched choice: hidden value + search box, for a ``ModelChoiceField``.

    Only the current value is rendered (its label read through the field's
    queryset, i.e. within the user's scope); matches come from the source.
    """

    def __init__(
        self, source: str, *, placeholder: str = "输入名称搜索", attrs: dict | None = None
    ) -> None:
        super().__init__(attrs)
        self.source = source
        self.placeholder = placeholder
        self.choices: Any = ()

    def _label(self, value: Any) -> str:
        if value in (None, ""):
            return ""
        field = getattr(self.choices, "field", None)
        if field is None:
            return str(value)
        key = field.to_field_name or "pk"
        try:
            obj = field.queryset.filter(**{key: value}).first()
        except (ValueError, TypeError):
            return ""
        return field.label_from_instance(obj) if obj is not None else ""

    def format_value(self, value: Any) -> str:
        if value is None:
            return ""
        return str(getattr(value, "pk", value))

    def render(
        self, name: str, value: Any, attrs: dict | None = None, renderer: Any = None
    ) -> SafeString:
        attrs = self.build_attrs(self.attrs, attrs)
        input_id = attrs.get("id") or f"id_{name}"
        value = self.format_value(value)
        label = self._label(value)
        # a disabled field (e.g. a parent the user may not change) is shown, not searched
        disabled = mark_safe(" disabled") if attrs.get("disabled") else ""
        return format_html(
            '<div class="autocomplete" data-autocomplete-url="{url}" '
            'data-value="{value}" data-label="{label}">'
            '<input type="hidden" name="{name}" value="{value}" id="{id}-value"{disabled}>'
            '<input type="search" id="{id}" class="autocomplete-input" value="{label}" '
            'placeholder="{placeholder}" autocomplete="off" role="combobox" '
            'aria-autocomplete="list" aria-expanded="false" aria-controls="{id}-results"'
            "{disabled}>"
            '<ul class="autocomplete-results" id="{id}-results" role="listbox" hidden></ul>'
            "</div>",
            url=reverse("autocomplete", args=[self.source]),
            name=name,
            value=value,
            id=input_id,
            label=label,
            placeholder=self.placeholder,
            disabled=disabled,
        )

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return data.get(name)

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data
