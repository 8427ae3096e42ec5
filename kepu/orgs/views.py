from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from kepu.orgs import services
from kepu.orgs.forms import STRUCTURAL_FORM_FIELDS, MembershipForm, OrganisationForm
from kepu.orgs.models import Membership, Organisation, OrgKind
from kepu.orgs.scoping import Action, can, can_restructure, get_in_scope
from kepu.orgs.selectors import organisation_list


def _form_error(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_required
def org_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "")
    orgs = organisation_list(user=request.user, query=query, kind=kind)
    return render(
        request,
        "orgs/list.html",
        {
            "orgs": orgs,
            "query": query,
            "kind": kind,
            "kinds": OrgKind.choices,
            "can_add": Organisation.objects.restrict(request.user, Action.ADD).exists()
            or request.user.is_superuser,
        },
    )


@login_required
def org_detail(request: HttpRequest, pk: int) -> HttpResponse:
    org = get_object_or_404(
        Organisation.objects.restrict(request.user, Action.VIEW).select_related("region", "parent"),
        pk=pk,
    )
    members = Membership.objects.restrict(request.user, Action.VIEW).filter(organisation=org)
    return render(
        request,
        "orgs/detail.html",
        {
            "org": org,
            "aliases": org.aliases.all(),
            "members": members.select_related("user"),
            "can_change": can(request.user, org, Action.CHANGE),
            "can_delete": can(request.user, org, Action.DELETE),
            "can_manage": can(request.user, org, Action.MANAGE),
            "member_form": MembershipForm(),
        },
    )


@login_required
def org_create(request: HttpRequest) -> HttpResponse:
    form = OrganisationForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.organisation_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"已新建组织「{org.name}」。")
            return redirect("orgs:detail", pk=org.pk)
    return render(request, "orgs/form.html", {"form": form, "title": "新建组织"})


@login_required
def org_edit(request: HttpRequest, pk: int) -> HttpResponse:
    org = get_in_scope(
        Organisation.objects.select_related("region"), request.user, Action.CHANGE, pk=pk
    )
    initial = {
        "name": org.name,
        "short_name": org.short_name,
        "kind": org.kind,
        "region": org.region.code,
        "parent": org.parent_id,
        "is_member_unit": org.is_member_unit,
        "aliases": "、".join(a.name for a in org.aliases.all()),
    }
    structural = can_restructure(request.user, org)
    if request.method == "POST" and not structural and _posts_structural_change(request, initial):
        raise PermissionDenied(services.RESTRUCTURE_DENIED)
    form = OrganisationForm(
        request.POST or None,
        user=request.user,
        initial=initial,
        organisation=org,
        structural=structural,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.organisation_update(
                user=request.user,
                organisation=org,
                aliases=form.cleaned_data["aliases"],
                **form.changes(),
            )
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("orgs:detail", pk=org.pk)
    return render(
        request, "orgs/form.html", {"form": form, "title": f"编辑: {org.name}", "org": org}
    )


def _posts_structural_change(request: HttpRequest, initial: dict) -> bool:
    """Whether a POST carries a value for a field the user may not change that differs
    from the current one (the form shows those fields disabled, so browsers omit them)."""
    for name in STRUCTURAL_FORM_FIELDS:
        if name not in request.POST:
            continue
        posted = request.POST.get(name, "")
        if name == "is_member_unit":
            if (posted.lower() in ("on", "true", "1")) != bool(initial[name]):
                return True
        elif posted.strip() != ("" if initial[name] is None else str(initial[name])):
            return True
    return False


@login_required
@require_POST
def org_delete(request: HttpRequest, pk: int) -> HttpResponse:
    org = get_in_scope(Organisation, request.user, Action.DELETE, pk=pk)
    try:
        services.organisation_delete(user=request.user, organisation=org)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("orgs:detail", pk=org.pk)
    messages.success(request, f"已删除组织「{org.name}」。")
    return redirect("orgs:list")


@login_required
@require_POST
def member_add(request: HttpRequest, pk: int) -> HttpResponse:
    org = get_in_scope(
        Organisation.objects.select_related("region"), request.user, Action.MANAGE, pk=pk
    )
    form = MembershipForm(request.POST)
    if form.is_valid():
        try:
            services.membership_add(user=request.user, organisation=org, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, f"已添加成员 {form.cleaned_data['username']}。")
    else:
        messages.error(
            request,
            "；".join(f"{form.fields[f].label}: {' '.join(e)}" for f, e in form.errors.items()),
        )
    return redirect("orgs:detail", pk=org.pk)


@login_required
@require_POST
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    membership = get_in_scope(
        Membership.objects.select_related("organisation"), request.user, Action.MANAGE, pk=pk
    )
    try:
        services.membership_remove(user=request.user, membership=membership)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "已移除成员。")
    return redirect("orgs:detail", pk=membership.organisation_id)
