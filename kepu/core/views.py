from __future__ import annotations

import functools
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_safe

from kepu.core.forms import ThrottledAuthenticationForm
from kepu.core.selectors import dashboard_summary
from kepu.orgs.scoping import ACTION_LABELS, user_grants

FAVICON = Path(__file__).resolve().parent / "static" / "kepu" / "favicon.ico"


@functools.cache
def _favicon_bytes() -> bytes:
    return FAVICON.read_bytes()


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico for browsers and tools that ask the site root (pages link the SVG)."""
    response = HttpResponse(_favicon_bytes(), content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=604800"
    return response


class KepuLoginView(LoginView):
    form_class = ThrottledAuthenticationForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", dashboard_summary(user=request.user))


@login_required
def my_permissions(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "core/permissions.html",
        {"grants": user_grants(request.user), "all_actions": list(ACTION_LABELS.values())},
    )


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/403.html", status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/404.html", status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    # No request context: the error may come from the database or a context processor.
    return HttpResponseServerError(render_to_string("errors/500.html"))
