"""The public activity portal (no login): campaign calendar and list, map data, activity
detail, iCal feeds and open data. Only approved activities, never personal fields.

Fast at national scale (500,000 activities): totals, the calendar and the map read the
published counts (``kepu.campaigns.counts``) instead of counting activities; the list
is cut with LIMIT from the partial index ``activity_published_order`` and pages without
a count (``BoundedPage``). Pages are cached briefly on the server and marked
``Cache-Control: public`` with an ETag, so browsers and proxies revalidate cheaply."""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import json
from typing import Any

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.http import ConditionalGetMiddleware
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.decorators import decorator_from_middleware
from django.views.decorators.cache import cache_page

from kepu.campaigns import awards, counts, selectors
from kepu.campaigns.excel import OPEN_DATA_FIELDS, open_data_row
from kepu.campaigns.models import PUBLISHED, Activity, ActivityPhoto, ActivityType, Campaign, Mode
from kepu.core.files import csv_safe
from kepu.plans.models import KeyGroup
from kepu.survey import geo

CACHE_SECONDS = 60
OPEN_DATA_LIMIT = 50_000
PER_PAGE = 20
MAX_PAGE = 250  # 5,000 activities deep; narrower filters beyond that

_conditional = decorator_from_middleware(ConditionalGetMiddleware)


def portal_cache(seconds: int = CACHE_SECONDS) -> Any:
    """Server-side page cache plus headers for browsers and proxies: public, short
    max-age, stale-while-revalidate, and an ETag (304 on a matching If-None-Match)."""

    def decorate(view: Any) -> Any:
        cached = cache_page(seconds)(view)

        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            response = cached(request, *args, **kwargs)
            if response.status_code == 200:
                patch_cache_control(
                    response, public=True, max_age=seconds, stale_while_revalidate=seconds * 5
                )
            return response

        wrapper.__name__ = getattr(view, "__name__", "portal_view")
        wrapper.__doc__ = view.__doc__
        return _conditional(wrapper)

    return decorate


class BoundedPage:
    """A page of a list without a count: ``per_page + 1`` rows tell whether there is a
    next page. Page numbers stop at ``MAX_PAGE``."""

    def __init__(self, request: HttpRequest, qs: Any, per_page: int = PER_PAGE) -> None:
        try:
            number = int(request.GET.get("page", "1"))
        except ValueError:
            number = 1
        self.number = max(1, min(number, MAX_PAGE))
        start = (self.number - 1) * per_page
        rows = list(qs[start : start + per_page + 1])
        self.object_list = rows[:per_page]
        self.has_next = len(rows) > per_page and self.number < MAX_PAGE
        self.has_previous = self.number > 1
        self.at_limit = len(rows) > per_page and self.number >= MAX_PAGE
        query = request.GET.copy()
        query.pop("page", None)
        self.base_query = query.urlencode()

    def __iter__(self) -> Any:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def _filters(request: HttpRequest) -> selectors.PublicFilters:
    g = request.GET
    kind, mode, group = g.get("kind", ""), g.get("mode", ""), g.get("group", "")
    return selectors.PublicFilters(
        region_code=g.get("region", "").strip()[:12],
        date_from=_date(g.get("from", "")),
        date_to=_date(g.get("to", "")),
        kind=kind if kind in ActivityType.values else "",
        mode=mode if mode in Mode.values else "",
        key_group=group if group in KeyGroup.values else "",
        q=g.get("q", "").strip()[:100],
    )


def _public_campaign(pk: int) -> Campaign:
    return get_object_or_404(Campaign.objects.select_related("region"), pk=pk)


@portal_cache()
def portal_index(request: HttpRequest) -> HttpResponse:
    page = BoundedPage(request, selectors.public_campaigns())
    return render(request, "campaigns/public/index.html", {"page": page})


def _month(request: HttpRequest, campaign: Campaign) -> dt.date:
    value = request.GET.get("month", "")
    try:
        year, month = (int(x) for x in value.split("-"))
        return dt.date(year, month, 1)
    except (ValueError, TypeError):
        return campaign.event_start.replace(day=1)


def _count_filter(campaign: Campaign, filters: selectors.PublicFilters) -> tuple[Any, str | None]:
    """(region, facet) when the published counts answer ``filters`` without the dates: a
    region within the counted levels, a type, and a mode or a key group (one of them).
    (None, None): count the activities themselves (a search word, both mode and group, a
    deep region)."""
    facet = counts.facet_of(filters.mode, filters.key_group)
    if filters.q or facet is None:
        return None, None
    region, countable = counts.count_region(campaign, filters.region_code)
    return (region, facet) if countable else (None, None)


def _calendar(
    campaign: Campaign, filters: selectors.PublicFilters, month: dt.date, broad: bool = False
) -> list[list[dict[str, Any]]]:
    """The month's weeks with the matching activities per day: from the published counts
    when they answer the filters, else counted; a common search word (``broad``, more
    than ``SEARCH_EXACT`` matches) gets no counts, every day links to its list."""
    last_day = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    region, facet = _count_filter(campaign, filters)
    per_day: dict[dt.date, int] = {}
    if facet is not None:
        per_day = counts.per_day(campaign, region, month, last_day, filters.kind, facet)
    elif not broad:
        per_day = selectors.public_day_counts(
            campaign=campaign, filters=filters, first=month, last=last_day
        )
    weeks = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month):
        weeks.append(
            [
                {
                    "date": d,
                    "in_month": d.month == month.month,
                    "count": per_day.get(d, 0),
                    "link": broad and d.month == month.month,
                }
                for d in week
            ]
        )
    return weeks


@portal_cache()
def portal_campaign(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _public_campaign(pk)
    filters = _filters(request)
    month = _month(request, campaign)
    prev_month = (month - dt.timedelta(days=1)).replace(day=1)
    next_month = (month + dt.timedelta(days=32)).replace(day=1)
    # A search word: how many match (through the gram index, capped) decides whether the
    # list and calendar read the matches or walk the dates (a common word).
    found = selectors.public_search_size(campaign=campaign, filters=filters)
    broad = found is not None and found > selectors.SEARCH_EXACT
    page = BoundedPage(
        request, selectors.public_activities(campaign=campaign, filters=filters, broad=broad)
    )
    region, facet = _count_filter(campaign, filters)
    dated = bool(filters.date_from or filters.date_to)
    matching: int | str | None = None
    if facet is not None and not dated:
        matching = counts.total(campaign, region, filters.kind, facet)
    elif found is not None and not dated:
        matching = f"{selectors.SEARCH_EXACT:,} 以上" if broad else found
    query = request.GET.copy()
    query.pop("month", None)
    query.pop("page", None)
    chart = {
        "regions": selectors.public_region_counts(campaign=campaign),
        "geo_url": reverse("portal:geo", args=[campaign.pk])
        if geo.has_geometry(campaign.region)
        else "",
        "points_url": reverse("portal:points", args=[campaign.pk]),
        "region": campaign.region.name,
    }
    return render(
        request,
        "campaigns/public/campaign.html",
        {
            "campaign": campaign,
            "page": page,
            "filters": filters,
            "weeks": _calendar(campaign, filters, month, broad),
            "month": month,
            "prev_month": prev_month,
            "next_month": next_month,
            "query": query.urlencode(),
            "kinds": ActivityType.choices,
            "modes": Mode.choices,
            "groups": KeyGroup.choices,
            "chart": chart,
            "total": counts.total(campaign),
            "matching": matching,
            "broad": broad,
        },
    )


@portal_cache()
def portal_awards(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _public_campaign(pk)
    if campaign.awards_published_at is None:
        raise Http404("评选结果尚未发布")
    return render(
        request,
        "campaigns/public/awards.html",
        {"campaign": campaign, "awards": awards.published_awards(campaign)},
    )


@portal_cache()
def portal_activity(request: HttpRequest, pk: int) -> HttpResponse:
    activity = get_object_or_404(
        Activity.objects.filter(status__in=PUBLISHED).select_related(
            "campaign", "organiser", "region"
        ),
        pk=pk,
    )
    photos = activity.photos.filter(public=True)[:12]
    return render(
        request,
        "campaigns/public/activity.html",
        {"activity": activity, "campaign": activity.campaign, "photos": photos},
    )


def portal_poster(request: HttpRequest, pk: int) -> FileResponse:
    activity = get_object_or_404(Activity.objects.filter(status__in=PUBLISHED), pk=pk)
    if not activity.poster:
        raise Http404("没有海报")
    resp = FileResponse(activity.poster.open("rb"))
    resp["Cache-Control"] = "public, max-age=3600"
    return resp


def portal_photo(request: HttpRequest, pk: int) -> FileResponse:
    photo = get_object_or_404(
        ActivityPhoto.objects.filter(public=True, activity__status__in=PUBLISHED), pk=pk
    )
    resp = FileResponse(photo.image.open("rb"))
    resp["Cache-Control"] = "public, max-age=3600"
    return resp


@portal_cache(CACHE_SECONDS * 10)
def portal_geo(request: HttpRequest, pk: int) -> JsonResponse:
    campaign = _public_campaign(pk)
    data = geo.region_geojson(campaign.region)
    if data is None:
        raise Http404("该区域没有地图数据")
    return JsonResponse(data)


POINTS_LIMIT = 2000


@portal_cache()
def portal_points(request: HttpRequest, pk: int) -> JsonResponse:
    """Activities with coordinates (at most 2,000, soonest first) for the map."""
    campaign = _public_campaign(pk)
    qs = (
        selectors.public_activities(campaign=campaign, filters=_filters(request))
        .filter(latitude__isnull=False, longitude__isnull=False)
        .values("pk", "title", "latitude", "longitude")[:POINTS_LIMIT]
    )
    return JsonResponse(
        {
            "points": [
                {
                    "name": r["title"],
                    "value": [float(r["longitude"] or 0), float(r["latitude"] or 0)],
                    "url": reverse("portal:activity", args=[r["pk"]]),
                }
                for r in qs
            ]
        }
    )


_ICAL_ESCAPES = str.maketrans({"\\": "\\\\", ";": "\\;", ",": "\\,", "\r": " ", "\n": " "})


def _ical_text(value: str) -> bytes:
    """An RFC 5545 TEXT value (§3.3.11): one line, with backslash, semicolon and comma
    escaped (what icalendar's vText writes, at a fraction of its cost)."""
    return value.translate(_ICAL_ESCAPES).encode()


def _ical_utc(value: dt.datetime) -> bytes:
    """DATE-TIME in UTC form (``…Z``): no TZID, so no VTIMEZONE is needed."""
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ").encode()


def _ical_line(name: bytes, value: bytes) -> bytes:
    """One content line folded at 75 octets (RFC 5545 §3.1), never inside a UTF-8
    sequence; continuation lines start with a space."""
    data = name + b":" + value
    if len(data) <= 75:
        return data + b"\r\n"
    parts, start, limit = [], 0, 75
    while len(data) - start > limit:
        end = start + limit
        while data[end] & 0xC0 == 0x80:  # a UTF-8 continuation byte: cut before it
            end -= 1
        parts.append(data[start:end])
        start, limit = end, 74
    parts.append(data[start:])
    return b"\r\n ".join(parts) + b"\r\n"


FEED_REFRESH = "PT1H"


@portal_cache()
def portal_ics(request: HttpRequest, pk: int) -> HttpResponse:
    """RFC 5545 feed of the campaign's approved activities: ``?region=`` (and the other
    portal filters) narrow it; the window is ``selectors.public_feed`` (at most 1,000
    events from now on and 200 of the last 30 days; ``?from=YYYY-MM-DD`` moves the
    start). Written line by line (the icalendar component tree costs ~0.3 ms an event;
    a province's feed took 1.3 s); the tests read it back with icalendar."""
    campaign = _public_campaign(pk)
    filters = _filters(request)
    rows = selectors.public_feed(campaign=campaign, filters=filters)
    host = (request.get_host().split(":")[0] or "kepu").encode()
    stamp = _ical_utc(timezone.now())
    marker = 987654321
    url = request.build_absolute_uri(reverse("portal:activity", args=[marker]))
    head, tail = url.split(str(marker), 1)
    kinds = dict(ActivityType.choices)
    caption = (
        f"{campaign.title}: 已发布的科普活动, 自 {selectors.FEED_RECENT_DAYS} 天前起"
        f"(最多 {selectors.FEED_RECENT} 场)及此后最多 {selectors.FEED_UPCOMING} 场; "
        "可按区划等条件订阅更小的范围。"
    )
    out = [
        b"BEGIN:VCALENDAR\r\n",
        _ical_line(b"VERSION", b"2.0"),
        _ical_line(b"PRODID", "-//Kepu//科普活动//ZH".encode()),
        _ical_line(b"CALSCALE", b"GREGORIAN"),
        _ical_line(b"METHOD", b"PUBLISH"),
        _ical_line(b"X-WR-CALNAME", _ical_text(campaign.title)),
        _ical_line(b"X-WR-CALDESC", _ical_text(caption)),
        _ical_line(b"X-WR-TIMEZONE", b"Asia/Shanghai"),
        _ical_line(b"REFRESH-INTERVAL;VALUE=DURATION", FEED_REFRESH.encode()),
        _ical_line(b"X-PUBLISHED-TTL", FEED_REFRESH.encode()),
    ]
    for a in rows:
        pk_bytes = str(a["pk"]).encode()
        location = f"{a['region__name']} {a['address']}".strip()
        out += [
            b"BEGIN:VEVENT\r\n",
            _ical_line(b"UID", b"activity-" + pk_bytes + b"@" + host),
            _ical_line(b"DTSTAMP", stamp),
            _ical_line(b"DTSTART", a["dtstart"].encode()),
            _ical_line(b"DTEND", a["dtend"].encode()),
            _ical_line(b"LAST-MODIFIED", a["modified"].encode()),
            _ical_line(b"SUMMARY", _ical_text(a["title"])),
            _ical_line(b"LOCATION", _ical_text(location)),
            _ical_line(
                b"DESCRIPTION",
                _ical_text(f"{kinds.get(a['kind'], a['kind'])} · {a['organiser__name']}"),
            ),
            _ical_line(b"URL", f"{head}{a['pk']}{tail}".encode()),
            b"END:VEVENT\r\n",
        ]
    out.append(b"END:VCALENDAR\r\n")
    resp = HttpResponse(b"".join(out), content_type="text/calendar; charset=utf-8")
    resp["Content-Disposition"] = f'inline; filename="campaign-{campaign.pk}.ics"'
    return resp


@portal_cache()
def portal_open_data(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    campaign = _public_campaign(pk)
    qs = selectors.public_activities(campaign=campaign, filters=_filters(request))[:OPEN_DATA_LIMIT]
    rows = (open_data_row(a) for a in qs.iterator(chunk_size=2000))
    if fmt == "json":
        return HttpResponse(
            json.dumps({"campaign": campaign.title, "activities": list(rows)}, ensure_ascii=False),
            content_type="application/json; charset=utf-8",
        )
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf)
    writer.writerow([label for _, label in OPEN_DATA_FIELDS])
    for row in rows:
        values = [row[key] for key, _ in OPEN_DATA_FIELDS]
        writer.writerow(
            [
                csv_safe("、".join(v) if isinstance(v, list) else ("" if v is None else v))
                for v in values
            ]
        )
    resp = HttpResponse(buf.getvalue(), content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}-activities.csv"'
    return resp
