from __future__ import annotations

from typing import Any

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
    return {
        "grants": grants,
        "org_count": orgs.count(),
        "member_unit_count": orgs.filter(is_member_unit=True).count(),
        "regions": regions,
    }
