"""Reading the audit log: scoped, filtered entries and their Chinese display.

``audit_entries`` applies the gate (office administrators, within their region) and
the filters; ``entry_rows`` turns one page of entries into what the page shows:
field labels instead of attribute names, choice labels, names instead of foreign-key
ids (resolved in one query per related model for the whole page, never per entry),
the actor's full name and the object type's verbose name.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from django.apps import apps
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

from kepu.audit.models import AuditEntry
from kepu.audit.services import IMPORT_FILE
from kepu.audit.signals import AUDITED, audit_repr
from kepu.core.types import UserLike
from kepu.orgs.models import Organisation
from kepu.orgs.scoping import Action

# Actions other parts of the project may write (sign-ins) without this app's choices
# knowing them yet; anything else unknown is shown as written.
ACTION_LABELS = {
    **dict(AuditEntry.Action.choices),
    "login": "登录",
    "login_failed": "登录失败",
    "logout": "退出登录",
}
# Fields whose models give them no Chinese verbose name.
FIELD_LABELS = {
    "id": "ID",
    "plan": "规划",
    "task": "任务",
    "wave": "监测调查",
    "parent": "上级",
    "depth": "层级",
    "order": "顺序",
    "username": "用户名",
    "first_name": "姓名",
    "last_name": "姓",
    "email": "电子邮箱",
    "is_staff": "后台权限",
    "is_superuser": "超级管理员",
    "is_active": "启用",
    "date_joined": "注册时间",
    "password": "密码",
    IMPORT_FILE: "导入文件",
    # the summary entry of a reporting round's generated slots (kepu.progress.services)
    "slot_roles": "填报位(按角色)",
    "slot_via": "分解落实的填报位",
    "slot_plans": "覆盖规划",
    "slot_tasks": "所选任务数",
    "reason": "原因",
}
VALUE_LIMIT = 200
EMPTY = "∅"


@dataclass(frozen=True)
class AuditFilters:
    user: str = ""  # part of the actor's username or full name
    organisation: str = ""  # part of an organisation's name or short name
    model: str = ""  # "app_label.model"
    action: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def model_choices() -> list[tuple[str, str]]:
    """The audited models as (``app_label.model``, verbose name), for the type filter."""
    out = []
    for label in AUDITED:
        model = apps.get_model(label)
        out.append((model._meta.label_lower, str(model._meta.verbose_name)))
    return sorted(out, key=lambda c: c[1])


def action_choices() -> list[tuple[str, str]]:
    return list(ACTION_LABELS.items())


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def audit_entries(*, user: UserLike, filters: AuditFilters) -> QuerySet[AuditEntry]:
    """Entries ``user`` may read (newest first), narrowed by ``filters``.

    Every filter narrows the scoped queryset, so none can reveal an entry outside the
    user's scope; the organisation filter only matches organisations the user sees.
    """
    qs = AuditEntry.objects.restrict(user, Action.VIEW)
    if filters.user:
        text = filters.user.strip()
        qs = qs.filter(
            Q(actor_name__icontains=text)
            | Q(actor__first_name__icontains=text)
            | Q(actor__last_name__icontains=text)
        )
    if filters.organisation:
        text = filters.organisation.strip()
        orgs = Organisation.objects.restrict(user, Action.VIEW).filter(
            Q(name__icontains=text) | Q(short_name__icontains=text)
        )
        qs = qs.filter(organisation_id__in=orgs.values("pk"))
    if filters.model:
        app_label, _, model = filters.model.partition(".")
        qs = qs.filter(content_type__app_label=app_label, content_type__model=model)
    if filters.action:
        qs = qs.filter(action=filters.action)
    if filters.date_from:
        qs = qs.filter(at__gte=_day_start(filters.date_from))
    if filters.date_to:
        qs = qs.filter(at__lt=_day_start(filters.date_to + dt.timedelta(days=1)))
    return qs.select_related("content_type", "actor")


# --- display ------------------------------------------------------------------------------
@dataclass
class Change:
    label: str
    before: str
    after: str


@dataclass
class EntryRow:
    entry: AuditEntry
    actor: str
    action: str
    object_type: str
    changes: list[Change] = field(default_factory=list)


def person(user: UserLike) -> str:
    """A user as people know them: the full name, else the username."""
    full = user.get_full_name().strip() if hasattr(user, "get_full_name") else ""
    return full or user.get_username()


def _field(model: type[models.Model] | None, name: str) -> Any:
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except Exception:  # a key that is not a field (e.g. a summary's "import_file")
        return None


def _label(model: type[models.Model] | None, name: str, f: Any) -> str:
    if f is None:
        return FIELD_LABELS.get(name, name)
    if f.is_relation and not f.concrete:  # a reverse relation: an import summary's row count
        return f"{f.related_model._meta.verbose_name}(行数)"
    verbose = str(getattr(f, "verbose_name", name))
    if verbose == name.replace("_", " "):  # Django's default: no Chinese name given
        return FIELD_LABELS.get(name, name)
    return verbose


def _text(value: Any) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        text = "、".join(str(v) for v in value)
    elif isinstance(value, dict):
        text = ", ".join(f"{k}: {v}" for k, v in value.items())
    else:
        text = str(value)
    return text if len(text) <= VALUE_LIMIT else text[:VALUE_LIMIT] + "…"


def _fk_ids(entries: Sequence[AuditEntry]) -> dict[type[models.Model], set[Any]]:
    wanted: dict[type[models.Model], set[Any]] = defaultdict(set)
    for e in entries:
        model = e.content_type.model_class()
        for name, pair in (e.changes or {}).items():
            f = _field(model, name)
            if f is None or not (f.many_to_one or f.one_to_one) or not f.concrete:
                continue
            for v in pair if isinstance(pair, list) else ():
                if v not in (None, ""):
                    wanted[f.related_model].add(v)
    return wanted


def _names(wanted: dict[type[models.Model], set[Any]]) -> dict[tuple[type, str], str]:
    """One query per related model: ``(model, str(pk))`` → display name."""
    names: dict[tuple[type, str], str] = {}
    for model, pks in wanted.items():
        clean = set()
        for pk in pks:
            try:
                clean.add(model._meta.pk.to_python(pk))
            except Exception:
                continue
        for pk, obj in model._base_manager.in_bulk(clean).items():
            names[(model, str(pk))] = (
                person(cast(Any, obj)) if hasattr(obj, "get_username") else audit_repr(obj)
            )
    return names


def _value(f: Any, value: Any, model: type | None, names: dict[tuple[type, str], str]) -> str:
    if value is None or value == "":
        return EMPTY
    if f is not None and f.concrete and (f.many_to_one or f.one_to_one):
        return names.get((f.related_model, str(value)), f"#{value} (已删除)")
    if f is not None and getattr(f, "flatchoices", None):
        return str(dict(f.flatchoices).get(value, value))
    return _text(value)


def _in_field_order(model: type[models.Model] | None, changes: dict[str, Any]) -> list:
    """The model's field order (PostgreSQL's jsonb does not keep the written order)."""
    order = {f.name: i for i, f in enumerate(model._meta.fields)} if model else {}
    return sorted(changes.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))


def entry_rows(entries: Iterable[AuditEntry]) -> list[EntryRow]:
    """The page's entries as they are shown (a fixed number of queries per page)."""
    entries = list(entries)
    names = _names(_fk_ids(entries))
    rows = []
    for e in entries:
        model = e.content_type.model_class()
        changes = []
        for name, pair in _in_field_order(model, e.changes or {}):
            f = _field(model, name)
            before, after = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
            changes.append(
                Change(
                    label=_label(model, name, f),
                    before=_value(f, before, model, names),
                    after=_value(f, after, model, names),
                )
            )
        rows.append(
            EntryRow(
                entry=e,
                actor=person(e.actor) if e.actor is not None else (e.actor_name or "系统"),
                action=ACTION_LABELS.get(e.action, e.action),
                object_type=str(model._meta.verbose_name) if model else e.content_type.name,
                changes=changes,
            )
        )
    return rows
