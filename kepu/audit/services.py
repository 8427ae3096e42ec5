"""Audit entries written by services, one helper for single and bulk rows.

Signals (``kepu.audit.signals``) catch ``save()`` and ``delete()`` of audited models;
they miss ``bulk_create``, ``bulk_update``, ``QuerySet.update`` and ``QuerySet.delete``.
Services that write in bulk call :func:`audit_rows` with the rows they wrote, in the
same transaction, so every row leaves a trail.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from kepu.audit.context import current_actor
from kepu.audit.models import AuditEntry
from kepu.audit.signals import HIDDEN, SECRET_FIELDS, _masked, _scope, _snapshot, audit_repr
from kepu.core.bulk import insert_rows

SECRET = "******"

BATCH = 1000


def _actor_fields(actor: Any) -> dict[str, Any]:
    actor = actor if actor is not None else current_actor()
    if actor is None:
        return {"actor_id": None, "actor_name": "系统"}
    return {
        "actor_id": getattr(actor, "pk", None) or None,
        "actor_name": actor.get_username(),
    }


def audit_rows(
    *,
    action: str,
    rows: Sequence[models.Model] | Iterable[models.Model],
    actor: Any = None,
    changes: Sequence[dict[str, list[Any]]] | None = None,
) -> int:
    """Write one audit entry per row (``action`` is create / update / delete).

    ``changes`` gives each row's ``{field: [before, after]}`` for updates; for creates
    and deletes it is derived from the row's values. Returns the number written.
    """
    rows = list(rows)
    if not rows:
        return 0
    who = _actor_fields(actor)
    ct_cache: dict[type, ContentType] = {}
    entries = []
    for i, row in enumerate(rows):
        model = type(row)
        if model not in ct_cache:
            ct_cache[model] = ContentType.objects.get_for_model(model)
        if changes is not None:
            diff = changes[i]
        elif action == AuditEntry.Action.DELETE:
            diff = {k: [v, None] for k, v in _snapshot(row).items()}
        else:
            diff = {k: [None, v] for k, v in _snapshot(row).items() if v not in (None, "")}
        region_path, organisation_id = _scope(row)
        entries.append(
            {
                "action": action,
                "content_type_id": ct_cache[model].pk,
                "object_id": str(row.pk),
                "object_repr": audit_repr(row),
                "changes": _masked(diff, model),
                "region_path": region_path,
                "organisation_id": organisation_id,
                **who,
            }
        )
    return _insert(entries)


def audit_values(
    *,
    action: str,
    model: type[models.Model],
    rows: Sequence[tuple[Any, str, dict[str, Any]]],
    region_path: str,
    organisation_id: int | None,
    actor: Any = None,
) -> int:
    """One entry per ``(pk, repr, values)`` of rows written without model instances (a
    large import): ``values`` are the row's field values as the audit records them
    (``{field: value}``, personal fields masked by the model's ``audit_personal``); all
    rows share one scope. For a create the entry lists the non-empty values."""
    if not rows:
        return 0
    who = _actor_fields(actor)
    ct = ContentType.objects.get_for_model(model).pk
    personal: dict[str, Any] = getattr(model, "audit_personal", None) or {}
    entries = []
    for pk, text, values in rows:
        if action == AuditEntry.Action.DELETE:
            diff = _masked({k: [v, None] for k, v in values.items()}, model)
        else:  # a create: what _masked gives for [None, value], without its generic loop
            diff = {}
            for k, v in values.items():
                if v is None or v == "":
                    continue
                if k in SECRET_FIELDS:
                    diff[k] = [SECRET, SECRET + " (已修改)"]
                elif k in personal:
                    masker = personal[k]
                    diff[k] = [None, HIDDEN if masker is None else masker(v)]
                else:
                    diff[k] = [None, v]
        entries.append(
            {
                "action": action,
                "content_type_id": ct,
                "object_id": str(pk),
                "object_repr": text[:300],
                "changes": diff,
                "region_path": region_path,
                "organisation_id": organisation_id,
                **who,
            }
        )
    return _insert(entries)


def _insert(entries: list[dict[str, Any]]) -> int:
    for start in range(0, len(entries), BATCH * 50):
        insert_rows(AuditEntry, entries[start : start + BATCH * 50])
    return len(entries)


def audit_import_summary(
    *, obj: models.Model, what: str, rows: int, name: str = "", actor: Any = None
) -> int:
    """One entry for a large import instead of one per row (e.g. 300,000 respondents).

    Written on the parent ``obj`` as an update: ``{what: [None, rows], "import_file":
    [None, name]}``, where ``what`` names the reverse relation of the imported rows
    (``respondents``), so the log shows "受访者(行数): 300000" and the file name.
    """
    changes: dict[str, list[Any]] = {what: [None, rows]}
    if name:
        changes[IMPORT_FILE] = [None, name]
    return audit_rows(action="update", rows=[obj], actor=actor, changes=[changes])


IMPORT_FILE = "import_file"


def audit_diff(before: dict[str, Any], after: models.Model) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` between a snapshot taken earlier and the row now."""
    now = _snapshot(after)
    return {k: [before.get(k), v] for k, v in now.items() if before.get(k) != v}


snapshot = _snapshot
