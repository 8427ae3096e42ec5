"""Type aliases shared across the project.

``UserLike`` is what services, selectors and the scoping gate take as ``user``: the
signed-in account or Django's anonymous user (``request.user``). Functions that need an
authenticated account check ``is_authenticated`` first (the gate grants nothing to an
anonymous user)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias, Union

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

UserLike: TypeAlias = Union["User", "AnonymousUser"]
