"""``kepu registry recount [--check]``: rebuild (or only compare) the maintained
volunteer totals per team and per team and year (``kepu.registry.totals``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kepu.registry import totals


class Command(BaseCommand):
    help = "重新统计科技志愿服务队的在册人数和年度服务时长"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--check", action="store_true", help="只核对, 不修改; 有差异时退出码为 1"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["check"]:
            bad = totals.differences()
            if bad:
                raise CommandError(f"{bad} 行统计不一致, 请运行 kepu registry recount。")
            self.stdout.write("志愿服务统计一致。")
            return
        teams, years = totals.rebuild()
        self.stdout.write(f"已重新统计: {teams} 支服务队的在册人数, {years} 行年度服务时长。")
