from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from kepu.core.autocomplete import AutocompleteWidget
from kepu.core.files import DOCUMENT, SHEET, check_upload_file
from kepu.core.forms import DATE_INPUT
from kepu.core.types import UserLike
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

    def __init__(self, *args: Any, user: UserLike, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["owner"]).choices = office_choices(user=user)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
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

    def __init__(self, *args: Any, user: UserLike, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["owner"]).choices = office_choices(user=user)

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
    """The plan fields of the preview page; its tasks and units are :class:`PreviewTaskForm`
    and :class:`PreviewUnitForm` (prefixes ``t<i>`` and ``u<j>``), bundled in
    :class:`PlanPreviewForms`."""

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
    issuer = forms.CharField(
        label="发文机关",
        max_length=200,
        required=False,
        error_messages={"max_length": "发文机关最多 200 个字。"},
    )
    doc_number = forms.CharField(
        label="文号",
        max_length=100,
        required=False,
        error_messages={"max_length": "文号最多 100 个字。"},
    )
    issued_on = forms.DateField(
        label="发文日期",
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "发文日期格式应为 YYYY-MM-DD。"},
    )
    period_start = _year_field("起始年")
    period_end = _year_field("截止年")

    def clean_issued_on(self) -> Any:
        issued = self.cleaned_data.get("issued_on")
        lo, hi = PERIOD_YEARS
        if issued is not None and not lo <= issued.year <= hi:
            raise forms.ValidationError(f"发文日期应在 {lo} 到 {hi} 年之间。")
        return issued

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("period_start"), data.get("period_end")
        if start is not None and end is not None and start > end:
            self.add_error("period_end", "时期的起始年不能晚于截止年。")
        return data


UNIT_NAME_MAX = 200
TASK_TITLE_MAX = 500
DEADLINE_MAX = 100


class _Shared:
    """A field that every instance of its form shares instead of deep-copying it: the
    preview builds one form per task (thousands for a national ledger) and the copies were
    most of its cost. Only for fields nothing changes per instance (messages that name
    the task are raised by the form's ``clean_*`` methods, not set on the field)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return self


class _SharedChar(_Shared, forms.CharField):
    pass


class _SharedBool(_Shared, forms.BooleanField):
    pass


class PreviewTaskForm(forms.Form):
    """One task of the preview. A field absent from the POST keeps what the parser found
    (:meth:`edit` gives ``None`` for it); an unticked ``include`` leaves the task out."""

    include = _SharedBool(label="导入", required=False)
    title = _SharedChar(label="任务", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    lead = _SharedChar(label="牵头单位", required=False)
    cooperate = _SharedChar(label="配合单位", required=False)
    responsible = _SharedChar(label="其他责任单位", required=False)
    deadline = _SharedChar(label="完成时限", required=False)

    def __init__(self, *args: Any, index: int, **kwargs: Any) -> None:
        kwargs["prefix"] = f"t{index}"
        super().__init__(*args, **kwargs)
        self.index = index

    def clean_title(self) -> str:
        title = self.cleaned_data.get("title") or ""
        if len(title) > TASK_TITLE_MAX:
            raise forms.ValidationError(
                f"第{self.index + 1}项任务的标题过长 (上限 {TASK_TITLE_MAX} 字, 现有 {len(title)} 字)。"
            )
        return title

    def clean_deadline(self) -> str:
        deadline = self.cleaned_data.get("deadline") or ""
        if len(deadline) > DEADLINE_MAX:
            raise forms.ValidationError(
                f"第{self.index + 1}项任务的完成时限过长 (上限 {DEADLINE_MAX} 字)。"
            )
        return deadline

    def _names(self, key: str) -> list[str]:
        names = split_names(self.cleaned_data.get(key) or "")
        too_long = [name for name in names if len(name) > UNIT_NAME_MAX]
        if too_long:
            raise forms.ValidationError(
                f"第{self.index + 1}项任务的单位名称过长 (上限 {UNIT_NAME_MAX} 字): "
                f"「{too_long[0][:20]}……」。"
            )
        return names

    def clean_lead(self) -> list[str]:
        return self._names("lead")

    def clean_cooperate(self) -> list[str]:
        return self._names("cooperate")

    def clean_responsible(self) -> list[str]:
        return self._names("responsible")

    def _posted(self, name: str) -> bool:
        return self.add_prefix(name) in self.data

    def edit(self) -> TaskEdit:
        d = self.cleaned_data
        return TaskEdit(
            index=self.index,
            include=bool(d["include"]),
            title=(d["title"] or "").strip() or None,
            lead=d["lead"] if self._posted("lead") else None,
            cooperate=d["cooperate"] if self._posted("cooperate") else None,
            responsible=d["responsible"] if self._posted("responsible") else None,
            deadline=(d["deadline"] or "").strip() if self._posted("deadline") else None,
        )


class PreviewUnitForm(forms.Form):
    """What to do with one unit name of the document: link it to an organisation (its id),
    create one (``new``, of ``kind``) or leave it unlinked (empty). ``alias`` (learn the
    document's spelling as an alias of the organisation) is off unless ticked."""

    org = _SharedChar(label="对应组织", required=False)
    alias = _SharedBool(label="添加为别名", required=False)
    kind = _SharedChar(label="新建组织的类型", required=False)

    def __init__(self, *args: Any, index: int, name: str, **kwargs: Any) -> None:
        kwargs["prefix"] = f"u{index}"
        super().__init__(*args, **kwargs)
        self.name = name

    def clean_org(self) -> str:
        value = (self.cleaned_data.get("org") or "").strip()
        if value not in ("", "new") and not value.isdigit():
            raise forms.ValidationError(f"单位「{self.name}」的对应组织无效, 请重新选择。")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind") or OrgKind.DEPARTMENT
        if data.get("org") == "new" and kind not in OrgKind.values:
            self.add_error("kind", f"单位「{self.name}」的新建组织类型无效, 请重新选择。")
        data["kind"] = kind
        return data

    def choice(self) -> UnitChoice:
        d = self.cleaned_data
        if d["org"] == "new":
            return UnitChoice(create_kind=d["kind"])
        if d["org"]:
            return UnitChoice(organisation_id=int(d["org"]), add_alias=bool(d["alias"]))
        return UnitChoice()  # explicitly unmatched


class PlanPreviewForms:
    """The preview page as forms: the plan's fields, one form per parsed task and one per
    unit name. The number of tasks and units comes from the draft, never from the POST."""

    def __init__(
        self,
        data: Any = None,
        *,
        parsed: dict[str, Any],
        unit_names: list[str],
        default_kind: str = PlanKind.OTHER,
        default_title: str = "",
        unit_initial: dict[str, str] | None = None,
    ) -> None:
        self.default_kind = default_kind
        period = parsed.get("period") or [None, None]
        self.plan = PlanPreviewForm(
            data,
            initial={
                "title": parsed.get("title") or default_title,
                "kind": default_kind,
                "issuer": parsed.get("issuer") or "",
                "doc_number": parsed.get("doc_number") or "",
                "issued_on": parsed.get("issued_on") or "",
                "period_start": period[0],
                "period_end": period[1],
            },
        )
        self.tasks = [
            PreviewTaskForm(data, index=i, initial=_task_initial(t))
            for i, t in enumerate(parsed.get("tasks") or [])
        ]
        unit_initial = unit_initial or {}
        self.units = [
            PreviewUnitForm(
                data,
                index=j,
                name=name,
                initial={"org": unit_initial.get(name, ""), "kind": OrgKind.DEPARTMENT},
            )
            for j, name in enumerate(unit_names)
        ]

    def _all(self) -> list[forms.Form]:
        return [self.plan, *self.tasks, *self.units]

    def is_valid(self) -> bool:
        return all([f.is_valid() for f in self._all()])  # every form, for every error

    def error_count(self) -> int:
        return sum(len(errors) for f in self._all() for errors in f.errors.values())

    def plan_fields(self) -> PlanFields:
        d = self.plan.cleaned_data
        return PlanFields(
            title=d["title"].strip(),
            kind=d["kind"] or self.default_kind,
            issuer=d["issuer"].strip(),
            doc_number=d["doc_number"].strip(),
            issued_on=d["issued_on"],
            period_start=d["period_start"],
            period_end=d["period_end"],
            tasks=[f.edit() for f in self.tasks],
        )

    def unit_choices(self) -> dict[str, UnitChoice]:
        return {f.name: f.choice() for f in self.units}


def _task_initial(task: dict[str, Any]) -> dict[str, Any]:
    lead, coop = task.get("lead") or [], task.get("cooperate") or []
    return {
        "include": True,
        "title": task.get("title") or "",
        "lead": "、".join(lead),
        "cooperate": "、".join(coop),
        "responsible": "、".join(
            n for n in task.get("responsible") or [] if n not in lead and n not in coop
        ),
        "deadline": (task.get("deadline") or {}).get("text") or "",
    }


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

    def __init__(self, *args: Any, user: UserLike, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["plan"]).queryset = Plan.objects.restrict(
            user, Action.VIEW
        )
        cast(
            forms.ModelChoiceField, self.fields["organisation"]
        ).queryset = Organisation.objects.restrict(user, Action.VIEW)
        cast(forms.ModelChoiceField, self.fields["region"]).queryset = regions_in_scope(user=user)
        plan_id = str(self.data.get("plan") or "")
        sections = (
            Section.objects.restrict(user, Action.VIEW)
            .filter(plan_id=int(plan_id))
            .order_by("order", "pk")
            .values_list("pk", "depth", "title")[:MAX_SECTIONS_SHOWN]
            if plan_id.isdigit()
            else []
        )
        cast(forms.ChoiceField, self.fields["section"]).choices = [
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
        widget=DATE_INPUT,
    )
