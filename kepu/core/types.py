"""Type aliases shared across the project.

``UserLike`` is what services, selectors and the scoping gate take as ``user``: the
signed-in account or Django's anonymous user (``request.user``). Functions that need an
authenticated account check ``is_authenticated`` first (the gate grants nothing to an
anonymous user)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias, Union, cast

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

UserLike: TypeAlias = Union["User", "AnonymousUser"]


def as_account(user: UserLike | None) -> User | None:
    """``user`` typed for a user column (``created_by``, ``actor`` …). Services run behind
    ``login_required`` (or in commands with no actor), so this is the signed-in account or
    None; it only narrows the type and changes nothing at run time."""
    return cast("User | None", user)
