from __future__ import annotations

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from kepu.orgs.scoping import Role, user_grants

# The areas of the platform, in menu order. ``url`` is None until the area ships; such an
# area is left out of the menu (not shown greyed out to everyone).
NAV = [
    ("home", "首页", "home"),
    ("ledger", "任务台账", "plans:ledger"),
    ("progress", "进展填报", "progress:rounds"),
    ("campaigns", "科普活动", "campaigns:list"),
    ("survey", "素质监测", "survey:waves"),
    ("registry", "基地与队伍", "registry:bases"),
    ("statistics", "科普统计", "statistics:index"),
    ("assessment", "考核", None),
    ("orgs", "组织机构", "orgs:list"),
    ("audit", "审计日志", "audit"),
]


def sees_audit(user) -> bool:
    """The audit log shows entries to office administrators only (kepu.audit.models);
    everyone else would find it empty, so the menu offers it to them alone."""
    if getattr(user, "is_superuser", False):
        return True
    return any(g.role == Role.OFFICE_ADMIN for g in user_grants(user))


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    path = request.path
    for key, label, url_name in NAV:
        if url_name is None:
            continue
        if key == "audit" and not sees_audit(user):
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        active = path == url if url == "/" else path.startswith(url)
        items.append({"key": key, "label": label, "url": url, "active": active})
    return {"nav_items": items}
