"""``kepu statistics recount [--collection ID]``: rebuild the kept totals of statistics
collections from their accepted reports (``services.collection_totals_rebuild``), e.g. for
collections opened before the totals existed or data loaded outside the services."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kepu.statistics.models import Collection
from kepu.statistics.services import collection_totals_rebuild


class Command(BaseCommand):
    help = "按已通过的报表重新汇总科普统计调查的合计"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--collection", type=int, help="只处理这一项统计调查 (编号)")

    def handle(self, *args: Any, **opts: Any) -> None:
        # unscoped: an administrator's maintenance command over every collection
        collections = Collection.objects.select_related("catalogue", "region").order_by("pk")
        if opts.get("collection"):
            collections = collections.filter(pk=opts["collection"])
            if not collections.exists():
                raise CommandError(f"统计调查 {opts['collection']} 不存在。")
        for collection in collections:
            rows = collection_totals_rebuild(collection=collection)
            self.stdout.write(f"{collection.title}: 已重新汇总 {rows} 行合计。")
