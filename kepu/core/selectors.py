from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from kepu.core.types import UserLike
from kepu.orgs.models import Organisation
from kepu.orgs.scoping import Action, user_grants
from kepu.regions.models import Region


def dashboard_summary(*, user: UserLike) -> dict[str, Any]:
    grants = user_grants(user)
    orgs = Organisation.objects.restrict(user, Action.VIEW)
    regions = []
    for g in grants:
        if g.region_path is not None:
            sub = Region.objects.filter(path__startswith=g.region_path)
            regions.append(
                {
                    "grant": g,
                    "counties": sub.filter(level=3).count(),
                    "townships": sub.filter(level=4).count(),
                }
            )
    # One scan for both tallies (a national office counts ~70,000 organisations).
    counts = orgs.order_by().aggregate(
        total=Count("pk"), member_units=Count("pk", filter=Q(is_member_unit=True))
    )
    return {
        "grants": grants,
        "org_count": counts["total"],
        "member_unit_count": counts["member_units"],
        "regions": regions,
    }
