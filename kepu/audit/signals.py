"""Record every create, update and delete of audited models.

A model is audited when it is listed in ``AUDITED``.  Old values are read in
``pre_save`` (one query per update) so the entry lists each changed field with
its value before and after.  Secrets (password hashes) are never written.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.signals import post_delete, post_save, pre_save

from kepu.audit.context import current_actor

AUDITED = [
    "orgs.Organisation",
    "orgs.OrganisationAlias",
    "orgs.Membership",
    "auth.User",
]
SECRET_FIELDS = {"password", "id_hash"}
IGNORED_FIELDS = {"last_login", "updated_at", "created_at", "version"}


def register(label: str) -> None:
    """Audit another model (call from an app's ``ready``)."""
    if label not in AUDITED:
        AUDITED.append(label)
        _connect_model(apps.get_model(label))


def _value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return str(value)


def _snapshot(instance: models.Model) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.name in IGNORED_FIELDS:
            continue
        data[field.name] = _value(getattr(instance, field.attname))
    return data


HIDDEN = "******"


def _hide(pair: Any) -> list[Any]:
    before, after = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
    return [
        None if before in (None, "") else HIDDEN,
        None
        if after in (None, "")
        else (HIDDEN + " (已修改)" if before not in (None, "") else HIDDEN),
    ]


def _masked(
    changes: dict[str, list[Any]], model: type[models.Model] | None = None
) -> dict[str, list[Any]]:
    """Secrets are compared but never written: only the fact that they changed.

    A model may name personal fields in ``audit_personal`` (``{field: masker}``): the log
    (read by every office over the record's region) then keeps the masker's output
    (``mask_name``: ``张*``) or, for a masker of ``None``, only whether there was a value
    and that it changed (``******``).
    """
    personal: dict[str, Any] = getattr(model, "audit_personal", None) or {}
    out: dict[str, list[Any]] = {}
    for k, v in changes.items():
        if k in SECRET_FIELDS:
            out[k] = ["******", "****** (已修改)"]
        elif k in personal:
            masker = personal[k]
            if masker is None:
                out[k] = _hide(v)
            else:
                out[k] = [None if x in (None, "") else masker(x) for x in v]
        else:
            out[k] = v
    return out


def audit_repr(instance: models.Model) -> str:
    """How the log names a row: ``audit_repr()`` where a model defines it (personal data
    masked), else ``str()``."""
    fn = getattr(instance, "audit_repr", None)
    return str(fn() if fn is not None else instance)[:300]


def _scope(instance: models.Model) -> tuple[str, int | None]:
    scope = getattr(instance, "audit_scope", None)
    if scope is None:
        return "", None
    try:
        return scope()
    except Exception:  # a half-built object must never block a write
        return "", None


def _write(instance: models.Model, action: str, changes: dict[str, Any]) -> None:
    from kepu.audit.models import AuditEntry

    actor = current_actor()
    region_path, organisation_id = _scope(instance)
    AuditEntry.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_name=actor.get_username() if actor is not None else "系统",
        action=action,
        content_type=ContentType.objects.get_for_model(type(instance)),
        object_id=str(instance.pk),
        object_repr=audit_repr(instance),
        changes=changes,
        region_path=region_path,
        organisation_id=organisation_id,
    )


def _pre_save(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or instance.pk is None:
        instance._audit_before = None
        return
    old = sender._default_manager.filter(pk=instance.pk).first()
    instance._audit_before = _snapshot(old) if old is not None else None


def _post_save(sender, instance, created, raw=False, update_fields=None, **kwargs):
    if raw:
        return
    if update_fields is not None and set(update_fields) <= IGNORED_FIELDS:
        return
    after = _snapshot(instance)
    before = getattr(instance, "_audit_before", None)
    if created or before is None:
        created_values = {k: [None, v] for k, v in after.items() if v not in (None, "")}
        _write(instance, "create", _masked(created_values, sender))
        return
    changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
    if changes:
        _write(instance, "update", _masked(changes, sender))


def _post_delete(sender, instance, **kwargs):
    changes = {k: [v, None] for k, v in _snapshot(instance).items()}
    note = getattr(instance, "audit_note", None)  # a service's reason for the delete
    if note:
        changes[NOTE] = [None, note]
    _write(instance, "delete", _masked(changes, sender))


NOTE = "reason"


def _connect_model(model: type[models.Model]) -> None:
    uid = f"kepu-audit-{model._meta.label}"
    pre_save.connect(_pre_save, sender=model, dispatch_uid=uid)
    post_save.connect(_post_save, sender=model, dispatch_uid=uid)
    post_delete.connect(_post_delete, sender=model, dispatch_uid=uid)


def connect() -> None:
    for label in AUDITED:
        _connect_model(apps.get_model(label))
