"""Reads for campaigns: scoped lists, review queues, quota progress and the public portal."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import (
    CharField,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from kepu.campaigns.models import PUBLISHED, Activity, Campaign, Quota, Status
from kepu.core.grams import grams_match
from kepu.core.types import UserLike
from kepu.orgs.models import Organisation, OrgKind
from kepu.orgs.scoping import Action, user_grants
from kepu.regions.models import Level, Region


def _ancestor_paths(path: str) -> list[str]:
    return [path[: i + 1] for i, ch in enumerate(path) if ch == "/"]


def campaign_list(*, user: UserLike) -> QuerySet[Campaign]:
    """Campaigns the user's offices run or oversee, and those open to the user's units
    (a campaign of a region is open to every organisation inside it)."""
    own = Campaign.objects.restrict(user, Action.VIEW).values("pk")
    paths: set[str] = set()
    for g in user_grants(user):
        paths.update(_ancestor_paths(g.unit_region_path))
    q = Q(pk__in=own)
    if paths:
        q |= Q(region__path__in=sorted(paths))
    if getattr(user, "is_superuser", False):
        q = Q()
    return (
        # Own campaigns come through restrict(); the others are those of the regions the
        # user's organisations are in, which every organisation there may join.
        # unscoped: restricted ids or campaigns open to the user's regions
        Campaign.objects.filter(q)
        .select_related("region", "owner")
        .order_by("-year", "-event_start")
    )


def registering_orgs(*, user: UserLike, campaign: Campaign) -> QuerySet[Organisation]:
    """Organisations ``user`` may register activities for in ``campaign``."""
    return (
        Organisation.objects.restrict(user, Action.ADD)
        .filter(region__path__startswith=campaign.region.path, is_active=True)
        .order_by("region__code", "name")
    )


@dataclass
class ActivityFilters:
    status: str = ""
    kind: str = ""
    region_code: str = ""
    q: str = ""
    organiser_id: int | None = None


def activity_list(
    *, user: UserLike, campaign: Campaign, filters: ActivityFilters | None = None
) -> QuerySet[Activity]:
    f = filters or ActivityFilters()
    qs = Activity.objects.restrict(user, Action.VIEW).filter(campaign=campaign)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.region_code:
        region = Region.objects.filter(code=f.region_code).first()
        qs = qs.filter(region__path__startswith=region.path) if region else qs.none()
    if f.organiser_id:
        qs = qs.filter(organiser_id=f.organiser_id)
    if f.q:
        qs = qs.filter(title__icontains=f.q)
    return qs.select_related("organiser", "region").order_by("starts_at", "pk")


def review_queue(*, user: UserLike, campaign: Campaign) -> QuerySet[Activity]:
    """Activities waiting for a decision that ``user``'s offices may take (first or final)."""
    qs = activity_list(user=user, campaign=campaign).filter(
        status__in=[Status.SUBMITTED, Status.FIRST_APPROVED]
    )
    if getattr(user, "is_superuser", False):
        return qs
    admin_paths = [
        g.region_path
        for g in user_grants(user)
        if g.region_path is not None and g.role == "office_admin"
    ]
    if not admin_paths:
        return qs.none()
    q = Q(pk__in=[])
    for p in admin_paths:
        q |= Q(region__path__startswith=p)
    return qs.filter(q)


# --- quotas ---------------------------------------------------------------------------------
@dataclass
class QuotaRow:
    organisation: Organisation
    quota: Quota
    registered: int
    published: int
    completed: int
    light: str  # green | yellow | red

    @property
    def missing(self) -> int:
        return max(0, self.quota.min_count - self.published)


def _light(published: int, need: int, campaign: Campaign, today: dt.date) -> str:
    if published >= need:
        return "green"
    if today > campaign.registration_end:
        return "red"
    return "yellow"


LIGHT_LABELS = {"green": "已达标", "yellow": "进行中", "red": "未达标"}


def quota_organisations(*, user: UserLike, campaign: Campaign) -> QuerySet[Organisation]:
    """Organisations a quota applies to, as far as ``user`` may see."""
    kinds = sorted({k for q in campaign.quotas.all() for k in q.kinds})
    return (
        Organisation.objects.restrict(user, Action.VIEW)
        .filter(region__path__startswith=campaign.region.path, kind__in=kinds, is_active=True)
        .select_related("region")
        .order_by("region__code", "name")
    )


def quota_rows(
    *, campaign: Campaign, organisations: list[Organisation], today: dt.date | None = None
) -> list[QuotaRow]:
    """Progress of each organisation (a page of them) against its quota: one query."""
    today = today or timezone.localdate()
    quotas = list(campaign.quotas.all())
    counts: dict[int, dict[str, Any]] = {
        row["organiser_id"]: dict(row)
        # unscoped: counts for organisations the caller got through restrict()
        for row in Activity.objects.filter(campaign=campaign, organiser__in=organisations)
        .values("organiser_id")
        .annotate(
            registered=Count("pk"),
            published=Count("pk", filter=Q(status__in=PUBLISHED)),
            completed=Count("pk", filter=Q(status=Status.COMPLETED)),
        )
    }
    rows = []
    for org in organisations:
        quota = next((q for q in quotas if org.kind in q.kinds), None)
        if quota is None:
            continue
        c = counts.get(org.pk, {})
        published = c.get("published", 0)
        rows.append(
            QuotaRow(
                organisation=org,
                quota=quota,
                registered=c.get("registered", 0),
                published=published,
                completed=c.get("completed", 0),
                light=_light(published, quota.min_count, campaign, today),
            )
        )
    return rows


def _child_bucket(campaign: Campaign) -> Any:
    """``path -> child region of the campaign's region`` (or the campaign's region itself
    for rows right at it; None outside)."""
    depth = campaign.region.path.count("/")
    children = {
        r.path: r
        # unscoped: the child regions of a campaign the caller may see (public geography)
        for r in Region.objects.filter(parent=campaign.region).only("pk", "name", "code", "path")
    }

    def child(path: str) -> Region | None:
        key = "/".join(path.split("/")[: depth + 1]) + "/"
        return children.get(key) or (campaign.region if path == campaign.region.path else None)

    return child


def quota_rollup(
    *, user: UserLike, campaign: Campaign, by_kind: bool = False
) -> list[dict[str, Any]]:
    """Per child region of the campaign's region (and, with ``by_kind``, per kind of
    organisation within it): organisations under a quota, how many met it, activities
    published and completed. Aggregated in the database."""
    orgs = quota_organisations(user=user, campaign=campaign)
    child = _child_bucket(campaign)
    quotas = list(campaign.quotas.all())
    need_by_kind: dict[str, int] = {}
    for q in quotas:
        for k in q.kinds:
            need_by_kind.setdefault(k, q.min_count)
    per_org = (
        # unscoped: counts for organisations restricted above (orgs)
        Activity.objects.filter(
            campaign=campaign, status__in=PUBLISHED, organiser__in=orgs.values("pk")
        )
        .values("organiser_id", "organiser__kind", "organiser__region__path")
        .annotate(n=Count("pk"), done=Count("pk", filter=Q(status=Status.COMPLETED)))
    )
    org_counts = orgs.values("region__path", "kind").annotate(n=Count("pk"))
    table: dict[tuple[str, str], dict[str, Any]] = {}

    def bucket(path: str, kind: str) -> dict[str, Any] | None:
        region = child(path)
        if region is None:
            return None
        key = (region.path, kind if by_kind else "")
        return table.setdefault(
            key,
            {
                "region": region,
                "kind": key[1],
                "kind_label": OrgKind(kind).label if by_kind and kind in OrgKind.values else "",
                "orgs": 0,
                "met": 0,
                "published": 0,
                "completed": 0,
            },
        )

    for row in org_counts:
        b = bucket(row["region__path"], row["kind"])
        if b:
            b["orgs"] += row["n"]
    for org_row in per_org:
        b = bucket(org_row["organiser__region__path"], org_row["organiser__kind"])
        if not b:
            continue
        b["published"] += org_row["n"]
        b["completed"] += org_row["done"]
        if org_row["n"] >= need_by_kind.get(org_row["organiser__kind"], 10**9):
            b["met"] += 1
    return sorted(table.values(), key=lambda b: (b["region"].code, b["kind"]))


def merge_kinds(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The per-region roll-up from the per-region × kind one (no further query)."""
    table: dict[str, dict[str, Any]] = {}
    for r in rows:
        b = table.setdefault(
            r["region"].path,
            {"region": r["region"], "kind": "", "kind_label": "", "orgs": 0, "met": 0}
            | {"published": 0, "completed": 0},
        )
        for k in ("orgs", "met", "published", "completed"):
            b[k] += r[k]
    return sorted(table.values(), key=lambda b: b["region"].code)


def activity_rollup(*, campaign: Campaign, activities: QuerySet[Activity]) -> list[dict[str, Any]]:
    """Activities of ``activities`` (already scoped) per child region of the campaign's
    region × kind of organiser: registered, published, completed, participants."""
    child = _child_bucket(campaign)
    rows = (
        activities.order_by()
        .values("organiser__region__path", "organiser__kind")
        .annotate(
            registered=Count("pk"),
            published=Count("pk", filter=Q(status__in=PUBLISHED)),
            completed=Count("pk", filter=Q(status=Status.COMPLETED)),
            people=Sum("actual_participants", filter=Q(status=Status.COMPLETED)),
        )
    )
    table: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        region = child(r["organiser__region__path"])
        if region is None:
            continue
        kind = r["organiser__kind"]
        b = table.setdefault(
            (region.path, kind),
            {
                "region": region,
                "kind": kind,
                "kind_label": OrgKind(kind).label if kind in OrgKind.values else kind,
                "registered": 0,
                "published": 0,
                "completed": 0,
                "people": 0,
            },
        )
        for k in ("registered", "published", "completed"):
            b[k] += r[k]
        b["people"] += r["people"] or 0
    return sorted(table.values(), key=lambda b: (b["region"].code, b["kind"]))


def day_start(day: dt.date) -> dt.datetime:
    """Midnight of ``day`` in the site's time zone (date filters as index-friendly ranges)."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def key_group_q(group: str) -> Q:
    """Activities serving a key group: JSONB containment (GIN-indexed) on PostgreSQL; the
    quoted code in the JSON text elsewhere (codes never overlap)."""
    if connection.vendor == "postgresql":
        return Q(key_groups__contains=[group])
    return Q(key_groups__icontains=f'"{group}"')


# --- public portal --------------------------------------------------------------------------
@dataclass
class PublicFilters:
    region_code: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    kind: str = ""
    key_group: str = ""
    mode: str = ""
    q: str = ""


REGION_IDS_LIMIT = 5000


def _public_region_q(code: str) -> tuple[Q, bool]:
    """Activities in the region of ``code`` and below, and whether the region is small (a
    county or a township: a few hundred activities even in a national campaign). The
    subtree's ids (a province has about 1,500 regions) let PostgreSQL use the region
    index."""
    # unscoped: public geography
    region = Region.objects.filter(code=code).only("path", "level").first()
    if region is None:
        return Q(pk__in=[]), True
    small = region.level >= Level.COUNTY
    # unscoped: public geography
    ids = list(
        Region.objects.filter(path__startswith=region.path).values_list("pk", flat=True)[
            : REGION_IDS_LIMIT + 1
        ]
    )
    if len(ids) > REGION_IDS_LIMIT:
        return Q(region__path__startswith=region.path), small
    return Q(region_id__in=ids), small


# A search word: up to this many matching activities are read through the gram index
# (counted exactly, sorted, counted per day); beyond it the word is common: the list
# walks the date index (matches come every few rows) and the calendar gives no counts.
SEARCH_EXACT = 2_000


def _search_text(q: str) -> Q:
    return Q(title__icontains=q) | Q(address__icontains=q)


def public_activities(
    *,
    campaign: Campaign,
    filters: PublicFilters | None = None,
    broad: bool | None = None,
    sort: bool = False,
) -> QuerySet[Activity]:
    """Approved activities of a campaign, for everyone. No personal fields are selected.

    A search word narrows through the gram index (``kepu.core.grams``) and the matches
    are sorted; with ``broad`` (more than ``SEARCH_EXACT`` matches, see
    ``public_search_size``; None: find out with that query) the plain lookups filter the
    date-ordered walk instead. ``sort``: the caller reads many rows (the iCal feed), so
    a filtered set is fetched by its indexes and sorted rather than found by walking the
    whole campaign in date order."""
    f = filters or PublicFilters()
    if broad is None:
        found = public_search_size(campaign=campaign, filters=f) if f.q else None
        broad = found is not None and found > SEARCH_EXACT
    # unscoped: the public portal shows approved activities to everyone
    qs = Activity.objects.filter(campaign=campaign, status__in=PUBLISHED)
    small = False
    if f.region_code:
        region_q, small = _public_region_q(f.region_code)
        small = small or sort
        qs = qs.filter(region_q)
    # Dates select by the day an activity starts (as the calendar counts them), a range
    # of the portal's ordering index.
    if f.date_from:
        qs = qs.filter(starts_at__gte=day_start(f.date_from))
    if f.date_to:
        qs = qs.filter(starts_at__lt=day_start(f.date_to + dt.timedelta(days=1)))
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.mode:
        qs = qs.filter(mode=f.mode)
    if f.key_group:
        qs = qs.filter(key_group_q(f.key_group))
    if f.q:
        grams = None if broad else grams_match(("title", "address"), f.q)
        if grams is not None:
            qs = qs.filter(grams)
            small = True  # at most SEARCH_EXACT rows: fetch them by the index and sort
        qs = qs.filter(_search_text(f.q))
    # Date order with LIMIT walks the partial index ``activity_published_order``; for a
    # small region (or a few search matches) an expression hides that index, so the
    # planner fetches the few rows and sorts them instead of walking the whole campaign
    # to find 20.
    first: Any = (
        ExpressionWrapper(F("starts_at") + Value(dt.timedelta(0)), output_field=DateTimeField())
        if small
        else F("starts_at")
    )
    return (
        qs.select_related("organiser", "region")
        .defer("contact_name", "contact_phone", "volunteers", "review_comment", "created_by")
        .order_by(first.asc(), "pk")
    )


def _estimated_rows(qs: QuerySet[Any]) -> int:
    """The planner's estimate of the rows ``qs`` returns (``EXPLAIN``, nothing is read).
    For the gram index it comes from the index's element statistics and is close for a
    common word (a single pair: 102,283 estimated for 99,963 at 500,000 activities)."""
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def public_search_size(*, campaign: Campaign, filters: PublicFilters) -> int | None:
    """How many published activities match the search word and the other filters (not
    the dates), at most ``SEARCH_EXACT + 1``: a word the planner expects more often than
    that is taken as common without reading anything; otherwise the matches are counted
    through the gram index (capped). None without a search word or off PostgreSQL (no
    gram index: the lookups scan)."""
    if not filters.q or connection.vendor != "postgresql":
        return None
    undated = PublicFilters(**{**filters.__dict__, "date_from": None, "date_to": None})
    # The estimate of the gram condition alone (the planner knows nothing of LIKE '%…%').
    unsearched = PublicFilters(**{**undated.__dict__, "q": ""})
    grams = grams_match(("title", "address"), filters.q)
    estimate = public_activities(campaign=campaign, filters=unsearched).filter(grams).order_by()
    if _estimated_rows(estimate.values("pk")) > SEARCH_EXACT:
        return SEARCH_EXACT + 1
    qs = public_activities(campaign=campaign, filters=undated, broad=False).order_by()
    return qs[: SEARCH_EXACT + 1].count()


def public_day_counts(
    *, campaign: Campaign, filters: PublicFilters, first: dt.date, last: dt.date
) -> dict[dt.date, int]:
    """Matching published activities per day from ``first`` to ``last``, counted (the
    calendar when the published counts cannot answer: a search word with at most
    ``SEARCH_EXACT`` matches, a deep region, mode and key group together)."""
    undated = PublicFilters(**{**filters.__dict__, "date_from": None, "date_to": None})
    rows = (
        public_activities(campaign=campaign, filters=undated, broad=False)
        .order_by()
        .filter(
            starts_at__gte=day_start(first), starts_at__lt=day_start(last + dt.timedelta(days=1))
        )
        .annotate(day=TruncDate("starts_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(n=Count("pk"))
    )
    return {row["day"]: row["n"] for row in rows}


# The iCal feed's window (a calendar client wants what is coming and what just happened,
# not a whole national campaign): events from the anchor on, soonest first, and those of
# the FEED_RECENT_DAYS before it, latest first, each part capped.
FEED_UPCOMING = 1000
FEED_RECENT = 200
FEED_RECENT_DAYS = 30


class UtcStamp(Func):
    """A DATE-TIME as RFC 5545 UTC text (``20260915T010000Z``), written by the database:
    converting 6,000 timestamps to aware datetimes cost more than the whole query."""

    output_field = CharField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYYMMDD\"T\"HH24MISS\"Z\"')",
            **extra,
        )

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="strftime('%%Y%%m%%dT%%H%%M%%SZ', %(expressions)s)",
            **extra,
        )


def feed_anchor(
    *, campaign: Campaign, filters: PublicFilters, now: dt.datetime | None = None
) -> dt.datetime:
    """Where the feed's window starts: the ``from`` day when given, else now, but no later
    than the end of the campaign (a finished campaign's feed shows its last days)."""
    if filters.date_from:
        return day_start(filters.date_from)
    now = now or timezone.now()
    return min(now, day_start(campaign.event_end + dt.timedelta(days=1)))


def public_feed(
    *, campaign: Campaign, filters: PublicFilters, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Published activities for the iCal feed, in date order: at most ``FEED_UPCOMING``
    starting at or after the anchor (``feed_anchor``) and at most ``FEED_RECENT`` of the
    ``FEED_RECENT_DAYS`` before it: two LIMIT reads, of the portal's date index for the
    whole campaign, by region and sorted for a region's feed (a province's 2,000 found by
    walking the dates took 1.1 s)."""
    anchor = feed_anchor(campaign=campaign, filters=filters, now=now)
    qs = public_activities(
        campaign=campaign,
        filters=PublicFilters(**{**filters.__dict__, "date_from": None}),
        sort=True,
    )
    qs = qs.annotate(
        dtstart=UtcStamp("starts_at"), dtend=UtcStamp("ends_at"), modified=UtcStamp("updated_at")
    )
    fields = ["pk", "title", "kind", "address", "region__name", "organiser__name"]
    fields += ["dtstart", "dtend", "modified"]
    upcoming = list(qs.filter(starts_at__gte=anchor).values(*fields)[:FEED_UPCOMING])
    recent = list(
        qs.filter(starts_at__gte=anchor - dt.timedelta(days=FEED_RECENT_DAYS), starts_at__lt=anchor)
        .reverse()
        .values(*fields)[:FEED_RECENT]
    )
    return recent[::-1] + upcoming


def public_campaigns() -> QuerySet[Campaign]:
    # unscoped: approved activities are public
    published = Activity.objects.filter(campaign=OuterRef("pk"), status__in=PUBLISHED)
    return (
        # unscoped: campaigns with approved activities are public
        Campaign.objects.filter(Exists(published))
        .select_related("region")
        .order_by("-year", "-event_start")
    )


def public_region_counts(*, campaign: Campaign) -> list[dict[str, Any]]:
    """Published activities per child region of the campaign's region (for the map), read
    from the published counts (``kepu.campaigns.counts``)."""
    from kepu.campaigns import counts

    children = list(
        Region.objects.filter(parent=campaign.region).only("pk", "name", "code", "path")
    )
    per_region = counts.per_child_region(campaign)
    return [{"name": r.name, "code": r.code, "value": per_region.get(r.pk, 0)} for r in children]


def map_region(*, campaign: Campaign, code: str) -> Region | None:
    """The prefecture whose map shows ``code``'s region (in the campaign's area), else the
    campaign's own prefecture: the activity form's map picker draws its counties."""
    # unscoped: public geography inside a campaign the caller may see
    region = Region.objects.filter(code=code.strip()[:12]).only("path").first() if code else None
    paths = [campaign.region.path]
    if region is not None and region.path.startswith(campaign.region.path):
        paths.insert(0, region.path)
    for path in paths:
        ancestors = _ancestor_paths(path)
        # unscoped: public geography
        found = Region.objects.filter(path__in=ancestors, level=Level.PREFECTURE).first()
        if found is not None:
            return found
    return None
