from __future__ import annotations

from typing import Any, cast

from django import forms

from kepu.core.autocomplete import AutocompleteWidget
from kepu.core.types import UserLike
from kepu.core.versioning import VersionedForm
from kepu.orgs.models import Organisation, OrganisationAlias, OrgKind
from kepu.orgs.scoping import Action, Role
from kepu.orgs.services import split_names
from kepu.regions.models import Region

STRUCTURAL_FORM_FIELDS = ("kind", "region", "parent", "is_member_unit")
ALIAS_MAX_LENGTH: int = OrganisationAlias._meta.get_field("name").max_length or 0


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
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(
        self,
        *args: Any,
        user: UserLike,
        organisation: Organisation | None = None,
        structural: bool = True,
        **kwargs: Any,
    ) -> None:
        """``structural=False`` shows kind, region, parent and the member-unit flag
        read-only: the user may not change them (Django ignores posted values of
        disabled fields and keeps the initial ones)."""
        super().__init__(*args, **kwargs)
        parents = Organisation.objects.restrict(user, Action.VIEW)
        if organisation is not None:
            parents = parents.exclude(pk=organisation.pk)
        self.structural = structural
        if not structural:
            for name in STRUCTURAL_FORM_FIELDS:
                self.fields[name].disabled = True
                self.fields[name].help_text = "只有上级办公室的管理员可以修改此项。"
            if organisation is not None and organisation.parent_id is not None:
                # Shown as it is, even when the parent is outside the user's sight.
                parents = Organisation.objects.filter(pk=organisation.parent_id)
        cast(forms.ModelChoiceField, self.fields["parent"]).queryset = parents.order_by("name")

    def clean_aliases(self) -> str:
        value = self.cleaned_data["aliases"]
        too_long = [n for n in split_names(value) if len(n) > ALIAS_MAX_LENGTH]
        if too_long:
            raise forms.ValidationError(f"每个别名不超过 {ALIAS_MAX_LENGTH} 个字。")
        return value

    def changes(self) -> dict[str, Any]:
        """The cleaned fields to save (structural ones only when the user may change them)."""
        data = {k: v for k, v in self.cleaned_data.items() if k != "aliases"}
        if not self.structural:
            for name in STRUCTURAL_FORM_FIELDS:
                data.pop(name, None)
        return data


class OrganisationEditForm(VersionedForm, OrganisationForm):
    """Editing an existing organisation carries the version it was opened at."""


class MembershipForm(forms.Form):
    username = forms.CharField(label="用户名", max_length=150)
    full_name = forms.CharField(label="姓名", max_length=150, required=False)
    role = forms.ChoiceField(label="角色", choices=Role.choices)
    password = forms.CharField(
        label="初始密码(新用户必填)", required=False, widget=forms.PasswordInput, min_length=8
    )
