from __future__ import annotations

from typing import Any

from django import forms

from kepu.core.autocomplete import AutocompleteWidget
from kepu.core.files import MAX_UPLOAD_BYTES
from kepu.orgs.models import Organisation
from kepu.orgs.scoping import Action
from kepu.orgs.selectors import office_choices, regions_in_scope
from kepu.plans.models import KeyGroup, Plan, PlanKind, Section, UnitRole
from kepu.plans.selectors import MAX_SECTIONS_SHOWN
from kepu.regions.models import Region


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
    title = forms.CharField(label="台账名称", max_length=300)
    kind = forms.ChoiceField(label="类型", choices=PlanKind.choices, initial=PlanKind.ANNUAL)
    workbook = forms.FileField(
        label="Excel 台账 (.xlsx, 表头含 序号/任务内容/牵头单位/配合单位/目标任务/完成时限)"
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = office_choices(user=user)


class LedgerFilterForm(forms.Form):
    """The ledger's filters. Plan, unit and region are searched (autocomplete) within the
    user's scope, never listed; a value outside the scope makes the form invalid."""

    plan = forms.ModelChoiceField(
        label="规划",
        required=False,
        queryset=Plan.objects.none(),
        widget=AutocompleteWidget("plans", placeholder="全部规划(输入标题搜索)"),
    )
    region = forms.ModelChoiceField(
        label="区域",
        required=False,
        queryset=Region.objects.none(),
        to_field_name="code",
        widget=AutocompleteWidget("regions", placeholder="全部区域(名称或区划代码)"),
    )
    section = forms.TypedChoiceField(label="章节", required=False, coerce=int, empty_value=None)
    organisation = forms.ModelChoiceField(
        label="单位",
        required=False,
        queryset=Organisation.objects.none(),
        widget=AutocompleteWidget("orgs", placeholder="全部单位(输入名称搜索)"),
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
    q = forms.CharField(label="关键词", required=False, max_length=100)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = Plan.objects.restrict(user, Action.VIEW)
        self.fields["organisation"].queryset = Organisation.objects.restrict(user, Action.VIEW)
        self.fields["region"].queryset = regions_in_scope(user=user)
        plan_id = str(self.data.get("plan") or "")
        sections = (
            Section.objects.restrict(user, Action.VIEW)
            .filter(plan_id=int(plan_id))
            .order_by("order", "pk")
            .values_list("pk", "depth", "title")[:MAX_SECTIONS_SHOWN]
            if plan_id.isdigit()
            else []
        )
        self.fields["section"].choices = [
            ("", "全部章节"),
            *[(pk, f"{'　' * depth}{title}") for pk, depth, title in sections],
        ]


class TaskUnitsForm(forms.Form):
    title = forms.CharField(label="任务", max_length=500)
    lead = forms.CharField(label="牵头单位 (顿号分隔)", required=False)
    cooperate = forms.CharField(label="配合单位", required=False)
    responsible = forms.CharField(label="其他责任单位", required=False)
