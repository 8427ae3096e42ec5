"""Published-activity counts per campaign × day × region × activity type.

The public portal's calendar, totals and map read ``PublishedCount`` rows (a few hundred
per campaign and month) instead of counting up to 500,000 activities on every request.

- ``track(activity)`` wraps every service that changes an activity: it takes the
  activity's count key before the change and applies the difference after it, in the
  caller's transaction (approval adds, unpublishing removes, an edit of a published
  activity's date, region or type moves it).
- ``rebuild(campaign)`` recomputes a campaign's rows from the activities
  (``kepu campaign recount``); ``stored(campaign)`` and ``computed(campaign)`` let a test
  or an operator compare the two.

An activity counts once in each of its regions from the campaign's region down to
``COUNT_DEPTH`` levels below it, on the local date it starts, under each of its facets:
all activities (``""``), its mode (``mode:online``) and each of its key groups
(``group:elderly``), so a filter by one of those is answered from the counts too.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from kepu.campaigns.models import (
    COUNT_DEPTH,
    PUBLISHED,
    Activity,
    Campaign,
    PublishedCount,
)
from kepu.regions.models import Region

# (region_id, depth, day, kind, facet) -> n
Key = tuple[int, int, dt.date, str, str]


def facets(mode: str, key_groups: Any) -> list[str]:
    """The facets an activity counts under: all (""), its mode, each of its key groups."""
    out = ["", f"mode:{mode}"]
    for g in key_groups or []:
        if isinstance(g, str) and f"group:{g}" not in out:
            out.append(f"group:{g}")
    return out


def facet_of(mode: str = "", key_group: str = "") -> str | None:
    """The one facet a filter asks for ("" none), or None when it needs two."""
    if mode and key_group:
        return None
    if mode:
        return f"mode:{mode}"
    return f"group:{key_group}" if key_group else ""


def _prefixes(path: str, base_depth: int) -> list[tuple[int, str]]:
    """(relative depth, ancestor path) from the campaign's region down to COUNT_DEPTH."""
    parts = path.strip("/").split("/")
    out = []
    for d in range(0, COUNT_DEPTH + 1):
        n = base_depth + d
        if n > len(parts):
            break
        out.append((d, "/".join(parts[:n]) + "/"))
    return out


def _base_depth(campaign: Campaign) -> int:
    return campaign.region.path.count("/")


def _local_day(value: dt.datetime) -> dt.date:
    return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()


def _region_ids(paths: set[str]) -> dict[str, int]:
    if not paths:
        return {}
    # unscoped: region ids of published activities' ancestors (public geography)
    return dict(Region.objects.filter(path__in=sorted(paths)).values_list("path", "pk"))


def activity_keys(activity: Activity) -> list[Key]:
    """The rows a published activity counts in (none when it is not published)."""
    if activity.status not in PUBLISHED:
        return []
    campaign = activity.campaign
    prefixes = _prefixes(activity.region.path, _base_depth(campaign))
    ids = _region_ids({p for _, p in prefixes})
    day = _local_day(activity.starts_at)
    return [
        (ids[p], d, day, activity.kind, f)
        for d, p in prefixes
        if p in ids
        for f in facets(activity.mode, activity.key_groups)
    ]


def _apply(campaign_id: int, delta: Counter[Key]) -> None:
    """Add ``delta`` to the rows, creating missing ones (one upsert statement)."""
    rows = [(k, n) for k, n in delta.items() if n]
    if not rows:
        return
    table = PublishedCount._meta.db_table
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(rows))
    params: list[Any] = []
    for (region_id, depth, day, kind, facet), n in rows:
        params += [campaign_id, region_id, depth, day, kind, facet, n]
    # unscoped: derived public counts, written only by the services' own transactions
    sql = (
        f"INSERT INTO {table} (campaign_id, region_id, depth, day, kind, facet, n) "
        f"VALUES {values} ON CONFLICT (campaign_id, region_id, day, kind, facet) "
        f"DO UPDATE SET n = {table}.n + excluded.n"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@contextmanager
def track(activity: Activity) -> Iterator[None]:
    """Keep the counts right across a change of ``activity`` made inside the block.

    The "before" side is the saved row, locked until the transaction ends, so two
    reviewers approving the same activity at once count it once."""
    with transaction.atomic():
        saved = (
            # unscoped: the caller checked the scope; this re-reads the same row to lock it
            Activity._base_manager.select_for_update(of=("self",))
            .select_related("campaign__region", "region")
            .filter(pk=activity.pk)
            .first()
            if activity.pk
            else None
        )
        before = Counter(activity_keys(saved)) if saved is not None else Counter()
        yield
        after = Counter(activity_keys(activity))
        delta: Counter[Key] = Counter()
        for k in set(before) | set(after):
            delta[k] = after[k] - before[k]
        _apply(activity.campaign_id, delta)


def computed(campaign: Campaign) -> dict[Key, int]:
    """What the rows should hold, counted from the activities."""
    base = _base_depth(campaign)
    groups = (
        # unscoped: public counts of the campaign's published activities
        Activity.objects.filter(campaign=campaign, status__in=PUBLISHED)
        .order_by()
        .annotate(day=TruncDate("starts_at"))
        .values("region__path", "day", "kind", "mode", "key_groups")
        .annotate(n=Count("pk"))
    )
    per_path: Counter[tuple[str, int, dt.date, str, str]] = Counter()
    for g in groups.iterator(chunk_size=5000):
        keys = facets(g["mode"], g["key_groups"])
        for d, p in _prefixes(g["region__path"], base):
            for f in keys:
                per_path[(p, d, g["day"], g["kind"], f)] += g["n"]
    ids = _region_ids({k[0] for k in per_path})
    return {
        (ids[p], d, day, kind, f): n
        for (p, d, day, kind, f), n in per_path.items()
        if p in ids and n
    }


def stored(campaign: Campaign) -> dict[Key, int]:
    return {
        (r["region_id"], r["depth"], r["day"], r["kind"], r["facet"]): r["n"]
        # unscoped: the campaign's public counts
        for r in PublishedCount.objects.filter(campaign=campaign)
        .exclude(n=0)
        .values("region_id", "depth", "day", "kind", "facet", "n")
    }


def rebuild(campaign: Campaign) -> int:
    """Recompute the campaign's rows from its activities; returns the number of rows."""
    rows = computed(campaign)
    with transaction.atomic():
        # Lock the campaign so approvals wait for the rebuild instead of racing it.
        # unscoped: the rebuild command runs as the operator, over every campaign
        Campaign.objects.select_for_update().filter(pk=campaign.pk).exists()
        # unscoped: derived rows of this campaign, replaced as a whole
        PublishedCount.objects.filter(campaign=campaign).delete()
        PublishedCount.objects.bulk_create(
            [
                PublishedCount(
                    campaign=campaign, region_id=rid, depth=d, day=day, kind=kind, facet=f, n=n
                )
                for (rid, d, day, kind, f), n in rows.items()
            ],
            batch_size=5000,
        )
    return len(rows)


# --- reads for the portal -----------------------------------------------------------------
def count_region(campaign: Campaign, code: str) -> tuple[Region | None, bool]:
    """The filter region of ``code`` and whether the counts hold it (within COUNT_DEPTH
    below the campaign's region). ``(None, False)``: no such region in the campaign."""
    if not code:
        return campaign.region, True
    # unscoped: public geography
    region = Region.objects.filter(code=code).only("pk", "path", "name").first()
    if region is None or not region.path.startswith(campaign.region.path):
        return None, False
    depth = region.path.count("/") - _base_depth(campaign)
    return region, depth <= COUNT_DEPTH


def _rows(campaign: Campaign, region: Region, kind: str = "", facet: str = "") -> Any:
    # unscoped: public counts of approved activities
    qs = PublishedCount.objects.filter(campaign=campaign, region=region, facet=facet)
    return qs.filter(kind=kind) if kind else qs


def total(campaign: Campaign, region: Region | None = None, kind: str = "", facet: str = "") -> int:
    from django.db.models import Sum

    got = _rows(campaign, region or campaign.region, kind, facet).aggregate(t=Sum("n"))["t"]
    return int(got or 0)


def per_day(
    campaign: Campaign,
    region: Region,
    first: dt.date,
    last: dt.date,
    kind: str = "",
    facet: str = "",
) -> dict[dt.date, int]:
    from django.db.models import Sum

    return {
        r["day"]: int(r["t"])
        for r in _rows(campaign, region, kind, facet)
        .filter(day__gte=first, day__lte=last)
        .order_by()
        .values("day")
        .annotate(t=Sum("n"))
        if r["t"]
    }


def per_child_region(campaign: Campaign) -> dict[int, int]:
    """Published activities per child region of the campaign's region (region id → n)."""
    from django.db.models import Sum

    return {
        r["region_id"]: int(r["t"])
        # unscoped: public counts of approved activities
        for r in PublishedCount.objects.filter(campaign=campaign, depth=1, facet="")
        .order_by()
        .values("region_id")
        .annotate(t=Sum("n"))
    }
