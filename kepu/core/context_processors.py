from __future__ import annotations

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

# The areas of the platform, in menu order. ``url`` is None until the area ships.
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
]


def navigation(request: HttpRequest) -> dict:
    items = []
    path = request.path
    for key, label, url_name in NAV:
        url = None
        if url_name:
            try:
                url = reverse(url_name)
            except NoReverseMatch:
                url = None
        active = url is not None and (path == url if url == "/" else path.startswith(url))
        items.append({"key": key, "label": label, "url": url, "active": active})
    return {"nav_items": items}
