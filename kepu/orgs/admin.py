from django.contrib import admin

from kepu.orgs.models import Membership, Organisation, OrganisationAlias


class AliasInline(admin.TabularInline):
    model = OrganisationAlias
    extra = 1


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "short_name", "kind", "region", "is_member_unit", "is_active")
    list_filter = ("kind", "is_member_unit", "is_active")
    search_fields = ("name", "short_name", "aliases__name", "region__code")
    raw_id_fields = ("region", "parent")
    inlines = [AliasInline, MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organisation", "role")
    list_filter = ("role",)
    raw_id_fields = ("user", "organisation")
