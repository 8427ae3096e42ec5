from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kepu.audit.models import AuditEntry
from kepu.orgs.scoping import Action


@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    entries = AuditEntry.objects.restrict(request.user, Action.VIEW).select_related("content_type")
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "audit/list.html", {"page": page})
