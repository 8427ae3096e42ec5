from __future__ import annotations

from typing import Any

from django import forms

from kepu.core.autocomplete import AutocompleteWidget
from kepu.orgs.models import Organisation, OrgKind
from kepu.orgs.scoping import Action, Role
from kepu.regions.models import Region


class RegionCodeField(forms.Field):
    """A region chosen by its division code."""

    widget = forms.TextInput

    def to_python(self, value: Any) -> Region | None:
        value = (value or "").strip() if isinstance(value, str) else value
        if not value:
            return None
        region = Region.objects.filter(code=value.strip()).first()
        if region is None:
            raise forms.ValidationError("区划代码不存在。")
        return region


class OrganisationForm(forms.Form):
    name = forms.CharField(label="名称", max_length=200)
    short_name = forms.CharField(label="简称", max_length=100, required=False)
    kind = forms.ChoiceField(label="类型", choices=OrgKind.choices)
    region = RegionCodeField(label="所在区域(区划代码)")
    parent = forms.ModelChoiceField(
        label="上级单位",
        queryset=Organisation.objects.none(),
        required=False,
        widget=AutocompleteWidget("orgs", placeholder="输入名称搜索上级单位"),
    )
    is_member_unit = forms.BooleanField(label="纲要成员单位", required=False)
    aliases = forms.CharField(
        label="别名(文件中的其他写法, 用逗号或顿号分隔)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = Organisation.objects.restrict(user, Action.VIEW).order_by(
            "name"
        )


class MembershipForm(forms.Form):
    username = forms.CharField(label="用户名", max_length=150)
    full_name = forms.CharField(label="姓名", max_length=150, required=False)
    role = forms.ChoiceField(label="角色", choices=Role.choices)
    password = forms.CharField(
        label="初始密码(新用户必填)", required=False, widget=forms.PasswordInput, min_length=8
    )
