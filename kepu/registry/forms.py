from __future__ import annotations

from typing import Any

from django import forms

from kepu.core.autocomplete import AutocompleteWidget
from kepu.core.forms import DATE_INPUT
from kepu.core.types import UserLike
from kepu.core.versioning import VersionedForm
from kepu.orgs.forms import RegionCodeField
from kepu.orgs.models import Organisation
from kepu.orgs.scoping import Action
from kepu.registry.models import (
    MONEY_FIGURES,
    MUSEUM_FIGURES,
    MUSEUM_SECTIONS,
    BaseCategory,
    BaseLevel,
    TeamKind,
)


class BaseForm(VersionedForm):
    name = forms.CharField(label="基地名称", max_length=200)
    level = forms.ChoiceField(label="级别", choices=BaseLevel.choices)
    category = forms.ChoiceField(label="类型", choices=BaseCategory.choices)
    region = RegionCodeField(label="所在区域 (区划代码, 可到乡镇)")
    address = forms.CharField(label="地址", max_length=300, required=False)
    exhibition_area = forms.IntegerField(
        label="展示面积(平方米)", min_value=0, max_value=10_000_000
    )
    opening_days = forms.IntegerField(label="年开放天数", min_value=0, max_value=366)
    annual_visitors = forms.IntegerField(label="年接待人次", min_value=0, max_value=100_000_000)
    free_days = forms.IntegerField(label="免费/优惠开放天数", min_value=0, max_value=366)
    contact_name = forms.CharField(label="联系人 (不公开)", max_length=50, required=False)
    contact_phone = forms.CharField(label="联系电话 (不公开)", max_length=30, required=False)

    def __init__(
        self, *args: Any, organisations: list[tuple[int, str]] | None = None, **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        if organisations is not None:
            self.fields["organisation"] = forms.TypedChoiceField(
                label="依托单位", choices=organisations, coerce=int
            )
            self.order_fields(["organisation"])


class CertifyForm(forms.Form):
    batch = forms.CharField(label="认定批次", max_length=50, required=False)
    valid_from = forms.IntegerField(
        label="有效期起 (年)", min_value=2000, max_value=2100, required=False
    )
    valid_to = forms.IntegerField(
        label="有效期止 (年)", min_value=2000, max_value=2100, required=False
    )


class SheetForm(forms.Form):
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    warn_after = forms.IntegerField(
        label="连续不合格几年预警", min_value=1, max_value=10, initial=1
    )
    revoke_after = forms.IntegerField(
        label="连续不合格几年摘牌", min_value=1, max_value=10, initial=2
    )
    file = forms.FileField(
        label="评分表 Excel (按模板; 不上传则使用平台默认评分表)", required=False
    )


class ExpertForm(VersionedForm):
    name = forms.CharField(label="姓名", max_length=50)
    title = forms.CharField(label="职称/职务", max_length=100, required=False)
    employer = forms.CharField(label="工作单位", max_length=200, required=False)
    fields_text = forms.CharField(label="专业领域 (用顿号分隔)", max_length=400)
    region = RegionCodeField(label="所在区域 (区划代码)")
    available = forms.BooleanField(label="可邀请", required=False, initial=True)
    bio = forms.CharField(
        label="简介", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    phone = forms.CharField(label="联系电话 (不公开)", max_length=30, required=False)


class MuseumForm(VersionedForm):
    name = forms.CharField(label="科技馆名称", max_length=200)
    region = RegionCodeField(label="所在区域 (区划代码)")
    address = forms.CharField(label="地址", max_length=300, required=False)
    building_area = forms.IntegerField(label="建筑面积(平方米)", min_value=0, max_value=10_000_000)
    exhibition_area = forms.IntegerField(
        label="展厅面积(平方米)", min_value=0, max_value=10_000_000
    )
    opened_year = forms.IntegerField(
        label="开馆年份", min_value=1900, max_value=2100, required=False
    )
    free_entry = forms.BooleanField(label="免费开放", required=False, initial=True)
    contact_name = forms.CharField(label="联系人 (不公开)", max_length=50, required=False)
    contact_phone = forms.CharField(label="联系电话 (不公开)", max_length=30, required=False)

    def __init__(
        self, *args: Any, organisations: list[tuple[int, str]] | None = None, **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        if organisations is not None:
            self.fields["organisation"] = forms.TypedChoiceField(
                label="运营单位", choices=organisations, coerce=int
            )
            self.order_fields(["organisation"])


class MuseumReportForm(VersionedForm):
    """The annual report: one field per figure of ``MUSEUM_FIGURES``, then the texts."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for key, label, _ in MUSEUM_FIGURES:
            if key in MONEY_FIGURES:
                self.fields[key] = forms.DecimalField(
                    label=label, min_value=0, max_digits=12, decimal_places=2, required=False
                )
            else:
                self.fields[key] = forms.IntegerField(
                    label=label, min_value=0, max_value=2_000_000_000, required=False
                )
        self.fields["subsidy_use"] = forms.CharField(
            label="免费开放补助资金使用情况",
            required=False,
            max_length=2000,
            widget=forms.Textarea(attrs={"rows": 3}),
        )
        self.fields["summary"] = forms.CharField(
            label="年度工作总结",
            required=False,
            max_length=10000,
            widget=forms.Textarea(attrs={"rows": 6}),
        )

    def sections(self) -> list[tuple[str, list[Any]]]:
        return [
            (name, [self[k] for k, _, s in MUSEUM_FIGURES if s == name]) for name in MUSEUM_SECTIONS
        ]


class TeamForm(VersionedForm):
    name = forms.CharField(label="服务队名称", max_length=200)
    kind = forms.ChoiceField(label="类别", choices=TeamKind.choices)
    region = RegionCodeField(label="所在区域 (区划代码)")
    host = forms.ModelChoiceField(
        label="依托单位 (可选)",
        required=False,
        queryset=Organisation.objects.none(),
        widget=AutocompleteWidget("orgs", placeholder="输入单位名称搜索"),
    )
    leader = forms.CharField(label="队长", max_length=50, required=False)
    founded_on = forms.DateField(label="成立日期", required=False, widget=DATE_INPUT)
    description = forms.CharField(
        label="服务内容", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    active = forms.BooleanField(label="在册", required=False, initial=True)

    def __init__(self, *args: Any, user: UserLike, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # searched within the user's scope; a value outside it makes the form invalid
        self.fields["host"].queryset = Organisation.objects.restrict(user, Action.VIEW)  # type: ignore[attr-defined]


class VolunteerForm(VersionedForm):
    name = forms.CharField(label="姓名", max_length=50)
    id_number = forms.CharField(label="身份证号", max_length=30, required=False)
    phone = forms.CharField(label="手机号", max_length=20, required=False)
    skills = forms.CharField(label="专业特长", max_length=200, required=False)
    joined_on = forms.DateField(label="加入日期", required=False, widget=DATE_INPUT)
    active = forms.BooleanField(label="在册", required=False, initial=True)


class ServiceForm(forms.Form):
    served_on = forms.DateField(label="服务日期", widget=DATE_INPUT)
    hours = forms.DecimalField(
        label="服务时长(小时)", min_value=0, max_value=24, max_digits=4, decimal_places=1
    )
    activity = forms.IntegerField(label="科普活动编号 (可选)", required=False, min_value=1)
    task = forms.IntegerField(label="工作任务编号 (可选)", required=False, min_value=1)
    description = forms.CharField(label="服务内容", max_length=300, required=False)


class ServiceEditForm(VersionedForm, ServiceForm):
    """Correct a service record (the team's office; versioned)."""


class ServiceDeleteForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(label="删除原因", max_length=200)


class VolunteerImportForm(forms.Form):
    file = forms.FileField(label="志愿者名单 (xlsx 或 csv, 按模板)")
