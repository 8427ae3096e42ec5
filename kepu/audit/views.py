from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kepu.audit import selectors
from kepu.audit.forms import AuditFilterForm
from kepu.core.pagination import paginate


@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    form.is_valid()
    entries = selectors.audit_entries(user=request.user, filters=form.filters())
    page = paginate(request, entries)
    return render(
        request,
        "audit/list.html",
        {"page": page, "rows": selectors.entry_rows(page.object_list), "form": form},
    )
