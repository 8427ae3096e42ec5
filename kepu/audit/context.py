"""Who is acting right now: set by the middleware for requests, by commands for the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from kepu.core.types import UserLike

_actor: ContextVar[Any] = ContextVar("kepu_audit_actor", default=None)


def current_actor() -> Any:
    return _actor.get()


@contextmanager
def acting_as(user: UserLike | None) -> Iterator[None]:
    token = _actor.set(user)
    try:
        yield
    finally:
        _actor.reset(token)
