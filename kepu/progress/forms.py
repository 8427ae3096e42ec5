from __future__ import annotations

from typing import Any

from django import forms

from kepu.core.forms import DATE_INPUT
from kepu.core.versioning import VersionedForm
from kepu.progress.models import NoticeLevel, ProgressState


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if not data:
            return []
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data]
        return [super().clean(data, initial)]


class RoundForm(forms.Form):
    office = forms.TypedChoiceField(label="组织办公室", coerce=int)
    title = forms.CharField(label="轮次名称", max_length=200, help_text="如「2026年第三季度」")
    plans = forms.TypedMultipleChoiceField(
        label="覆盖规划", coerce=int, widget=forms.SelectMultiple(attrs={"size": 8})
    )
    opens_on = forms.DateField(label="开始日期", widget=DATE_INPUT)
    closes_on = forms.DateField(label="截止日期", widget=DATE_INPUT)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("opens_on") and data.get("closes_on") and data["closes_on"] < data["opens_on"]:
            raise forms.ValidationError("截止日期不能早于开始日期。")
        return data


class ReportForm(VersionedForm, forms.Form):
    state = forms.ChoiceField(label="进展状态", choices=[("", "请选择"), *ProgressState.choices])
    narrative = forms.CharField(
        label="本期进展情况", widget=forms.Textarea(attrs={"rows": 8}), max_length=20000
    )
    links = forms.CharField(
        label="相关链接 (每行一个)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )
    evidence = MultipleFileField(
        label="佐证材料 (照片、PDF、Word、Excel, 每个不超过 10 MB)", required=False
    )

    def __init__(self, *args: Any, targets: list[Any] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["state"].required = False
        self.fields["narrative"].required = False
        self.targets = list(targets)
        for t in self.targets:
            self.fields[f"target_{t.pk}"] = forms.FloatField(
                label=f"{t.label} 完成值{f' ({t.unit})' if t.unit else ''}",
                required=False,
                min_value=0,
                max_value=1e12,
            )

    def clean_links(self) -> str:
        links = self.cleaned_data["links"]
        for line in links.splitlines():
            line = line.strip()
            if line and not line.startswith(("http://", "https://")):
                raise forms.ValidationError("链接须以 http:// 或 https:// 开头。")
        return links

    def progress(self) -> dict[int, float]:
        return {
            t.pk: self.cleaned_data[f"target_{t.pk}"]
            for t in self.targets
            if self.cleaned_data.get(f"target_{t.pk}") is not None
        }


class ReviewForm(VersionedForm, forms.Form):
    comment = forms.CharField(
        label="审核意见 (退回时必填)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


class NoticeForm(forms.Form):
    level = forms.ChoiceField(label="督办级别", choices=NoticeLevel.choices)
    subject = forms.CharField(label="督办事项", max_length=300)
    requirement = forms.CharField(label="督办要求", widget=forms.Textarea(attrs={"rows": 4}))
    answer_by = forms.DateField(label="反馈期限", widget=DATE_INPUT)


class NoticeStepForm(VersionedForm, forms.Form):
    comment = forms.CharField(
        label="说明 (反馈时填写办理情况, 复核时填写复核意见)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )


class OfficeSettingForm(forms.Form):
    warn_days = forms.IntegerField(label="黄灯提前天数 N", min_value=0, max_value=365)
    remind_days = forms.IntegerField(label="轮次截止前提醒天数", min_value=0, max_value=60)
