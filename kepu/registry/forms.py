from __future__ import annotations

from typing import Any

from django import forms

from kepu.core.versioning import VersionedForm
from kepu.orgs.forms import RegionCodeField
from kepu.registry.models import BaseCategory, BaseLevel


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
