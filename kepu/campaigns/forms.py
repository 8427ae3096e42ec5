from __future__ import annotations

from typing import Any

from django import forms

from kepu.campaigns.models import ActivityType, CampaignKind, Mode
from kepu.core.forms import DATE_INPUT, DATETIME_INPUT
from kepu.core.versioning import VersionedForm
from kepu.orgs.forms import RegionCodeField
from kepu.orgs.models import OrgKind
from kepu.orgs.services import split_names
from kepu.plans.models import KeyGroup

DATE = DATE_INPUT
DATETIME = DATETIME_INPUT


class CampaignForm(VersionedForm):
    title = forms.CharField(label="名称", max_length=200)
    kind = forms.ChoiceField(label="类型", choices=CampaignKind.choices)
    year = forms.IntegerField(label="年份", min_value=2000, max_value=2100)
    theme = forms.CharField(label="主题", max_length=200, required=False)
    event_start = forms.DateField(label="活动开始", widget=DATE)
    event_end = forms.DateField(label="活动结束", widget=DATE)
    registration_start = forms.DateField(label="登记开始", widget=DATE)
    registration_end = forms.DateField(label="登记截止", widget=DATE)
    completion_deadline = forms.DateField(label="信息完善截止", widget=DATE, required=False)
    summary_deadline = forms.DateField(label="总结报送截止", widget=DATE, required=False)
    two_tier_review = forms.BooleanField(
        label="两级审核 (县级办公室初审, 再由本办公室审定)", required=False
    )
    summary_columns = forms.CharField(
        label="汇总表列 (用顿号分隔)", required=False, max_length=1000
    )

    def __init__(self, *args: Any, owners: list[tuple[int, str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if owners is not None:
            self.fields["owner"] = forms.TypedChoiceField(
                label="组织单位", choices=owners, coerce=int
            )

    def clean_summary_columns(self) -> list[str]:
        return split_names(self.cleaned_data.get("summary_columns") or "")[:40]


class QuotaForm(forms.Form):
    who = forms.CharField(label="对象", max_length=200, required=False)
    min_count = forms.IntegerField(label="至少场次", min_value=1, max_value=100000, required=False)
    kinds = forms.MultipleChoiceField(
        label="适用的组织类型",
        choices=OrgKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("who") and not data.get("min_count"):
            self.add_error("min_count", "请填写场次要求。")
        if data.get("who") and not data.get("kinds"):
            self.add_error("kinds", "请选择至少一种组织类型。")
        return data


QuotaFormSet = forms.formset_factory(QuotaForm, extra=2, max_num=20, absolute_max=20)


class CampaignUploadForm(forms.Form):
    file = forms.FileField(label="活动方案文件 (txt、docx、html)")


class ActivityForm(VersionedForm):
    title = forms.CharField(label="活动名称", max_length=200)
    kind = forms.ChoiceField(label="活动类型", choices=ActivityType.choices)
    starts_at = forms.DateTimeField(label="开始时间", widget=DATETIME)
    ends_at = forms.DateTimeField(label="结束时间", widget=DATETIME)
    region = RegionCodeField(label="活动地点区划代码 (县或乡镇)")
    address = forms.CharField(label="详细地址", max_length=300, required=False)
    mode = forms.ChoiceField(label="形式", choices=Mode.choices)
    link = forms.URLField(label="线上链接", required=False, max_length=200, assume_scheme="https")
    co_organisers = forms.CharField(label="协办单位", max_length=500, required=False)
    audience = forms.CharField(label="面向对象", max_length=200, required=False)
    key_groups = forms.MultipleChoiceField(
        label="重点人群",
        choices=KeyGroup.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    expected_participants = forms.IntegerField(
        label="预计参与人数", min_value=0, max_value=10_000_000, initial=0
    )
    summary = forms.CharField(
        label="活动简介", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    latitude = forms.FloatField(label="纬度 (可选)", required=False, min_value=-90, max_value=90)
    longitude = forms.FloatField(label="经度 (可选)", required=False, min_value=-180, max_value=180)
    contact_name = forms.CharField(label="联系人 (不公开)", max_length=50, required=False)
    contact_phone = forms.CharField(label="联系电话 (不公开)", max_length=30, required=False)
    volunteers = forms.CharField(
        label="参与的志愿者/专家",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    poster = forms.FileField(label="海报图片 (可选)", required=False)

    def __init__(self, *args: Any, organisers: list[tuple[int, str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if organisers is not None:
            self.fields["organiser"] = forms.TypedChoiceField(
                label="主办单位", choices=organisers, coerce=int
            )
            self.order_fields(["organiser"])


class CompleteForm(VersionedForm):
    actual_participants = forms.IntegerField(
        label="实际参与人数", min_value=0, max_value=10_000_000
    )
    result_summary = forms.CharField(
        label="活动总结", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    news_links = forms.CharField(
        label="新闻/视频链接 (每行一个)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class PhotoForm(forms.Form):
    image = forms.FileField(label="活动照片")
    caption = forms.CharField(label="说明", max_length=200, required=False)


class ReviewForm(forms.Form):
    comment = forms.CharField(
        label="审核意见 (退回时必填)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class UnpublishForm(forms.Form):
    reason = forms.CharField(
        label="撤销原因 (必填, 将通知主办单位)",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReopenForm(forms.Form):
    until = forms.DateField(label="重新开放至", widget=DATE)
