from __future__ import annotations

import json
from typing import Any

from django import forms

from kepu.core.files import DATA, check_upload_file
from kepu.core.versioning import VersionedForm
from kepu.orgs.selectors import office_choices
from kepu.plans.models import Target
from kepu.regions.models import Level, Region
from kepu.survey.models import BREAKDOWN_LABELS, WaveKind
from kepu.survey.services import MARGIN_VARIABLES


class JSONTextField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 8, "class": "mono"})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict | list):
            return json.dumps(value, ensure_ascii=False, indent=2)
        return value

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        if not value:
            return None
        try:
            data = json.loads(value)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"不是有效的 JSON: 第{exc.lineno}行第{exc.colno}列 {exc.msg}"
            ) from exc
        if not isinstance(data, dict):
            raise forms.ValidationError("应为 JSON 对象 ({...})。")
        return data


def region_choices(user: Any) -> list[tuple[int, str]]:
    """Regions a wave may cover: each office's region and its children (down to county)."""
    ids: list[tuple[int, str]] = []
    seen: set[int] = set()
    offices = office_choices(user=user)
    from kepu.orgs.models import Organisation

    for org in Organisation.objects.filter(pk__in=[pk for pk, _ in offices]).select_related(
        "region"
    ):
        region = org.region
        for r in [region, *region.children.filter(level__lte=Level.COUNTY).order_by("code")]:
            if r.pk not in seen:
                seen.add(r.pk)
                indent = "" if r.pk == region.pk else "　"
                ids.append((r.pk, f"{indent}{r.name} ({r.code})"))
    return ids


class WaveForm(VersionedForm, forms.Form):
    owner = forms.TypedChoiceField(label="负责单位", coerce=int)
    title = forms.CharField(label="名称", max_length=200)
    kind = forms.ChoiceField(label="调查类型", choices=WaveKind.choices, initial=WaveKind.LOCAL)
    year = forms.IntegerField(label="调查年份", min_value=2000, max_value=2100, initial=2026)
    region = forms.TypedChoiceField(label="调查区域", coerce=int)
    min_n = forms.IntegerField(
        label="最少样本量 (低于此值的分组标注为需谨慎解读)", min_value=2, initial=30
    )
    max_rse = forms.FloatField(label="最大相对标准误 (%)", min_value=1, max_value=100, initial=30)
    questionnaire = JSONTextField(label="问卷 (JSON; 留空使用标准问卷)", required=False)
    scoring = JSONTextField(label="计分规则 (JSON; 留空使用标准计分)", required=False)
    notes = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, user: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = office_choices(user=user)
        self.fields["region"].choices = region_choices(user)
        if editing:
            del self.fields["owner"]
            del self.fields["region"]

    def clean_region(self) -> Region:
        return Region.objects.get(pk=self.cleaned_data["region"])


class DataImportForm(forms.Form):
    datafile = forms.FileField(
        label=f"受访者数据 (CSV 或 xlsx, UTF-8 或 GBK, 不超过 {DATA.max_mb} MB)"
    )

    def clean_datafile(self) -> Any:
        upload = self.cleaned_data["datafile"]
        check_upload_file(upload, DATA)  # by its size, before it is read
        return upload


class MarginImportForm(forms.Form):
    variable = forms.ChoiceField(
        label="变量 (文件表头为 value,Freq 时必选)",
        required=False,
        choices=[("", "由文件表头确定"), *[(v, BREAKDOWN_LABELS[v]) for v in MARGIN_VARIABLES]],
    )
    marginfile = forms.FileField(label="总体边际文件 (CSV: variable,value,Freq 或 value,Freq)")

    def clean_marginfile(self) -> Any:
        upload = self.cleaned_data["marginfile"]
        check_upload_file(upload, DATA)
        return upload


class MarginEntryForm(forms.Form):
    variable = forms.ChoiceField(
        label="变量", choices=[(v, BREAKDOWN_LABELS[v]) for v in MARGIN_VARIABLES]
    )
    lines = forms.CharField(
        label="类别与总体人数 (每行一个, 如「男,1520000」)",
        widget=forms.Textarea(attrs={"rows": 6}),
    )

    def clean_lines(self) -> list[tuple[str, str]]:
        pairs = []
        for line in self.cleaned_data["lines"].splitlines():
            line = line.strip().replace("，", ",").replace("\t", ",")
            if not line:
                continue
            category, _, population = line.rpartition(",")
            pairs.append((category.strip(), population.strip()))
        if not pairs:
            raise forms.ValidationError("请至少填写一行。")
        return pairs


class TargetForm(forms.Form):
    year = forms.IntegerField(label="目标年份", min_value=2000, max_value=2100)
    rate = forms.FloatField(label="目标比例 (%)", min_value=0.1, max_value=100)
    label = forms.CharField(label="说明 (如「2025年达到13%」)", required=False, max_length=200)
    plan_target = forms.TypedChoiceField(
        label="对应规划目标 (可选)", required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: Any, targets: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["plan_target"].choices = [
            ("", "— 不关联 —"),
            *[(t.pk, f"{t.plan.title}: {t.text}") for t in targets],
        ]

    def clean_plan_target(self) -> Target | None:
        pk = self.cleaned_data.get("plan_target")
        return Target.objects.filter(pk=pk).first() if pk else None
