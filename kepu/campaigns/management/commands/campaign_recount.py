"""``kepu campaign recount [--campaign ID] [--check]``: rebuild (or only compare) the
published-activity counts the public portal reads (``kepu.campaigns.counts``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kepu.campaigns import counts
from kepu.campaigns.models import Campaign


class Command(BaseCommand):
    help = "重新统计科普活动公众平台的已发布活动数 (按日期、区域、活动类型)"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--campaign", type=int, help="只统计这一项活动 (编号)")
        parser.add_argument(
            "--check", action="store_true", help="只核对, 不修改; 有差异时退出码为 1"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        # unscoped: an operator's command over every campaign
        qs = Campaign.objects.select_related("region").order_by("pk")
        if opts["campaign"]:
            qs = qs.filter(pk=opts["campaign"])
            if not qs.exists():
                raise CommandError(f"没有编号为 {opts['campaign']} 的活动。")
        bad = 0
        for campaign in qs:
            if opts["check"]:
                want, have = counts.computed(campaign), counts.stored(campaign)
                diff = {k for k in set(want) | set(have) if want.get(k, 0) != have.get(k, 0)}
                if diff:
                    bad += 1
                self.stdout.write(
                    f"{campaign.pk} {campaign.title}: "
                    + (f"{len(diff)} 行不一致" if diff else f"一致 ({len(want)} 行)")
                )
            else:
                n = counts.rebuild(campaign)
                self.stdout.write(f"{campaign.pk} {campaign.title}: {n} 行")
        if bad:
            raise CommandError(f"{bad} 项活动的统计不一致, 请运行 kepu campaign recount。")
