"""System checks that make the scoping gate fail closed.

``kepu.E001``: a scoped model's ``scope_region``, ``scope_orgs``, ``scope_orgs_write`` or
``scope_owner`` does not resolve to a Region / Organisation through the model's fields.
``kepu.E002``: a model still sets ``scope_multivalued`` by hand and it disagrees with what
the lookups say (the gate works it out itself; the attribute is obsolete).
``kepu.E003``: a model declares scope attributes but its default manager is not a
``ScopedQuerySet`` (so ``restrict`` is missing), or a scoped manager has no declaration.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.apps import apps as global_apps
from django.core import checks
from django.db import models


def _is_scoped_manager(model: type[models.Model]) -> bool:
    from kepu.orgs.scoping import ScopedQuerySet

    return isinstance(model._default_manager.all(), ScopedQuerySet)


def _has_own_rule(model: type[models.Model]) -> bool:
    """A queryset that overrides ``_scope_q`` scopes by its own columns (the audit log)."""
    from kepu.orgs.scoping import ScopedQuerySet

    qs_class: Any = type(model._default_manager.all())
    return qs_class._scope_q is not ScopedQuerySet._scope_q


def check_scoped_model(model: type[models.Model]) -> list[checks.CheckMessage]:
    from kepu.orgs.scoping import ScopeDeclarationError, _resolve_spec, declares_scope

    label = model._meta.label
    errors: list[checks.CheckMessage] = []
    scoped = _is_scoped_manager(model)
    declared = declares_scope(model)
    if declared and not scoped:
        errors.append(
            checks.Error(
                f"{label} declares scope lookups but its default manager is not a "
                "ScopedQuerySet, so restrict() is missing.",
                obj=model,
                id="kepu.E003",
            )
        )
        return errors
    if not scoped:
        return errors
    if not declared:
        if not _has_own_rule(model):
            errors.append(
                checks.Error(
                    f"{label} uses ScopedQuerySet without scope_region/scope_orgs.",
                    hint="Declare the lookups, or override _scope_q with the model's own rule.",
                    obj=model,
                    id="kepu.E003",
                )
            )
        return errors
    try:
        spec = _resolve_spec(model)
    except ScopeDeclarationError as exc:
        errors.append(checks.Error(str(exc), obj=model, id="kepu.E001"))
        return errors
    hand_set = model.__dict__.get("scope_multivalued")
    if hand_set is not None and bool(hand_set) != spec.multivalued:
        errors.append(
            checks.Error(
                f"{label}.scope_multivalued = {hand_set!r}, but its lookups "
                f"{'do' if spec.multivalued else 'do not'} cross a to-many relation.",
                hint="Remove scope_multivalued: the gate works it out from the lookups.",
                obj=model,
                id="kepu.E002",
            )
        )
    return errors


@checks.register(checks.Tags.models)
def check_scoped_models(
    app_configs: Iterable[Any] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    if app_configs is None:
        models_ = global_apps.get_models()
    else:
        models_ = [m for app in app_configs for m in app.get_models()]
    errors: list[checks.CheckMessage] = []
    for model in models_:
        errors.extend(check_scoped_model(model))
    return errors
