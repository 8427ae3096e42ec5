"""Demo data: a runner that calls each area's loader in order.

Each loader is ``load(ctx: DemoContext) -> None`` and must be idempotent.  Areas add
theirs to ``LOADERS``.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from kepu.audit.context import acting_as

LOADERS = [
    "kepu.orgs.demo.load",
    "kepu.plans.demo.load",
    "kepu.survey.demo.load",
    "kepu.campaigns.demo.load",
    "kepu.registry.demo.load",
    "kepu.progress.demo.load",
    "kepu.statistics.demo.load",
]

DEMO_CITY_CODE = "530300"


@dataclass
class DemoContext:
    reset_passwords: bool = False
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # username, password, role
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def user(
        self, username: str, *, label: str, full_name: str = "", superuser: bool = False
    ) -> Any:
        """Get or create a demo user; a new (or reset) password is recorded to print once."""
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": full_name}
        )
        if superuser and not user.is_superuser:
            user.is_superuser = user.is_staff = True
            user.save()
        if created or self.reset_passwords:
            password = _password()
            user.set_password(password)
            user.save()
            self.logins.append((username, password, label))
        return user


def _password() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(12))


def load_demo(*, reset_passwords: bool = False) -> DemoContext:
    ctx = DemoContext(reset_passwords=reset_passwords)
    with acting_as(None), transaction.atomic():
        for dotted in LOADERS:
            module_name, func_name = dotted.rsplit(".", 1)
            getattr(import_module(module_name), func_name)(ctx)
    return ctx
