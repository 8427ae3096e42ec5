"""Index use at a few thousand rows, checked with EXPLAIN on PostgreSQL (skipped on SQLite).

The searches stay plain ``icontains``; on PostgreSQL the trigram GIN indexes of the
``*_scale_indexes`` migrations must serve them, and region subtree filters must use
the path's ``varchar_pattern_ops`` index.
"""

from __future__ import annotations

import random

import pytest
from django.db import connection

from kepu.orgs.models import Organisation, OrganisationAlias, OrgKind
from kepu.orgs.selectors import organisation_list
from kepu.plans import selectors
from kepu.plans.models import Plan, Task
from kepu.regions.models import Level, Region

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="EXPLAIN checks need PostgreSQL"
)

TRIGRAM_INDEXES = ("org_name_trgm", "org_short_name_trgm", "org_alias_name_trgm")
TASK_TRIGRAM_INDEXES = ("task_title_trgm", "task_text_trgm")


def _text(seed: int, n: int) -> str:
    """Varied Chinese text (trigram statistics like real names and task texts)."""
    r = random.Random(seed)
    return "".join(chr(0x4E00 + r.randrange(3000)) for _ in range(n))


def _name(i: int) -> str:
    return _text(i, 12)


def _analyze(tables: tuple[str, ...], gin_indexes: tuple[str, ...] = ()) -> None:
    """ANALYZE, after merging the GIN pending lists as autovacuum does (VACUUM cannot
    run inside the test's transaction)."""
    with connection.cursor() as cursor:
        for index in gin_indexes:
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
        for table in tables:
            cursor.execute(f"ANALYZE {table}")


def _explain(qs) -> str:
    return qs.explain()


@pytest.fixture
def many_orgs(world):
    region = world.regions["city_a"]
    Organisation.objects.bulk_create(
        [
            Organisation(
                name=_name(i),
                short_name=_text(2 * 10**7 + i, 4),
                kind=OrgKind.DEPARTMENT,
                region=region,
            )
            for i in range(4000)
        ]
    )
    OrganisationAlias.objects.bulk_create(
        [
            OrganisationAlias(organisation=o, name=_text(10**6 + o.pk, 6))
            for o in Organisation.objects.all()[:2000]
        ]
    )
    _analyze(("orgs_organisation", "orgs_organisationalias", "regions_region"), TRIGRAM_INDEXES)


def test_organisation_name_search_uses_the_trigram_index(world, many_orgs):
    query = _name(1234)[3:8]
    qs = organisation_list(user=world.users["admin_a"], query=query)
    assert [o.name for o in qs] == [_name(1234)]
    plan = _explain(qs)
    for index in TRIGRAM_INDEXES:
        assert index in plan, plan
    assert "Seq Scan on orgs_organisation " not in plan, plan


def test_organisation_name_search_finds_aliases_without_duplicates(world, many_orgs):
    org = Organisation.objects.get(name=_name(77))
    OrganisationAlias.objects.create(organisation=org, name="别名七十七甲")
    OrganisationAlias.objects.create(organisation=org, name="别名七十七乙")
    assert list(organisation_list(user=world.users["admin_a"], query="别名七十七")) == [org]


def test_exact_name_matching_uses_the_name_index(world, many_orgs):
    plan = _explain(Organisation.objects.filter(name=_name(42)))
    assert "Index" in plan and "Seq Scan on orgs_organisation" not in plan, plan


def test_task_keyword_search_uses_the_trigram_indexes(world):
    plan_row = Plan.objects.create(
        title="大计划", region=world.regions["city_a"], owner=world.orgs["office_a"]
    )
    Task.objects.bulk_create(
        [
            Task(plan=plan_row, order=i, title=_text(i, 20), text=_text(10**7 + i, 120))
            for i in range(4000)
        ]
    )
    _analyze(("plans_task", "plans_plan", "plans_taskunit"), TASK_TRIGRAM_INDEXES)
    for query, title in [
        (_text(2345, 20)[4:9], _text(2345, 20)),
        (_text(10**7 + 2999, 120)[50:55], _text(2999, 20)),
    ]:
        qs = selectors.task_ledger(
            user=world.users["super"], filters=selectors.LedgerFilters(query=query)
        )
        assert [t.title for t in qs] == [title]
        plan = _explain(qs)
        assert "task_title_trgm" in plan and "task_text_trgm" in plan, plan
        assert "Seq Scan on plans_task" not in plan, plan


def test_region_subtree_filter_uses_the_path_pattern_index(world):
    county = world.regions["county_a"]
    Region.objects.bulk_create(
        [
            Region(
                code=f"530302{i:03d}",
                name=f"乡镇{i}",
                level=Level.TOWNSHIP,
                parent=county,
                path=f"{county.path}530302{i:03d}/",
            )
            for i in range(2, 999)
        ]
        + [
            Region(
                code=f"54{i:04d}",
                name=f"外省县{i}",
                level=Level.COUNTY,
                parent=world.regions["root"],
                path=f"CN/54/54{i:04d}/",
            )
            for i in range(3000)
        ]
    )
    _analyze(("regions_region",))
    plan = _explain(Region.objects.filter(path__startswith=world.regions["city_b"].path))
    assert "Index" in plan and "Seq Scan" not in plan, plan
