from __future__ import annotations

from typing import Any, cast

from django import forms

from kepu.audit.selectors import AuditFilters, action_choices, model_choices


class AuditFilterForm(forms.Form):
    """Filters of the audit log; people and organisations are searched, not listed."""

    user = forms.CharField(label="操作人", required=False, max_length=150)
    organisation = forms.CharField(label="组织", required=False, max_length=200)
    model = forms.ChoiceField(label="对象类型", required=False)
    action = forms.ChoiceField(label="操作", required=False)
    date_from = forms.DateField(label="起始日期", required=False)
    date_to = forms.DateField(label="截止日期", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["model"]).choices = [
            ("", "全部对象类型"),
            *model_choices(),
        ]
        cast(forms.ChoiceField, self.fields["action"]).choices = [
            ("", "全部操作"),
            *action_choices(),
        ]
        self.fields["user"].widget.attrs.update(type="search", placeholder="操作人姓名或用户名")
        self.fields["organisation"].widget.attrs.update(type="search", placeholder="组织名称")
        for name in ("date_from", "date_to"):
            self.fields[name].widget.input_type = "date"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "截止日期不能早于起始日期。")
        return data

    def filters(self) -> AuditFilters:
        """The valid filters (an invalid field is ignored, its error shown)."""
        data = self.cleaned_data if self.is_bound else {}
        keep = {k: v for k, v in data.items() if k not in self.errors and v not in (None, "")}
        return AuditFilters(**keep)
