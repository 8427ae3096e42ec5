from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from kepu.core.forms import form_errors
from kepu.core.pagination import paginate
from kepu.core.versioning import StaleEditError
from kepu.orgs import services
from kepu.orgs.forms import (
    STRUCTURAL_FORM_FIELDS,
    MembershipForm,
    OrganisationEditForm,
    OrganisationForm,
)
from kepu.orgs.models import Membership, Organisation, OrgKind
from kepu.orgs.scoping import Action, can, can_restructure, get_in_scope
from kepu.orgs.selectors import can_act_for_an_office, organisation_list, with_member_counts


@login_required
def org_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    kind = request.GET.get("kind", "")
    page = paginate(request, organisation_list(user=request.user, query=query, kind=kind))
    return render(
        request,
        "orgs/list.html",
        {
            "page": page,
            "orgs": with_member_counts(page.object_list),
            "query": query,
            "kind": kind,
            "kinds": OrgKind.choices,
            "can_add": can_act_for_an_office(user=request.user),
        },
    )


@login_required
def org_detail(request: HttpRequest, pk: int) -> HttpResponse:
    org = get_object_or_404(
        Organisation.objects.restrict(request.user, Action.VIEW).select_related("region", "parent"),
        pk=pk,
    )
    members = (
        Membership.objects.restrict(request.user, Action.VIEW)
        .filter(organisation=org)
        .select_related("user")
        .order_by("user__username", "pk")
    )
    members_page = paginate(request, members)
    return render(
        request,
        "orgs/detail.html",
        {
            "org": org,
            "aliases": org.aliases.all(),
            "members": members_page.object_list,
            "members_page": members_page,
            "can_change": can(request.user, org, Action.CHANGE),
            "can_delete": can(request.user, org, Action.DELETE),
            "can_manage": can(request.user, org, Action.MANAGE),
            "member_form": MembershipForm(),
        },
    )


@login_required
def org_create(request: HttpRequest) -> HttpResponse:
    # Only offices add organisations (a unit's reach is itself: it could add nothing).
    if not can_act_for_an_office(user=request.user):
        raise PermissionDenied("只有办公室可以新建组织。")
    form = OrganisationForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.organisation_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, f"已新建组织「{org.name}」。")
            return redirect("orgs:detail", pk=org.pk)
    return render(request, "orgs/form.html", {"form": form, "title": "新建组织"})


def _org_initial(org: Any) -> dict[str, Any]:
    return {
        "name": org.name,
        "short_name": org.short_name,
        "kind": org.kind,
        "region": org.region.code,
        "parent": org.parent_id,
        "is_member_unit": org.is_member_unit,
        "aliases": "、".join(a.name for a in org.aliases.all()),
        "version": org.version,
    }


@login_required
def org_edit(request: HttpRequest, pk: int) -> HttpResponse:
    org = get_in_scope(
        Organisation.objects.select_related("region"), request.user, Action.CHANGE, pk=pk
    )
    initial = _org_initial(org)
    structural = can_restructure(request.user, org)
    if request.method == "POST" and not structural and _posts_structural_change(request, initial):
        raise PermissionDenied(services.RESTRUCTURE_DENIED)
    form = OrganisationEditForm(
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
        except StaleEditError as exc:
            form.stale(exc, _org_initial(exc.current))
        except ValidationError as exc:
            form_errors(form, exc)
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
            "；".join(
                f"{form.fields[f].label}: {' '.join(str(m) for m in e)}"
                for f, e in form.errors.items()
            ),
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


# --- bulk onboarding: upload → validation preview → confirm (kepu.orgs.bulk) ------------
import secrets  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from django.conf import settings as django_settings  # noqa: E402
from django.contrib.auth.views import PasswordResetConfirmView  # noqa: E402
from django.urls import reverse_lazy  # noqa: E402

from kepu.core.files import xlsx_response  # noqa: E402
from kepu.orgs import bulk  # noqa: E402

_IMPORT_KINDS: dict[str, dict[str, Any]] = {
    "orgs": {
        "title": "批量导入组织",
        "check": bulk.organisations_import_file,
        "template_name": "组织导入模板.xlsx",
        "template": bulk.org_template_xlsx,
        "confirm": "orgs:import_confirm",
        "columns": bulk.ORG_TEMPLATE_HEADER,
    },
    "users": {
        "title": "批量导入用户",
        "check": bulk.users_import_file,
        "template_name": "用户导入模板.xlsx",
        "template": bulk.user_template_xlsx,
        "confirm": "orgs:user_import_confirm",
        "columns": bulk.USER_TEMPLATE_HEADER,
    },
}
_STAGING_SECONDS = 6 * 3600


def _staging_dir() -> Path:
    path = Path(django_settings.MEDIA_ROOT) / "import-staging"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _stage(request: HttpRequest, kind: str, name: str, data: bytes) -> None:
    """Keep a validated upload until it is confirmed (file name known only to the session)."""
    folder = _staging_dir()
    cutoff = time.time() - _STAGING_SECONDS
    for old in folder.glob("*.xlsx"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(24)
    (folder / f"{token}.xlsx").write_bytes(data)
    request.session[f"kepu_import_{kind}"] = {"token": token, "name": name[:200]}


def _unstage(request: HttpRequest, kind: str) -> tuple[str, bytes] | None:
    staged = request.session.pop(f"kepu_import_{kind}", None)
    if not staged or not str(staged.get("token", "")).replace("-", "").replace("_", "").isalnum():
        return None
    path = _staging_dir() / f"{staged['token']}.xlsx"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    path.unlink(missing_ok=True)
    return staged["name"], data


def _import_page(request: HttpRequest, kind: str) -> HttpResponse:
    spec = _IMPORT_KINDS[kind]
    scope = bulk.ImportScope.for_user(request.user)  # PermissionDenied → 403
    errors: list[str] = []
    result = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            errors = ["请选择要上传的 xlsx 文件。"]
        elif (upload.size or 0) > bulk.MAX_FILE_BYTES:
            errors = [f"文件过大, 上限为 {bulk.MAX_FILE_BYTES // 1024 // 1024} MB。"]
        else:
            data = upload.read()
            try:
                result = spec["check"](scope=scope, name=upload.name, data=data, dry_run=True)
            except bulk.BulkImportError as exc:
                errors = exc.errors
            else:
                _stage(request, kind, upload.name or "", data)
    return render(
        request,
        "orgs/import.html",
        {
            "kind": kind,
            "title": spec["title"],
            "columns": spec["columns"],
            "scope": scope,
            "errors": errors,
            "result": result,
            "confirm_url": spec["confirm"],
        },
    )


def _import_template(request: HttpRequest, kind: str) -> HttpResponse:
    bulk.ImportScope.for_user(request.user)
    spec = _IMPORT_KINDS[kind]
    return xlsx_response(spec["template"](), spec["template_name"])


@login_required
def org_import(request: HttpRequest) -> HttpResponse:
    return _import_page(request, "orgs")


@login_required
def org_import_template(request: HttpRequest) -> HttpResponse:
    return _import_template(request, "orgs")


@login_required
@require_POST
def org_import_confirm(request: HttpRequest) -> HttpResponse:
    scope = bulk.ImportScope.for_user(request.user)
    staged = _unstage(request, "orgs")
    if staged is None:
        messages.error(request, "没有待确认的导入 (可能已经导入或已过期), 请重新上传。")
        return redirect("orgs:import")
    name, data = staged
    try:
        result = bulk.organisations_import_file(scope=scope, name=name, data=data)
    except bulk.BulkImportError as exc:
        messages.error(request, "导入失败, 没有保存任何内容: " + "；".join(exc.errors[:5]))
        return redirect("orgs:import")
    messages.success(request, f"已导入 {result.organisations} 个组织、{result.aliases} 个别名。")
    return redirect("orgs:list")


@login_required
def user_import(request: HttpRequest) -> HttpResponse:
    return _import_page(request, "users")


@login_required
def user_import_template(request: HttpRequest) -> HttpResponse:
    return _import_template(request, "users")


@login_required
@require_POST
def user_import_confirm(request: HttpRequest) -> HttpResponse:
    """Create the accounts and answer with the invitation links (only the importer gets them)."""
    scope = bulk.ImportScope.for_user(request.user)
    staged = _unstage(request, "users")
    if staged is None:
        messages.error(request, "没有待确认的导入 (可能已经导入或已过期), 请重新上传。")
        return redirect("orgs:user_import")
    name, data = staged
    try:
        result = bulk.users_import_file(scope=scope, name=name, data=data)
    except bulk.BulkImportError as exc:
        messages.error(request, "导入失败, 没有保存任何内容: " + "；".join(exc.errors[:5]))
        return redirect("orgs:user_import")
    resp = xlsx_response(
        result.links_xlsx(request.build_absolute_uri("/").rstrip("/")), "账号激活链接.xlsx"
    )
    resp["Cache-Control"] = "no-store"
    return resp


class InvitationAcceptView(PasswordResetConfirmView):
    """An imported account sets its first password through its invitation link."""

    token_generator = bulk.invitation_token
    template_name = "orgs/import_invite.html"
    success_url = reverse_lazy("login")
    post_reset_login = False

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        messages.success(self.request, "密码已设置, 请用新密码登录。")
        return super().form_valid(form)


invitation_accept = InvitationAcceptView.as_view()
