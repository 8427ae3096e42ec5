from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from kepu.core.autocomplete import AutocompleteWidget
from kepu.core.files import DOCUMENT, SHEET, check_upload_file
from kepu.core.versioning import VersionedForm
from kepu.orgs.models import Organisation, OrgKind
from kepu.orgs.scoping import Action
from kepu.orgs.selectors import office_choices, regions_in_scope
from kepu.orgs.services import split_names
from kepu.plans.models import KeyGroup, Plan, PlanKind, Section, UnitRole
from kepu.plans.selectors import MAX_SECTIONS_SHOWN
from kepu.plans.services import PERIOD_YEARS, PlanFields, TaskEdit, UnitChoice
from kepu.regions.models import Region


class DocumentUploadForm(forms.Form):
    owner = forms.TypedChoiceField(label="导入单位", coerce=int)
    kind = forms.ChoiceField(
        label="文件类型", choices=PlanKind.choices, initial=PlanKind.IMPLEMENTATION
    )
    document = forms.FileField(
        label=(
            f"上传文件 (docx / 带文字的 pdf / txt / html, 不超过 {DOCUMENT.max_mb} MB; "
            ".doc/.wps 请先另存为 .docx)"
        ),
        required=False,
    )
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
        if upload:
            try:
                check_upload_file(upload, DOCUMENT)
            except forms.ValidationError as exc:
                self.add_error("document", exc)
        return data


class LedgerImportForm(forms.Form):
    owner = forms.TypedChoiceField(label="导入单位", coerce=int)
    title = forms.CharField(label="台账名称 (留空则用表格标题行)", max_length=300, required=False)
    kind = forms.ChoiceField(label="类型", choices=PlanKind.choices, initial=PlanKind.ANNUAL)
    workbook = forms.FileField(
        label=(
            "Excel 台账 (.xlsx 或 .xls, 表头含 序号/任务内容/牵头单位/配合单位/目标任务/完成时限, "
            f"不超过 {SHEET.max_mb} MB)"
        )
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = office_choices(user=user)

    def clean_workbook(self) -> Any:
        upload = self.cleaned_data["workbook"]
        check_upload_file(upload, SHEET)
        return upload


def _year_field(label: str) -> forms.IntegerField:
    lo, hi = PERIOD_YEARS
    return forms.IntegerField(
        label=label,
        required=False,
        validators=[MinValueValidator(lo), MaxValueValidator(hi)],
        error_messages={
            "invalid": f"{label}应为 {lo} 到 {hi} 之间的年份。",
            "min_value": f"{label}应为 {lo} 到 {hi} 之间的年份。",
            "max_value": f"{label}应为 {lo} 到 {hi} 之间的年份。",
        },
    )


class PlanPreviewForm(forms.Form):
    """The plan fields of the preview page (the tasks and units are posted beside them as
    ``t<i>-…`` and ``u<j>-…`` and read by :meth:`plan_fields` / :meth:`unit_choices`)."""

    title = forms.CharField(
        label="标题",
        max_length=300,
        error_messages={"required": "请填写规划标题。", "max_length": "标题最多 300 个字。"},
    )
    kind = forms.ChoiceField(
        label="类型",
        choices=PlanKind.choices,
        required=False,
        error_messages={"invalid_choice": "类型「%(value)s」无效, 请从列表中选择。"},
    )
    issuer = forms.CharField(label="发文机关", max_length=200, required=False)
    doc_number = forms.CharField(label="文号", max_length=100, required=False)
    issued_on = forms.DateField(
        label="发文日期",
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "发文日期格式应为 YYYY-MM-DD。"},
    )
    period_start = _year_field("起始年")
    period_end = _year_field("截止年")

    def __init__(
        self,
        *args: Any,
        task_count: int,
        unit_names: list[str],
        default_kind: str = PlanKind.OTHER,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.default_kind = default_kind
        self.task_count = task_count
        self.unit_names = unit_names

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start is not None and end is not None and start > end:
            self.add_error("period_end", "时期的起始年不能晚于截止年。")
        post = self.data
        for i in range(self.task_count):
            title = (post.get(f"t{i}-title") or "").strip()
            if len(title) > 500:
                self.add_error(None, f"第{i + 1}项任务的标题过长 (上限 500 字)。")
            for key in ("lead", "cooperate", "responsible"):
                if any(len(n) > 200 for n in split_names(post.get(f"t{i}-{key}") or "")):
                    self.add_error(None, f"第{i + 1}项任务的单位名称过长 (上限 200 字)。")
        kinds = set(OrgKind.values)
        for j, name in enumerate(self.unit_names):
            value = post.get(f"u{j}-org", "")
            if value not in ("", "new") and not value.isdigit():
                self.add_error(None, f"单位「{name}」的对应组织无效, 请重新选择。")
            if value == "new" and (post.get(f"u{j}-kind") or OrgKind.DEPARTMENT) not in kinds:
                self.add_error(None, f"单位「{name}」的新建组织类型无效, 请重新选择。")
        return data

    def plan_fields(self) -> PlanFields:
        d, post = self.cleaned_data, self.data

        def names(key: str) -> list[str] | None:
            return split_names(post.get(key)) if key in post else None

        edits = [
            TaskEdit(
                index=i,
                include=post.get(f"t{i}-include") == "on",
                title=(post.get(f"t{i}-title") or "").strip() or None,
                lead=names(f"t{i}-lead"),
                cooperate=names(f"t{i}-cooperate"),
                responsible=names(f"t{i}-responsible"),
                deadline=(post.get(f"t{i}-deadline") or "").strip()[:100]
                if f"t{i}-deadline" in post
                else None,
            )
            for i in range(self.task_count)
        ]
        return PlanFields(
            title=d["title"].strip(),
            kind=d["kind"] or self.default_kind,
            issuer=d["issuer"].strip(),
            doc_number=d["doc_number"].strip(),
            issued_on=d["issued_on"],
            period_start=d["period_start"],
            period_end=d["period_end"],
            tasks=edits,
        )

    def unit_choices(self) -> dict[str, UnitChoice]:
        post = self.data
        choices: dict[str, UnitChoice] = {}
        for j, name in enumerate(self.unit_names):
            value = post.get(f"u{j}-org", "")
            if value == "new":
                choices[name] = UnitChoice(create_kind=post.get(f"u{j}-kind") or OrgKind.DEPARTMENT)
            elif value.isdigit():
                choices[name] = UnitChoice(
                    organisation_id=int(value), add_alias=post.get(f"u{j}-alias") == "on"
                )
            else:
                choices[name] = UnitChoice()  # explicitly unmatched
        return choices

    def error_messages(self) -> list[str]:
        """Every error, each with its field's label, for the message box of the page."""
        out: list[str] = []
        for field, errors in self.errors.items():
            label = self.fields[field].label if field in self.fields else ""
            out.extend(f"{label}: {e}" if label else str(e) for e in errors)
        return out


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


class TaskUnitsForm(VersionedForm, forms.Form):
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
