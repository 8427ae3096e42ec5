# ruff: noqa: DJ008 - throw-away models of an isolated registry need no __str__
"""The system check resolves every scope declaration: a misspelt or wrong-typed lookup,
a stale hand-set ``scope_multivalued`` or a missing ``ScopedQuerySet`` stop start-up."""

from __future__ import annotations

from django.core import checks
from django.db import models
from django.test.utils import isolate_apps

from kepu.core.checks import check_scoped_model
from kepu.orgs.models import Organisation
from kepu.orgs.scoping import ScopedQuerySet, scope_spec
from kepu.regions.models import Region


def _ids(model) -> list[str]:
    return [e.id for e in check_scoped_model(model)]


def test_the_project_passes_its_own_check():
    errors = [e for e in checks.run_checks() if e.id.startswith("kepu.")]
    assert errors == []


def test_multivalued_is_worked_out_from_the_lookups():
    from kepu.plans.models import Plan, Task, TaskUnit
    from kepu.survey.models import Estimate, Wave

    assert scope_spec(Plan).multivalued and scope_spec(Task).multivalued
    assert not scope_spec(TaskUnit).multivalued
    assert not scope_spec(Wave).multivalued and not scope_spec(Estimate).multivalued
    assert not scope_spec(Organisation).multivalued
    assert not hasattr(Plan, "scope_multivalued")


@isolate_apps("tests")
def test_broken_declarations_are_errors():
    class Misspelt(models.Model):
        region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
        owner = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
        scope_region = "regoin"
        scope_orgs = ("owner",)
        objects = ScopedQuerySet.as_manager()

        class Meta:
            app_label = "tests"

    class WrongTarget(models.Model):
        region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
        owner = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
        scope_region = "region"
        scope_orgs = ("region",)  # a Region, not an Organisation
        objects = ScopedQuerySet.as_manager()

        class Meta:
            app_label = "tests"

    class PlainField(models.Model):
        region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
        name = models.CharField(max_length=10)
        scope_region = "region"
        scope_orgs = ("name__owner",)
        objects = ScopedQuerySet.as_manager()

        class Meta:
            app_label = "tests"

    class BadWrite(models.Model):
        region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
        owner = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
        scope_region = "region"
        scope_orgs = ("owner",)
        scope_orgs_write = ("owner__regionx",)
        objects = ScopedQuerySet.as_manager()

        class Meta:
            app_label = "tests"

    class BadOwner(models.Model):
        region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
        owner = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
        scope_region = "region"
        scope_orgs = ("owner",)
        scope_owner = "region"
        objects = ScopedQuerySet.as_manager()

        class Meta:
            app_label = "tests"

    class StringNotTuple(models.Model):
        region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
        owner = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
        scope_region = "region"
        scope_orgs = "owner"  # a string, not a tuple: would iterate characters
        objects = ScopedQuerySet.as_manager()

        class Meta:
            app_label = "tests"

    for model in (Misspelt, WrongTarget, PlainField, BadWrite, BadOwner, StringNotTuple):
        assert _ids(model) == ["kepu.E001"], model.__name__


@isolate_apps("tests")
def test_stale_hand_set_multivalued_is_an_error():
    class Parent(models.Model):
        region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
        scope_region = "region"
        scope_orgs = ("children__org",)
        scope_multivalued = False  # wrong: children is to-many
        objects = ScopedQuerySet.as_manager()

        class Meta:
            app_label = "tests"

    class Child(models.Model):
        parent = models.ForeignKey(Parent, on_delete=models.CASCADE, related_name="children")
        org = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")

        class Meta:
            app_label = "tests"

    class Single(models.Model):
        region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
        owner = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
        scope_region = "region"
        scope_orgs = ("owner",)
        scope_multivalued = True  # wrong: a single foreign key
        objects = ScopedQuerySet.as_manager()

        class Meta:
            app_label = "tests"

    assert _ids(Parent) == ["kepu.E002"]
    assert _ids(Single) == ["kepu.E002"]
    assert scope_spec(Parent).multivalued and not scope_spec(Single).multivalued
    assert _ids(Child) == []  # not scoped at all


@isolate_apps("tests")
def test_scope_attributes_need_a_scoped_manager():
    class Unguarded(models.Model):
        region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
        owner = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
        scope_region = "region"
        scope_orgs = ("owner",)

        class Meta:
            app_label = "tests"

    class Undeclared(models.Model):
        objects = ScopedQuerySet.as_manager()

        class Meta:
            app_label = "tests"

    class Good(models.Model):
        region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
        owner = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
        scope_region = "region"
        scope_orgs = ("owner",)
        scope_owner = "owner"
        objects = ScopedQuerySet.as_manager()

        class Meta:
            app_label = "tests"

    assert _ids(Unguarded) == ["kepu.E003"]
    assert _ids(Undeclared) == ["kepu.E003"]
    assert _ids(Good) == []
