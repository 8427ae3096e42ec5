from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kepu.audit.context import acting_as
from kepu.orgs.bulk import BulkImportError, organisations_import_file
from kepu.orgs.management.commands._import_common import add_scope_arguments, scope_from_options


class Command(BaseCommand):
    help = "从 xlsx 批量导入组织 (名称、简称、类型、区划代码、上级单位、别名、成员单位), 全部成功或全部不保存"

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="xlsx 文件 (模板见 /orgs/import/)")
        add_scope_arguments(parser)

    def handle(self, *args, file: Path, **options):
        if not file.is_file():
            raise CommandError(f"文件不存在: {file}")
        scope = scope_from_options(options)
        started = time.perf_counter()
        try:
            with acting_as(scope.actor):
                result = organisations_import_file(
                    scope=scope, name=file.name, data=file.read_bytes(), dry_run=options["dry_run"]
                )
        except BulkImportError as exc:
            raise CommandError("导入失败, 没有保存任何内容:\n" + "\n".join(exc.errors)) from exc
        kinds = "、".join(f"{k} {n}" for k, n in result.by_kind.items())
        verb = "校验通过 (未保存)" if result.dry_run else "已导入"
        self.stdout.write(
            f"{verb}: 组织 {result.organisations} 个 ({kinds}), 别名 {result.aliases} 个; "
            f"范围: {scope.label}; 用时 {time.perf_counter() - started:.1f} 秒"
        )
