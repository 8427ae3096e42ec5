"""Shared arguments of ``import_orgs`` and ``import_users``: who the import acts as."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import CommandError, CommandParser

from kepu.orgs.bulk import ImportScope
from kepu.orgs.models import OFFICE_KINDS, Organisation


def add_scope_arguments(parser: CommandParser) -> None:
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--as", dest="as_user", metavar="USERNAME", help="以该用户的权限导入")
    who.add_argument(
        "--office",
        metavar="OFFICE",
        help="以系统身份代表该科协/纲要办导入 (组织编号或全称); 范围为该办公室的区划",
    )
    who.add_argument(
        "--system", action="store_true", help="以系统身份导入, 不限范围 (仅用于初始化)"
    )
    parser.add_argument("--dry-run", action="store_true", help="只校验, 不保存")


def scope_from_options(options: dict[str, Any]) -> ImportScope:
    try:
        if options.get("as_user"):
            User = get_user_model()
            user = User.objects.filter(username=options["as_user"]).first()
            if user is None:
                raise CommandError(f"用户「{options['as_user']}」不存在。")
            return ImportScope.for_user(user)
        if options.get("office"):
            text = options["office"].strip()
            offices = Organisation.objects.filter(kind__in=OFFICE_KINDS).select_related("region")
            found = list(offices.filter(pk=int(text))) if text.isdigit() else []
            found = found or list(offices.filter(name=text)[:2])
            if not found:
                raise CommandError(f"找不到科协或纲要办「{text}」。")
            if len(found) > 1:
                raise CommandError(f"有多个名为「{text}」的办公室, 请改用组织编号。")
            return ImportScope.for_office(found[0])
        return ImportScope.system()
    except PermissionDenied as exc:
        raise CommandError(str(exc)) from exc
