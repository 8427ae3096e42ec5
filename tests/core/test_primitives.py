"""Shared building blocks: capped pagination and bulk audit rows."""

from __future__ import annotations

from django.test import RequestFactory

from kepu.audit.models import AuditEntry
from kepu.audit.services import audit_rows
from kepu.core import pagination
from kepu.orgs.models import Organisation, OrgKind


def _orgs(world, n):
    return Organisation.objects.bulk_create(
        [
            Organisation(
                name=f"单位{i:03d}", kind=OrgKind.DEPARTMENT, region=world.regions["city_a"]
            )
            for i in range(n)
        ]
    )


def test_paginate_pages_and_keeps_other_parameters(world):
    _orgs(world, 30)
    request = RequestFactory().get("/x", {"q": "单位", "page": "2", "per_page": "10"})
    page = pagination.paginate(request, Organisation.objects.order_by("name"))
    assert page.number == 2
    assert len(page.object_list) == 10
    assert page.paginator.count == Organisation.objects.count()
    params = dict(p.split("=") for p in page.base_query.split("&"))
    assert set(params) == {"q", "per_page"}


def test_paginate_count_is_capped(world, monkeypatch):
    _orgs(world, 30)
    monkeypatch.setattr(pagination.CappedPaginator, "count_cap", 12)
    page = pagination.paginate(RequestFactory().get("/x"), Organisation.objects.all(), per_page=5)
    assert page.paginator.count == 12 and page.paginator.capped
    assert page.paginator.num_pages == 3


def test_paginate_bounds_page_size_and_bad_input(world):
    _orgs(world, 5)
    page = pagination.paginate(
        RequestFactory().get("/x", {"per_page": "abc", "page": "zz"}), Organisation.objects.all()
    )
    assert page.number == 1 and page.paginator.per_page == pagination.PER_PAGE
    page = pagination.paginate(
        RequestFactory().get("/x", {"per_page": "100000"}), Organisation.objects.all()
    )
    assert page.paginator.per_page == pagination.MAX_PER_PAGE


def test_audit_rows_writes_one_entry_per_bulk_row(world):
    rows = _orgs(world, 3)
    before = AuditEntry.objects.count()
    assert audit_rows(action="create", rows=rows, actor=world.users["admin_a"]) == 3
    entries = AuditEntry.objects.order_by("pk")[before:]
    assert [e.object_repr for e in entries] == [r.name for r in rows]
    assert all(e.actor_name == "admin_a" and e.action == "create" for e in entries)
    assert entries[0].changes["name"] == [None, "单位000"]
    assert entries[0].region_path == world.regions["city_a"].path
