"""Reads of organisations: scoped lists and name matching for documents."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from rapidfuzz import fuzz, process

from kepu.core.autocomplete import Choice
from kepu.core.types import UserLike
from kepu.orgs.models import OFFICE_KINDS, Membership, Organisation, OrganisationAlias
from kepu.orgs.names import plausible_match
from kepu.orgs.scoping import Action, Grant, user_grants
from kepu.regions.models import Region


def name_search_ids(query: str) -> QuerySet:
    """Ids of organisations whose name, short name or an alias contains ``query``.

    A UNION of three plain ``icontains`` searches (``UPPER(col) LIKE UPPER('%q%')``),
    each of which the trigram GIN indexes of ``orgs_scale_indexes`` serve on
    PostgreSQL; an OR across the alias join would force a scan of every organisation.
    SQLite scans.
    """
    return (
        # unscoped: a narrowing subquery; every caller applies it to a restricted queryset
        Organisation.objects.filter(name__icontains=query)
        .order_by()
        .values("pk")
        .union(
            # unscoped: part of the narrowing subquery above
            Organisation.objects.filter(short_name__icontains=query).order_by().values("pk"),
            # unscoped: part of the narrowing subquery above
            OrganisationAlias.objects.filter(name__icontains=query)
            .order_by()
            .values("organisation_id"),
            all=True,
        )
    )


def organisation_list(
    *, user: UserLike, query: str = "", kind: str = "", region_code: str = ""
) -> QuerySet[Organisation]:
    """The organisations ``user`` sees, filtered; paginate it, then :func:`with_member_counts`."""
    qs = Organisation.objects.restrict(user, Action.VIEW).select_related("region", "parent")
    if query:
        qs = qs.filter(pk__in=name_search_ids(query))
    if kind:
        qs = qs.filter(kind=kind)
    if region_code:
        qs = qs.filter(region__code=region_code)
    return qs.order_by("region__code", "name", "pk")


def with_member_counts(orgs: Iterable[Organisation]) -> list[Organisation]:
    """Set ``member_count`` on each organisation of one page (one grouped query)."""
    orgs = list(orgs)
    counts = dict(
        # unscoped: counts for organisations the caller already restricted
        Membership.objects.filter(organisation__in=[o.pk for o in orgs])
        .values("organisation")
        .annotate(n=Count("pk"))
        .values_list("organisation", "n")
    )
    for o in orgs:
        o.member_count = counts.get(o.pk, 0)  # type: ignore[attr-defined]
    return orgs


def organisation_search(*, user: UserLike, query: str, limit: int) -> list[Choice]:
    """Autocomplete source: organisations in ``user``'s view scope matching ``query``."""
    qs = Organisation.objects.restrict(user, Action.VIEW)
    if query:
        qs = qs.filter(pk__in=name_search_ids(query))
    rows = qs.select_related("region").order_by("name", "pk")[:limit]
    return [Choice(id=str(o.pk), label=o.name, hint=o.region.name) for o in rows]


def regions_in_scope(*, user: UserLike) -> QuerySet[Region]:
    """Regions ``user`` may look at: each office's subtree and each unit's own region."""
    qs = Region.objects.all()
    if getattr(user, "is_superuser", False) and user.is_active:
        return qs
    grants = user_grants(user)
    if not grants or not user.is_active:
        return qs.none()
    q = Q(pk__in=[g.region_id for g in grants if g.region_path is None])
    for g in grants:
        if g.region_path is not None:
            q |= Q(path__startswith=g.region_path)
    return qs.filter(q)


def region_search(*, user: UserLike, query: str, limit: int) -> list[Choice]:
    """Autocomplete source: regions in ``user``'s scope by name or division-code prefix."""
    qs = regions_in_scope(user=user)
    if query.isdigit():
        qs = qs.filter(code__startswith=query)
    elif query:
        qs = qs.filter(name__icontains=query)
    rows = qs.select_related("parent").order_by("level", "code")[:limit]
    return [
        Choice(
            id=r.code, label=r.name, hint=f"{r.code}" + (f" · {r.parent.name}" if r.parent else "")
        )
        for r in rows
    ]


FUZZY_MIN_SCORE = 60


@dataclass(frozen=True)
class OrgMatch:
    organisation_id: int
    name: str
    how: str  # "exact" | "alias" | "fuzzy"
    score: float


def organisation_match(
    *, name: str, candidates: QuerySet[Organisation], limit: int = 5
) -> list[OrgMatch]:
    """Match a unit name from a document to organisations.

    Exact name or short name first, then an alias, then ranked fuzzy suggestions
    (rapidfuzz WRatio over names, short names and aliases). A fuzzy suggestion must
    also share characters with ``name`` in the distinctive part of the name
    (:func:`kepu.orgs.names.plausible_match`), so 民政部 is never offered 国资委.
    """
    name = name.strip()
    if not name:
        return []
    exact = list(candidates.filter(Q(name=name) | Q(short_name=name)).values_list("pk", "name"))
    if exact:
        return [OrgMatch(pk, n, "exact", 100.0) for pk, n in exact]
    alias = list(
        OrganisationAlias.objects.filter(organisation__in=candidates, name=name)
        .values_list("organisation_id", "organisation__name")
        .distinct()
    )
    if alias:
        return [OrgMatch(pk, n, "alias", 100.0) for pk, n in alias]
    choices: dict[str, tuple[int, str]] = {}
    for pk, org_name, short in candidates.values_list("pk", "name", "short_name"):
        choices[org_name] = (pk, org_name)
        if short:
            choices.setdefault(short, (pk, org_name))
    for alias_name, pk, org_name in OrganisationAlias.objects.filter(
        organisation__in=candidates
    ).values_list("name", "organisation_id", "organisation__name"):
        choices.setdefault(alias_name, (pk, org_name))
    best: dict[int, OrgMatch] = {}
    # more candidates than needed: implausible ones are dropped below
    for key, score, _ in process.extract(
        name, list(choices), scorer=fuzz.WRatio, limit=limit * 10, score_cutoff=FUZZY_MIN_SCORE
    ):
        if score < FUZZY_MIN_SCORE or not plausible_match(name, key):
            continue
        pk, org_name = choices[key]
        if pk not in best or best[pk].score < score:
            best[pk] = OrgMatch(pk, org_name, "fuzzy", float(score))
    return sorted(best.values(), key=lambda m: -m.score)[:limit]


def _office_grants(user: UserLike) -> list[Grant]:
    """The user's office memberships that allow adding region-wide data."""
    return [g for g in user_grants(user) if g.region_path is not None and Action.ADD in g.actions]


def can_act_for_an_office(*, user: UserLike) -> bool:
    """Whether ``user`` may add region-wide data (import plans, create survey waves)."""
    return user.is_superuser or bool(_office_grants(user))


def office_choices(*, user: UserLike) -> list[tuple[int, str]]:
    """Offices on whose behalf ``user`` may add region-wide data (plans, survey waves)."""
    if user.is_superuser:
        return list(Organisation.objects.filter(kind__in=OFFICE_KINDS).values_list("pk", "name"))
    return [(g.organisation_id, g.organisation_name) for g in _office_grants(user)]


def acting_office(*, user: UserLike, owner_id: int | None = None, denied: str) -> Organisation:
    """The office ``user`` acts for when adding region-wide data (``owner_id`` picks one).

    Raises ``PermissionDenied(denied)`` when the user is not an office member allowed to
    add, or ``owner_id`` is not one of their offices.
    """
    allowed = [pk for pk, _ in office_choices(user=user)]
    if owner_id is not None:
        allowed = [pk for pk in allowed if pk == owner_id]
    if not allowed:
        raise PermissionDenied(denied)
    return Organisation.objects.select_related("region").get(pk=allowed[0])
