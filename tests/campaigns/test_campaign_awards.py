"""Awards: criteria as data, nominations by offices with scores, decision and publication."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from kepu.campaigns import awards, services
from kepu.campaigns.models import Decision, Nomination
from tests.campaigns.conftest import activity_fields


def _scores(campaign, points=10):
    return {str(c.pk): points for c in awards.criteria_for(campaign)}


@pytest.fixture
def published(world, campaign):
    a = services.activity_register(
        user=world.users["staff_a1"],
        campaign=campaign,
        organiser=world.orgs["unit_a1"],
        fields=activity_fields(world),
    )
    services.activity_review(user=world.users["admin_a"], activity=a, approve=True)
    a.refresh_from_db()
    return a


def test_default_criteria_are_data_and_editable_until_the_first_nomination(
    world, campaign, published
):
    names = [c.name for c in awards.criteria_for(campaign)]
    assert names == ["组织动员", "数量规模", "品牌宣传", "科技志愿", "联合行动", "网络传播"]
    with pytest.raises(PermissionDenied):
        awards.criteria_set(user=world.users["county_admin_a"], campaign=campaign, criteria=[])
    with pytest.raises(ValidationError, match="不能重复"):
        awards.criteria_set(
            user=world.users["admin_a"],
            campaign=campaign,
            criteria=[awards.CriterionFields("创新", 50), awards.CriterionFields("创新", 50)],
        )
    awards.criteria_set(
        user=world.users["admin_a"],
        campaign=campaign,
        criteria=[awards.CriterionFields("组织动员", 60), awards.CriterionFields("社会影响", 40)],
    )
    assert [(c.name, c.max_points) for c in awards.criteria_for(campaign)] == [
        ("组织动员", 60),
        ("社会影响", 40),
    ]
    awards.nomination_create(
        user=world.users["admin_a"],
        campaign=campaign,
        activity=published,
        scores=_scores(campaign, 30),
    )
    with pytest.raises(ValidationError, match="已有推荐"):
        awards.criteria_set(
            user=world.users["admin_a"],
            campaign=campaign,
            criteria=[awards.CriterionFields("x", 5)],
        )


def test_nominations_score_and_scope(world, campaign, published):
    county, city = world.users["county_admin_a"], world.users["admin_a"]
    town = world.orgs["town_a"]
    n = awards.nomination_create(
        user=county,
        campaign=campaign,
        organisation=town,
        scores=_scores(campaign, 10),
        reason="组织有力",
    )
    assert n.nominated_by == world.orgs["county_office_a"] and float(n.total) == 60.0
    with pytest.raises(ValidationError, match="已被推荐"):
        awards.nomination_create(
            user=city, campaign=campaign, organisation=town, scores=_scores(campaign)
        )
    # A county office cannot nominate a city unit (outside its region); a unit cannot nominate.
    with pytest.raises(PermissionDenied):
        awards.nomination_create(
            user=county,
            campaign=campaign,
            organisation=world.orgs["unit_a2"],
            scores=_scores(campaign),
        )
    with pytest.raises(PermissionDenied):
        awards.nomination_create(
            user=world.users["staff_a1"],
            campaign=campaign,
            activity=published,
            scores=_scores(campaign),
        )
    bad = _scores(campaign)
    bad[next(iter(bad))] = 99
    with pytest.raises(ValidationError, match="得分应在"):
        awards.nomination_create(user=city, campaign=campaign, activity=published, scores=bad)
    assert Nomination.objects.count() == 1


def test_decision_and_publication(world, campaign, published, client):
    city = world.users["admin_a"]
    n = awards.nomination_create(
        user=city, campaign=campaign, activity=published, scores=_scores(campaign, 12)
    )
    with pytest.raises(PermissionDenied):
        awards.nomination_decide(user=world.users["county_admin_a"], nomination=n, award=True)
    with pytest.raises(ValidationError, match="待评定"):
        awards.awards_publish(user=city, campaign=campaign)
    assert client.get(reverse("portal:awards", args=[campaign.pk])).status_code == 404
    awards.nomination_decide(user=city, nomination=n, award=True)
    awards.awards_publish(user=city, campaign=campaign)
    campaign.refresh_from_db()
    assert [x.pk for x in awards.published_awards(campaign)] == [n.pk]
    from django.core.cache import cache

    cache.clear()
    html = client.get(reverse("portal:awards", args=[campaign.pk])).content.decode()
    assert "优秀活动" in html and published.title in html
    assert Nomination.objects.get(pk=n.pk).decision == Decision.AWARDED


USERS = ["super", "admin_a", "admin_b", "viewer_a", "staff_a1", "county_admin_a", "nobody", "anon"]


@pytest.mark.parametrize("who", USERS)
def test_award_views_matrix(client, world, campaign, published, who):
    if who != "anon":
        client.force_login(world.users[who])
    resp = client.get(reverse("campaigns:awards", args=[campaign.pk]))
    if who == "anon":
        assert resp.status_code == 302
        return
    assert resp.status_code == (404 if who in {"admin_b", "nobody"} else 200), who
    post = {
        "organisation": "南宁街道",
        "reason": "x",
        **{f"score_{k}": "5" for k in _scores(campaign)},
    }
    resp = client.post(reverse("campaigns:award_nominate", args=[campaign.pk]), post)
    made = Nomination.objects.filter(organisation=world.orgs["town_a"]).exists()
    assert made == (who in {"super", "admin_a", "county_admin_a"}), who
    if made:
        n = Nomination.objects.get()
        resp = client.post(reverse("campaigns:award_decide", args=[n.pk]), {"award": "1"})
        decided = Nomination.objects.get().decision == Decision.AWARDED
        assert decided == (who in {"super", "admin_a"}), who
        if who == "county_admin_a":
            assert resp.status_code == 403
