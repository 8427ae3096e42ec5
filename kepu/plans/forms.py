from __future__ import annotations

from typing import Any

from django import forms

from kepu.core.files import MAX_UPLOAD_BYTES
from kepu.orgs.selectors import office_choices
from kepu.plans.models import KeyGroup, PlanKind, UnitRole


class DocumentUploadForm(forms.Form):
    owner = forms.TypedChoiceField(label="导入单位", coerce=int)
    kind = forms.ChoiceField(
        label="文件类型", choices=PlanKind.choices, initial=PlanKind.IMPLEMENTATION
    )
    document = forms.FileField(label="上传文件 (txt / docx / html, 不超过 10 MB)", required=False)
    text = forms.CharField(
        label="或直接粘贴全文", required=False, widget=forms.Textarea(attrs={"rows": 8})
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = office_choices(user=user)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        upload = data.get("document")
        if not upload and not (data.get("text") or "").strip():
            raise forms.ValidationError("请上传文件或粘贴文件全文。")
        if upload and upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("文件过大, 上限为 10 MB。")
        return data


class LedgerImportForm(forms.Form):
    owner = forms.TypedChoiceField(label="导入单位", coerce=int)
    title = forms.CharField(label="台账名称 (留空则用表格标题行)", max_length=300, required=False)
    kind = forms.ChoiceField(label="类型", choices=PlanKind.choices, initial=PlanKind.ANNUAL)
    workbook = forms.FileField(
        label="Excel 台账 (.xlsx, 表头含 序号/任务内容/牵头单位/配合单位/目标任务/完成时限)"
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = office_choices(user=user)


class LedgerFilterForm(forms.Form):
    plan = forms.TypedChoiceField(label="规划", required=False, coerce=int, empty_value=None)
    section = forms.TypedChoiceField(label="章节", required=False, coerce=int, empty_value=None)
    organisation = forms.TypedChoiceField(
        label="单位", required=False, coerce=int, empty_value=None
    )
    role = forms.ChoiceField(
        label="角色",
        required=False,
        choices=[("", "全部角色"), (UnitRole.LEAD, "牵头"), (UnitRole.COOPERATE, "配合")],
    )
    key_group = forms.ChoiceField(
        label="重点人群", required=False, choices=[("", "全部重点人群"), *KeyGroup.choices]
    )
    has_target = forms.BooleanField(label="只看有量化目标的任务", required=False)
    q = forms.CharField(label="关键词", required=False)


class TaskUnitsForm(forms.Form):
    title = forms.CharField(label="任务", max_length=500)
    lead = forms.CharField(label="牵头单位 (顿号分隔)", required=False)
    cooperate = forms.CharField(label="配合单位", required=False)
    responsible = forms.CharField(label="其他责任单位", required=False)


class TaskDeadlineForm(forms.Form):
    deadline = forms.CharField(
        label="完成时限 (原文, 如「2026年12月底前」「每季度」「长期坚持」)",
        max_length=100,
        required=False,
    )
    due_on = forms.DateField(
        label="截止日期 (留空则按完成时限自动识别)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
