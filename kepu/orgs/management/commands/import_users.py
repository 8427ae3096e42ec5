from __future__ import annotations

import os
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kepu.audit.context import acting_as
from kepu.orgs.bulk import BulkImportError, users_import_file
from kepu.orgs.management.commands._import_common import add_scope_arguments, scope_from_options


class Command(BaseCommand):
    help = (
        "从 xlsx 批量导入用户 (用户名、姓名、组织、角色、电子邮箱), 全部成功或全部不保存; "
        "每个新账号生成一个激活链接, 写入 --out 文件"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="xlsx 文件 (模板见 /orgs/users/import/)")
        add_scope_arguments(parser)
        parser.add_argument("--out", type=Path, help="激活链接表 (xlsx), 只有导入人能读 (0600)")
        parser.add_argument(
            "--base-url",
            default=os.environ.get("KEPU_BASE_URL", "http://127.0.0.1:8000"),
            help="平台的访问地址, 用于拼接激活链接 (默认 KEPU_BASE_URL 或 http://127.0.0.1:8000)",
        )

    def handle(self, *args, file: Path, out: Path | None, base_url: str, **options):
        if not file.is_file():
            raise CommandError(f"文件不存在: {file}")
        if not options["dry_run"]:
            if out is None:
                raise CommandError("请用 --out 指定激活链接表的保存位置 (xlsx)。")
            if out.exists():
                raise CommandError(f"输出文件已存在, 不会覆盖: {out}")
        scope = scope_from_options(options)
        started = time.perf_counter()
        try:
            with acting_as(scope.actor):
                result = users_import_file(
                    scope=scope, name=file.name, data=file.read_bytes(), dry_run=options["dry_run"]
                )
        except BulkImportError as exc:
            raise CommandError("导入失败, 没有保存任何内容:\n" + "\n".join(exc.errors)) from exc
        roles = "、".join(f"{k} {n}" for k, n in result.by_role.items())
        if result.dry_run:
            self.stdout.write(f"校验通过 (未保存): 用户 {result.users} 个 ({roles})")
            return
        assert out is not None
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(result.links_xlsx(base_url.rstrip("/")))
        self.stdout.write(
            f"已导入: 用户 {result.users} 个 ({roles}); 范围: {scope.label}; "
            f"激活链接已写入 {out} (仅本人可读, 请逐个发给本人); "
            f"用时 {time.perf_counter() - started:.1f} 秒"
        )
