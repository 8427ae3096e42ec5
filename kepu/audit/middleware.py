from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from kepu.audit.context import acting_as


class AuditActorMiddleware:
    """Makes ``request.user`` the actor of every audited change in the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        with acting_as(user if user is not None and user.is_authenticated else None):
            return self.get_response(request)
