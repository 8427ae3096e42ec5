from __future__ import annotations

import json
from typing import Any, cast

from django import forms
from django.http import QueryDict

from kepu.core.files import DATA, check_upload, check_upload_file
from kepu.core.importing import DataImportError, SheetLimits, csv_rows, decode_csv, xlsx_rows
from kepu.core.types import UserLike
from kepu.core.versioning import VersionedForm
from kepu.orgs.selectors import office_choices
from kepu.plans.models import Target
from kepu.regions.models import Level, Region
from kepu.survey import adapter, config
from kepu.survey.models import BREAKDOWN_LABELS, CIMethod, WaveKind
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


def questionnaire_file_tables(upload: Any) -> config.Tables:
    """The tables of an uploaded questionnaire sheet (xlsx or CSV, checked like every upload)."""
    data = upload.read()
    try:
        ext = check_upload(upload.name, data, DATA)
    except forms.ValidationError as exc:
        raise DataImportError(exc.messages) from exc
    limits = SheetLimits(
        rows=config.MAX_ROWS + 50, cells=(config.MAX_ROWS + 50) * 10, unpacked_bytes=16 << 20
    )
    if ext == ".csv":
        rows = csv_rows(decode_csv(data), max_rows=limits.rows)
    else:
        rows = xlsx_rows(data, limits)
    try:
        return config.sheet_to_tables(rows)
    except config.SheetError as exc:
        raise DataImportError(str(exc)) from exc


def region_choices(user: UserLike) -> list[tuple[int, str]]:
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
    ci_method = forms.ChoiceField(
        label="比例的95%置信区间", choices=CIMethod.choices, initial=CIMethod.LOGIT, required=False
    )
    notes = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    config_mode = forms.ChoiceField(
        label="问卷与计分规则的编辑方式",
        choices=[("table", "表格 (推荐)"), ("json", "JSON (高级)")],
        initial="table",
        required=False,
        widget=forms.RadioSelect,
    )
    config_file = forms.FileField(
        label="从 Excel 导入问卷与计分规则 (可选; 先下载问卷 Excel 修改后导入)", required=False
    )
    questionnaire = JSONTextField(label="问卷 (JSON; 留空使用标准问卷)", required=False)
    scoring = JSONTextField(label="计分规则 (JSON; 留空使用标准计分)", required=False)

    TABLE_FIELDS = ("config_mode", "config_file", "questionnaire", "scoring")
    EXTRA_ROWS = {"items": 5, "dimensions": 2, "bands": 1}

    def __init__(self, *args: Any, user: UserLike, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["owner"]).choices = office_choices(user=user)
        cast(forms.ChoiceField, self.fields["region"]).choices = region_choices(user)
        if editing:
            del self.fields["owner"]
            del self.fields["region"]
        self.previous = (
            self.initial.get("questionnaire") or adapter.default_questionnaire(),
            self.initial.get("scoring") or adapter.default_scoring(),
        )
        # Posts without the tables (scripts, older clients) keep the JSON behaviour.
        self.tables_posted = self.is_bound and "item_id" in self.data
        if self.tables_posted and self.data.get("config_mode", "table") == "table":
            self.tables = self._posted_tables()
        else:
            self.tables = config.config_to_tables(*self.previous)

    def _posted_tables(self) -> config.Tables:
        # Only called for bound forms posted by a browser, whose data is a QueryDict.
        data = cast(QueryDict, self.data)

        def rows(prefix: str, keys: list[str]) -> list[dict[str, str]]:
            columns = [data.getlist(f"{prefix}_{k}") for k in keys]
            count = max((len(c) for c in columns), default=0)
            return [
                {
                    k: (col[i] if i < len(col) else "").strip()
                    for k, col in zip(keys, columns, strict=True)
                }
                for i in range(min(count, config.MAX_ROWS))
            ]

        return config.Tables(
            items=rows("item", ["id", "text", "dimension", "kind", "points", "key", "options"]),
            dimensions=rows("dim", ["label", "points"]),
            bands=rows("band", ["label", "threshold"]),
            literate=data.get("band_literate", ""),
            total=data.get("total_points", ""),
            name=self.previous[0].get("name", ""),
        )

    def table_rows(self) -> dict[str, Any]:
        """The tables for the template, with blank rows to add to."""
        t = self.tables
        blank = {
            "items": dict.fromkeys(
                ["id", "text", "dimension", "kind", "points", "key", "options"], ""
            ),
            "dimensions": {"label": "", "points": ""},
            "bands": {"label": "", "threshold": ""},
        }
        out: dict[str, Any] = {"literate": t.literate, "total": t.total}
        for name in ("items", "dimensions", "bands"):
            rows = [r for r in getattr(t, name) if any(r.values())]
            out[name] = rows + [dict(blank[name]) for _ in range(self.EXTRA_ROWS[name])]
        out["dimension_names"] = [d["label"] for d in t.dimensions if d.get("label")]
        return out

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        mode = cleaned.get("config_mode") or "table"
        upload = cleaned.get("config_file")
        if upload is not None:
            try:
                self.tables = questionnaire_file_tables(upload)
            except DataImportError as exc:
                self.add_error("config_file", exc.errors)
                return cleaned
            mode = "table"
        if mode == "json" or (upload is None and not self.tables_posted):
            return cleaned
        questionnaire, scoring, errors = config.tables_to_config(
            self.tables, previous_questionnaire=self.previous[0], previous_scoring=self.previous[1]
        )
        if errors:
            self.add_error(None, errors)
        else:
            cleaned["questionnaire"], cleaned["scoring"] = questionnaire, scoring
        return cleaned

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
        cast(forms.ChoiceField, self.fields["plan_target"]).choices = [
            ("", "— 不关联 —"),
            *[(t.pk, f"{t.plan.title}: {t.text}") for t in targets],
        ]

    def clean_plan_target(self) -> Target | None:
        pk = self.cleaned_data.get("plan_target")
        return Target.objects.filter(pk=pk).first() if pk else None
