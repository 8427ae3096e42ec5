"""The published-activity counts the portal reads: kept by the services, equal to a fresh
count after every change, rebuilt by ``kepu campaign recount``; and the portal's cache
headers and count-free pager."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from kepu.campaigns import counts, services
from kepu.campaigns.models import ActivityType, Mode, PublishedCount, Status
from tests.campaigns.conftest import activity_fields, png_bytes


def register(world, title="讲座", region="city_a", org="unit_a1", user="staff_a1", **over):
    return services.activity_register(
        user=world.users[user],
        campaign=over.pop("campaign"),
        organiser=world.orgs[org],
        fields=activity_fields(world, region_key=region, title=title, **over),
    )


def approve(world, activity):
    services.activity_review(user=world.users["admin_a"], activity=activity, approve=True)
    activity.refresh_from_db()
    return activity


def consistent(campaign) -> dict:
    """The stored rows equal a fresh count; returns those of all activities (facet "")."""
    have = counts.stored(campaign)
    assert have == counts.computed(campaign)
    return {k[:4]: n for k, n in have.items() if k[4] == ""}


def by_region(campaign, region) -> int:
    return sum(
        PublishedCount.objects.filter(campaign=campaign, region=region).values_list("n", flat=True)
    )


def test_counts_follow_approval_completion_and_unpublishing(world, campaign, town_staff):
    tz = timezone.get_current_timezone()
    a = register(world, campaign=campaign, title="城区讲座")
    b = register(
        world,
        campaign=campaign,
        title="乡村展览",
        region="town_a",
        org="town_a",
        user="town_staff",
        kind=ActivityType.EXHIBITION,
        mode=Mode.BOTH,
        link="https://live.example.cn/x",
        key_groups=["farmers", "elderly"],
        starts_at=dt.datetime(2026, 9, 16, 23, 30, tzinfo=tz),
        ends_at=dt.datetime(2026, 9, 17, 1, 0, tzinfo=tz),
    )
    assert consistent(campaign) == {}  # submitted activities are not public

    approve(world, a)
    have = consistent(campaign)
    assert have == {(world.regions["city_a"].pk, 0, dt.date(2026, 9, 15), "lecture"): 1}

    approve(world, b)
    have = consistent(campaign)
    # the township activity counts in the city, its county and its township, on its local day
    assert {k: n for k, n in have.items() if k[3] == "exhibition"} == {
        (world.regions["city_a"].pk, 0, dt.date(2026, 9, 16), "exhibition"): 1,
        (world.regions["county_a"].pk, 1, dt.date(2026, 9, 16), "exhibition"): 1,
        (world.regions["town_a"].pk, 2, dt.date(2026, 9, 16), "exhibition"): 1,
    }
    assert counts.total(campaign) == 2
    assert counts.total(campaign, world.regions["county_a"]) == 1
    assert counts.total(campaign, kind="lecture") == 1
    # facets: a mode or a key group
    assert counts.total(campaign, facet="mode:both") == 1
    assert counts.total(campaign, facet="mode:offline") == 1
    assert counts.total(campaign, world.regions["town_a"], facet="group:farmers") == 1
    assert counts.total(campaign, facet="group:youth") == 0
    assert counts.facet_of("online", "") == "mode:online"
    assert counts.facet_of("", "elderly") == "group:elderly"
    assert counts.facet_of("online", "elderly") is None

    services.activity_photo_add(
        user=world.users["staff_a1"], activity=a, name="p.png", data=png_bytes()
    )
    services.activity_complete(user=world.users["staff_a1"], activity=a, actual_participants=80)
    assert consistent(campaign) == have  # completed stays published: nothing moves

    with pytest.raises(PermissionDenied):
        services.activity_unpublish(user=world.users["staff_a1"], activity=b, comment="x")
    services.activity_unpublish(user=world.users["admin_a"], activity=b, comment="地址有误")
    b.refresh_from_db()
    assert b.status == Status.RETURNED
    consistent(campaign)
    assert counts.total(campaign) == 1 and by_region(campaign, world.regions["town_a"]) == 0

    # the unit corrects it (a new date) and it is approved again: counted on the new day
    services.activity_update(
        user=world.users["town_staff"],
        activity=b,
        fields=activity_fields(
            world,
            region_key="town_a",
            title="乡村展览",
            kind=ActivityType.EXHIBITION,
            key_groups=["elderly"],
            starts_at=dt.datetime(2026, 9, 20, 9, 0, tzinfo=tz),
            ends_at=dt.datetime(2026, 9, 20, 11, 0, tzinfo=tz),
        ),
        version=b.version,
        submit=True,
    )
    approve(world, b)
    assert counts.per_day(
        campaign, world.regions["city_a"], dt.date(2026, 9, 1), dt.date(2026, 9, 30)
    ) == {dt.date(2026, 9, 15): 1, dt.date(2026, 9, 20): 1}
    assert counts.total(campaign, facet="group:farmers") == 0  # the group was dropped
    assert counts.total(campaign, facet="group:elderly") == 1
    consistent(campaign)


def test_approving_a_stale_copy_twice_counts_once(world, campaign):
    a = register(world, campaign=campaign)
    stale = type(a).objects.select_related("campaign__region", "region").get(pk=a.pk)
    approve(world, a)
    # a second reviewer's page was opened before the approval: the service sees the saved
    # row, so the activity is not counted twice
    stale.status = Status.SUBMITTED
    services.activity_review(user=world.users["super"], activity=stale, approve=True)
    assert counts.total(campaign) == 1
    consistent(campaign)


def test_recount_rebuilds_and_check_finds_drift(world, campaign, capsys):
    approve(world, register(world, campaign=campaign))
    approve(world, register(world, campaign=campaign, title="第二场"))
    consistent(campaign)
    good = counts.stored(campaign)
    PublishedCount.objects.filter(campaign=campaign).update(n=7)
    PublishedCount.objects.create(
        campaign=campaign,
        region=world.regions["county_a"],
        depth=1,
        day=dt.date(2026, 9, 1),
        kind="contest",
        facet="",
        n=3,
    )
    with pytest.raises(CommandError):
        call_command("campaign_recount", "--check", "--campaign", str(campaign.pk))
    assert "不一致" in capsys.readouterr().out
    call_command("campaign_recount", "--campaign", str(campaign.pk))
    assert counts.stored(campaign) == good
    call_command("campaign_recount", "--check")
    with pytest.raises(CommandError):
        call_command("campaign_recount", "--campaign", "999999")


def test_kepu_cli_forwards_recount(monkeypatch):
    from kepu import cli

    seen = []
    monkeypatch.setattr(cli, "_django", lambda argv: seen.append(argv) or 0)
    assert cli.main(["campaign", "recount", "--check"]) == 0
    assert seen == [["campaign_recount", "--check"]]


def test_portal_reads_the_counts(client, world, campaign):
    approve(world, register(world, campaign=campaign))
    cache.clear()
    url = reverse("portal:campaign", args=[campaign.pk])
    resp = client.get(url, {"month": "2026-9"})
    assert resp.context["total"] == 1 and resp.context["matching"] == 1
    # Doubling the stored rows doubles what the calendar and the total say: they come
    # from the counts, not from counting activities.
    PublishedCount.objects.filter(campaign=campaign).update(n=2)
    cache.clear()
    resp = client.get(url, {"month": "2026-9"})
    cells = {d["date"].day: d["count"] for w in resp.context["weeks"] for d in w if d["in_month"]}
    assert cells[15] == 2 and resp.context["total"] == 2
    # A key group is a facet of the counts; a search word is not: then the calendar
    # counts the activities themselves.
    cache.clear()
    resp = client.get(url, {"month": "2026-9", "group": "youth"})
    assert resp.context["matching"] == 0

    cache.clear()
    resp = client.get(url, {"month": "2026-9", "q": "讲座"})
    cells = {d["date"].day: d["count"] for w in resp.context["weeks"] for d in w if d["in_month"]}
    # With the gram index (PostgreSQL) the search is counted; SQLite scans and does not.
    found = 1 if connection.vendor == "postgresql" else None
    assert cells[15] == 1 and resp.context["matching"] == found
    regions = {r["code"]: r["value"] for r in resp.context["chart"]["regions"]}
    assert regions == {"530302": 0}


@pytest.mark.parametrize("broad", [False, True])
def test_portal_search_finds_words_of_one_two_and_more_characters(
    client, world, campaign, monkeypatch, broad
):
    """The search word matches titles and addresses, case-insensitively, whatever its
    length; the same through the gram index (few matches, counted per day) and through
    the date walk (``broad``: more matches than ``SEARCH_EXACT``; the calendar then
    links every day without counts)."""
    from kepu.campaigns import selectors

    tz = timezone.get_current_timezone()
    on = dict(
        starts_at=dt.datetime(2026, 9, 16, 9, 0, tzinfo=tz),
        ends_at=dt.datetime(2026, 9, 16, 11, 0, tzinfo=tz),
    )
    a = approve(world, register(world, campaign=campaign, title="农技培训进乡村"))
    b = approve(world, register(world, campaign=campaign, title="科普讲座", address="Abc路7号"))
    c = approve(world, register(world, campaign=campaign, title="农技讲座", **on))
    register(world, campaign=campaign, title="农技未发布")  # submitted: never public
    if broad:
        monkeypatch.setattr(selectors, "SEARCH_EXACT", 0)
    url = reverse("portal:campaign", args=[campaign.pk])
    cases = {
        "农技": [a, c],
        "技": [a, c],
        "农技培训": [a],
        "ABC": [b],
        "c路7": [b],
        "讲座": [b, c],
        "讲技": [],
        "培训讲座": [],
        "100%": [],
    }
    for word, want in cases.items():
        cache.clear()
        resp = client.get(url, {"month": "2026-9", "q": word})
        got = [x.pk for x in resp.context["page"]]
        assert got == [x.pk for x in want], word
        cells = {d["date"].day: d["count"] for w in resp.context["weeks"] for d in w if d["count"]}
        days: dict[int, int] = {}
        for x in want:
            day = timezone.localtime(x.starts_at).day
            days[day] = days.get(day, 0) + 1
        if broad and connection.vendor == "postgresql" and want:
            assert cells == {} and resp.context["broad"], word
            assert resp.context["matching"] == f"{0:,} 以上", word
            assert "日历不按天计数" in resp.content.decode()
        else:
            assert cells == days, word
            if not resp.context["broad"]:
                assert resp.context["matching"] in (None, len(want)), word
    # The iCal feed and the open data take the same search.
    cache.clear()
    data = client.get(reverse("portal:open_json", args=[campaign.pk]), {"q": "农技"}).json()
    assert sorted(r["title"] for r in data["activities"]) == ["农技培训进乡村", "农技讲座"]


def test_portal_pager_needs_no_count(client, world, campaign, django_assert_max_num_queries):
    for i in range(23):
        approve(world, register(world, campaign=campaign, title=f"活动{i:02d}"))
    cache.clear()
    url = reverse("portal:campaign", args=[campaign.pk])
    first = client.get(url)
    assert first.context["page"].has_next and not first.context["page"].has_previous
    assert len(first.context["page"]) == 20
    second = client.get(url, {"page": 2})
    assert [a.title for a in second.context["page"]] == ["活动20", "活动21", "活动22"]
    assert not second.context["page"].has_next
    assert "下一页" in first.content.decode() and "下一页" not in second.content.decode()
    with django_assert_max_num_queries(9):
        client.get(url, {"page": 3, "kind": "lecture"})


def test_portal_pages_are_cacheable_with_etags(client, world, campaign):
    approve(world, register(world, campaign=campaign))
    cache.clear()
    for url in (
        reverse("portal:index"),
        reverse("portal:campaign", args=[campaign.pk]),
        reverse("portal:points", args=[campaign.pk]),
    ):
        resp = client.get(url)
        assert resp.status_code == 200, url
        cc = resp["Cache-Control"]
        assert "public" in cc and "max-age=60" in cc and "stale-while-revalidate" in cc, url
        assert resp.has_header("ETag"), url
        again = client.get(url, HTTP_IF_NONE_MATCH=resp["ETag"])
        assert again.status_code == 304, url
    missing = client.get(reverse("portal:campaign", args=[999999]))
    assert missing.status_code == 404 and "public" not in missing.get("Cache-Control", "")


def test_map_picker_geometry_is_the_prefecture_around_the_region(client, world, campaign):
    from kepu.campaigns import selectors

    city = world.regions["city_a"]
    assert selectors.map_region(campaign=campaign, code="530302001") == city
    assert selectors.map_region(campaign=campaign, code="530102") == city  # outside: own map
    assert selectors.map_region(campaign=campaign, code="") == city
    client.force_login(world.users["staff_a1"])
    resp = client.get(reverse("campaigns:map", args=[campaign.pk]), {"region": "530302"})
    assert resp.status_code == 200
    data = resp.json()
    assert data["region"] == "曲靖市" and data["features"]
    assert any(f["properties"]["name"] == "麒麟区" for f in data["features"])
    client.force_login(world.users["admin_b"])  # another city's office: not its campaign
    assert client.get(reverse("campaigns:map", args=[campaign.pk])).status_code == 404


@pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN checks need PostgreSQL")
def test_search_and_points_use_their_indexes(world, campaign):
    """A two-character search word is looked up in the gram index (pg_trgm could not),
    and the map's points read the partial index of activities with coordinates."""
    import random

    from kepu.campaigns import selectors
    from kepu.campaigns.models import Activity

    r = random.Random(5)
    tz = timezone.get_current_timezone()
    words = "农技培训科普讲座健康应急演练展览校园乡村社区"
    Activity.objects.bulk_create(
        [
            Activity(
                campaign=campaign,
                organiser=world.orgs["unit_a1"],
                title="".join(r.choice(words) for _ in range(8)) + f"{i}",
                kind=ActivityType.LECTURE,
                starts_at=dt.datetime(2026, 9, 1 + i % 28, 9, 0, tzinfo=tz),
                ends_at=dt.datetime(2026, 9, 1 + i % 28, 11, 0, tzinfo=tz),
                region=world.regions["city_a"],
                address=f"地点{i}",
                status=Status.APPROVED,
            )
            for i in range(3000)
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT gin_clean_pending_list('activity_search_grams'::regclass)")
        cursor.execute("ANALYZE campaigns_activity")
    f = selectors.PublicFilters(q="乡村")
    plan = selectors.public_activities(campaign=campaign, filters=f, broad=False).explain()
    assert "activity_search_grams" in plan, plan
    size = selectors.public_search_size(campaign=campaign, filters=f)
    real = Activity.objects.filter(title__contains="乡村").count()
    assert size == min(real, selectors.SEARCH_EXACT + 1)
    points = (
        selectors.public_activities(campaign=campaign)
        .filter(latitude__isnull=False, longitude__isnull=False)
        .values("pk")[:2000]
    )
    assert "activity_published_points" in points.explain()
