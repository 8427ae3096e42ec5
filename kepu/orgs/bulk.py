"""Bulk onboarding: organisations and user accounts from a spreadsheet, all or nothing.

Two services, each called by the CLI (``kepu orgs import`` / ``kepu users import``),
the web (``/orgs/import/``, ``/orgs/users/import/``) and the national-scale seeder:

- :func:`organisations_import` creates organisations (name, short name, kind, region
  division code, parent, aliases, member-unit flag);
- :func:`users_import` creates accounts with a membership (organisation and role) each,
  and returns one **invitation link** per account.

Every row is validated first; any error raises :class:`BulkImportError` with Chinese
row messages (at most 100, then "另有 N 处错误") and nothing is written.  Writes are
``bulk_create`` in one transaction, followed by one audit entry per created row
(:func:`kepu.audit.services.audit_rows`) and a post-write scope check.

Scope (:class:`ImportScope`): an office administrator imports only into the region
subtrees of the offices it administers, and may not grant a role stronger than its own
there; a superuser imports anywhere; the CLI can also act as the system on behalf of one
office (``--office``), which gives exactly that office administrator's reach.

Passwords (decision, issue 8): imported accounts get an *unusable* password and an
invitation link (``/orgs/invite/<uid>/<token>/``) where the person sets their own
password.  The token is an HMAC (Django's password-reset token machinery with its own
salt and validity, ``KEPU_INVITATION_DAYS``, default 14 days) over the account's password
field and last login, so it stops working once used and needs no table.  No password is
hashed during the import (10,000 accounts take seconds instead of 40 minutes of PBKDF2),
no password is ever known to the importer, and nothing has to force a change at first
login.  The links go only to the importer (a file written by the CLI, a download from the
web); the importer hands them out.
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode

from kepu.audit.services import audit_rows
from kepu.core.files import SPREADSHEET, cell_text, check_upload
from kepu.core.types import UserLike

if TYPE_CHECKING:
    from django.contrib.auth.models import User
from kepu.orgs.models import Membership, Organisation, OrganisationAlias, OrgKind
from kepu.orgs.scoping import Action, Role, user_grants
from kepu.orgs.services import split_names
from kepu.regions.models import Region

MAX_REPORTED_ERRORS = 100
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ORG_ROWS = 100_000
MAX_USER_ROWS = 20_000
CHUNK = 500  # parameters per IN (...) query (SQLite's limit is far above; keeps plans small)

ROLE_RANK = {Role.VIEWER: 0, Role.UNIT_STAFF: 1, Role.OFFICE_ADMIN: 2}


# --- errors ---------------------------------------------------------------------------------
@dataclass
class BulkImportError(Exception):
    """Validation failed; nothing was saved.  ``errors`` are Chinese messages."""

    errors: list[str]

    def __str__(self) -> str:
        return "；".join(self.errors)


@dataclass
class RowErrors:
    """Collects ``第N行: …`` messages; keeps the first 100 and counts the rest."""

    limit: int = MAX_REPORTED_ERRORS
    messages: list[tuple[int, str]] = field(default_factory=list)
    extra: int = 0

    def add(self, line: int, message: str) -> None:
        if len(self.messages) < self.limit:
            self.messages.append((line, message))
        else:
            self.extra += 1

    def __bool__(self) -> bool:
        return bool(self.messages)

    def lines(self) -> set[int]:
        return {line for line, _ in self.messages}

    def as_list(self) -> list[str]:
        out = [
            f"第{line}行: {msg}" if line else msg
            for line, msg in sorted(self.messages, key=lambda e: e[0])
        ]
        if self.extra:
            out.append(f"另有 {self.extra} 处错误。")
        return out

    def raise_if_any(self) -> None:
        if self.messages:
            raise BulkImportError(self.as_list())


# --- who may import where ---------------------------------------------------------------
@dataclass(frozen=True)
class ImportScope:
    """Where an import may write: region subtrees and the strongest role per subtree.

    ``paths`` maps a region path to the strongest role the importer holds there; ``None``
    means everywhere with every role (superuser, or the system without ``--office``).
    """

    actor: Any
    paths: dict[str, int] | None
    label: str

    @classmethod
    def for_user(cls, user: UserLike) -> ImportScope:
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            raise PermissionDenied("请先登录。")
        if user.is_superuser:
            return cls(actor=user, paths=None, label="全部区域")
        paths: dict[str, int] = {}
        names = []
        for g in user_grants(user):
            if g.region_path is not None and Action.MANAGE in g.actions:
                rank = ROLE_RANK[Role(g.role)]
                paths[g.region_path] = max(rank, paths.get(g.region_path, -1))
                names.append(g.organisation_name)
        if not paths:
            raise PermissionDenied("只有办公室管理员可以批量导入组织和用户。")
        return cls(actor=user, paths=paths, label="、".join(names))

    @classmethod
    def for_office(cls, office: Organisation, *, actor: Any = None) -> ImportScope:
        """The system (or ``actor``) acting as ``office``'s administrator."""
        if not office.is_office:
            raise PermissionDenied(f"「{office.name}」不是科协或纲要办, 不能代表它导入。")
        return cls(
            actor=actor,
            paths={office.region.path: ROLE_RANK[Role.OFFICE_ADMIN]},
            label=office.name,
        )

    @classmethod
    def system(cls) -> ImportScope:
        return cls(actor=None, paths=None, label="全部区域 (系统)")

    def rank_at(self, region_path: str) -> int:
        """The strongest role rank the importer holds over ``region_path`` (-1: none)."""
        if self.paths is None:
            return ROLE_RANK[Role.OFFICE_ADMIN]
        return max((r for p, r in self.paths.items() if region_path.startswith(p)), default=-1)

    def covers(self, region_path: str) -> bool:
        return self.rank_at(region_path) >= 0

    def region_q(self, lookup: str) -> Q:
        if self.paths is None:
            return Q()
        q = Q(pk__in=[])
        for p in self.paths:
            q |= Q(**{f"{lookup}__startswith": p})
        return q


# --- reading spreadsheets -------------------------------------------------------------
def _norm_header(text: str) -> str:
    return re.sub(r"[\s*:：()（）]", "", text).lower()


def read_sheet(
    name: str,
    data: bytes,
    *,
    columns: dict[str, tuple[str, ...]],
    required: Sequence[str],
    max_rows: int,
) -> list[tuple[int, dict[str, str]]]:
    """Rows of the first sheet as ``(line, {key: text})``; checks size, header and row cap.

    ``columns`` maps a key to the header texts that mean it (first one is shown in
    messages).  Blank rows are skipped.  Reading is streaming (read-only workbook) and stops
    at ``max_rows``.
    """
    try:
        check_upload(name, data, SPREADSHEET, max_bytes=MAX_FILE_BYTES)
    except ValidationError as exc:
        raise BulkImportError(exc.messages) from exc
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # a damaged zip or workbook
        raise BulkImportError([f"无法读取文件「{name}」: 不是有效的 xlsx 工作簿。"]) from exc
    try:
        ws = wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        header = next(it, None)
        if header is None:
            raise BulkImportError(["文件是空的: 第一张工作表没有表头。"])
        wanted = {_norm_header(h): key for key, heads in columns.items() for h in heads}
        index: dict[str, int] = {}
        for i, h in enumerate(header):
            key = wanted.get(_norm_header(cell_text(h)))
            if key and key not in index:
                index[key] = i
        missing = [columns[k][0] for k in required if k not in index]
        if missing:
            raise BulkImportError(
                [f"缺少必需的列: {'、'.join(missing)}。请使用下载的模板 (第一行为表头)。"]
            )
        rows: list[tuple[int, dict[str, str]]] = []
        for line, values in enumerate(it, start=2):
            if values is None or not any(cell_text(v) for v in values):
                continue
            if len(rows) >= max_rows:
                raise BulkImportError(
                    [f"行数超过上限: 一个文件最多 {max_rows} 行数据, 请拆分后分批导入。"]
                )
            rows.append(
                (
                    line,
                    {k: cell_text(values[i]) if i < len(values) else "" for k, i in index.items()},
                )
            )
    finally:
        wb.close()
    if not rows:
        raise BulkImportError(["文件中没有数据行。"])
    return rows


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# --- workbook writing (templates and invitation lists) -------------------------------
def _workbook(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A one-sheet workbook; every string is written as text (never as a formula)."""
    from openpyxl.styles import Font

    from kepu.core.files import new_workbook, workbook_bytes, write_row

    wb = new_workbook()
    ws = wb.active
    ws.title = title
    for r, values in enumerate([header, *rows], start=1):
        cells = write_row(ws, r, values)
        if r == 1:
            for cell in cells:
                cell.font = Font(name="宋体", bold=True)
    for c in range(1, len(header) + 1):
        ws.column_dimensions[ws.cell(row=1, column=c).column_letter].width = 22
    ws.freeze_panes = "A2"
    return workbook_bytes(wb)


# --- organisations ------------------------------------------------------------------------
ORG_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("名称", "组织名称", "单位名称", "name"),
    "short_name": ("简称", "short_name"),
    "kind": ("类型", "组织类型", "kind"),
    "region": ("区划代码", "行政区划代码", "所在区域", "region"),
    "parent": ("上级单位", "上级", "parent"),
    "aliases": ("别名", "aliases"),
    "is_member_unit": ("成员单位", "是否成员单位", "member_unit"),
}
ORG_REQUIRED = ("name", "kind", "region")

KIND_WORDS: dict[str, str] = {
    **{k.value: k.value for k in OrgKind},
    **{k.label: k.value for k in OrgKind},
    "政府部门": OrgKind.DEPARTMENT,
    "成员单位": OrgKind.DEPARTMENT,
    "部门": OrgKind.DEPARTMENT,
    "纲要办": OrgKind.OFFICE,
    "学会": OrgKind.SOCIETY,
    "协会": OrgKind.SOCIETY,
    "乡镇": OrgKind.TOWNSHIP,
    "街道": OrgKind.TOWNSHIP,
    "基地": OrgKind.EDUCATION_BASE,
}
TRUE_WORDS = {"是", "1", "true", "yes", "y", "√", "成员单位"}
FALSE_WORDS = {"", "否", "0", "false", "no", "n", "×"}

ORG_TEMPLATE_HEADER = ["名称", "简称", "类型", "区划代码", "上级单位", "别名", "成员单位"]
ORG_TEMPLATE_EXAMPLE = [
    ["曲靖市科学技术协会", "市科协", "科协", "530300", "", "", "否"],
    [
        "曲靖市教育体育局",
        "市教体局",
        "政府部门(成员单位)",
        "530300",
        "",
        "市教育局、市教体局",
        "是",
    ],
    ["麒麟区科学技术协会", "区科协", "科协", "530302", "曲靖市科学技术协会", "", "否"],
]


@dataclass(frozen=True)
class OrgRow:
    """One organisation as written in the file (all text)."""

    line: int
    name: str
    kind: str
    region: str
    short_name: str = ""
    parent: str = ""
    aliases: str = ""
    is_member_unit: str = ""


@dataclass
class OrgImportResult:
    organisations: int
    aliases: int
    by_kind: dict[str, int]
    dry_run: bool = False
    created: list[Organisation] = field(default_factory=list, repr=False)


def kind_from_text(text: str) -> str | None:
    text = text.strip()
    return KIND_WORDS.get(text) or KIND_WORDS.get(text.lower())


def org_rows_from_file(name: str, data: bytes) -> list[OrgRow]:
    return [
        OrgRow(line=line, **{k: v for k, v in row.items()})
        for line, row in read_sheet(
            name, data, columns=ORG_COLUMNS, required=ORG_REQUIRED, max_rows=MAX_ORG_ROWS
        )
    ]


@dataclass
class _OrgPlan:
    row: OrgRow
    org: Organisation
    aliases: list[str]
    parent_row: int | None = None  # index into the plan list when the parent is in the file


def _nearest(candidates: list[Organisation], region_path: str) -> list[Organisation]:
    """Candidates in the region or an ancestor of it, nearest first (ties kept together)."""
    inside = [c for c in candidates if region_path.startswith(c.region.path)]
    if not inside:
        return []
    depth = max(len(c.region.path) for c in inside)
    return [c for c in inside if len(c.region.path) == depth]


def organisations_import(
    *, scope: ImportScope, rows: Sequence[OrgRow], dry_run: bool = False
) -> OrgImportResult:
    """Create the organisations of ``rows`` (all or nothing); see the module docstring.

    A parent is named by its full name (another row of the file, or an existing
    organisation inside the importer's reach) or by its numeric ID.  When several
    organisations share the name, the one in the row's region or its nearest ancestor
    region is taken; a tie is an error asking for the ID.
    """
    errors = RowErrors()
    rows = list(rows)
    codes = sorted({r.region.strip() for r in rows if r.region.strip()})
    regions: dict[str, Region] = {}
    for chunk in _chunks(codes):
        regions.update({r.code: r for r in Region.objects.filter(code__in=chunk).order_by()})

    plans: list[_OrgPlan] = []
    by_key: dict[tuple[str, str], int] = {}  # (region code, name) -> plan index
    by_name: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        name = row.name.strip()
        bad = False
        if not name:
            errors.add(row.line, "名称为空")
            bad = True
        elif len(name) > 200:
            errors.add(row.line, "名称超过200字")
            bad = True
        short = row.short_name.strip()
        if len(short) > 100:
            errors.add(row.line, "简称超过100字")
            bad = True
        kind = kind_from_text(row.kind)
        if kind is None:
            errors.add(
                row.line,
                f"类型「{row.kind}」无法识别 (应为 {'、'.join(k.label for k in OrgKind)} 之一)",
            )
            bad = True
        code = row.region.strip()
        region = regions.get(code)
        if not code:
            errors.add(row.line, "区划代码为空")
            bad = True
        elif region is None:
            errors.add(row.line, f"区划代码「{code}」不存在")
            bad = True
        elif not scope.covers(region.path):
            errors.add(row.line, f"区划「{region.name}({code})」不在您的管理范围内")
            bad = True
        flag = row.is_member_unit.strip().lower()
        if flag not in TRUE_WORDS | FALSE_WORDS:
            errors.add(row.line, f"成员单位「{row.is_member_unit}」应为「是」或「否」")
            bad = True
        aliases = [a for a in split_names(row.aliases) if a != name]
        if any(len(a) > 200 for a in aliases):
            errors.add(row.line, "别名超过200字")
            bad = True
        if bad:
            continue
        key = (code, name)
        if key in by_key:
            errors.add(
                row.line, f"与第{plans[by_key[key]].row.line}行重复: 同一区划下已有「{name}」"
            )
            continue
        assert region is not None and kind is not None
        org = Organisation(
            name=name,
            short_name=short,
            kind=kind,
            region=region,
            is_member_unit=flag in TRUE_WORDS,
        )
        by_key[key] = len(plans)
        by_name[name].append(len(plans))
        plans.append(_OrgPlan(row=row, org=org, aliases=sorted(set(aliases))))

    # Existing organisations with the same name in the same region.
    names = sorted({p.org.name for p in plans})
    for chunk in _chunks(names):
        for region_id, existing in (
            Organisation.objects.filter(name__in=chunk).order_by().values_list("region_id", "name")
        ):
            for idx in by_name.get(existing, []):
                if plans[idx].org.region_id == region_id:
                    errors.add(
                        plans[idx].row.line,
                        f"「{existing}」已存在于{plans[idx].org.region.name}, 不能重复创建",
                    )

    # Parents: rows of the file first, then existing organisations.
    parent_texts = sorted({p.row.parent.strip() for p in plans if p.row.parent.strip()})
    parent_ids = [int(t) for t in parent_texts if t.isdigit()]
    parent_names = [t for t in parent_texts if not t.isdigit()]
    existing_by_name: dict[str, list[Organisation]] = defaultdict(list)
    existing_by_id: dict[int, Organisation] = {}
    for chunk in _chunks(parent_names):
        for o in Organisation.objects.filter(name__in=chunk).order_by().select_related("region"):
            existing_by_name[o.name].append(o)
    for chunk in _chunks(parent_ids):
        for o in Organisation.objects.filter(pk__in=chunk).order_by().select_related("region"):
            existing_by_id[o.pk] = o
    for p in plans:
        text = p.row.parent.strip()
        if not text:
            continue
        path = p.org.region.path
        if text.isdigit():
            found = existing_by_id.get(int(text))
            if found is None or not scope.covers(found.region.path):
                errors.add(p.row.line, f"上级单位编号「{text}」不存在或不在您的管理范围内")
            elif not path.startswith(found.region.path):
                errors.add(p.row.line, f"上级单位「{found.name}」不在本组织所在区划或其上级区划")
            else:
                p.org.parent = found
            continue
        in_file = [i for i in by_name.get(text, []) if plans[i] is not p]
        file_orgs = [plans[i].org for i in in_file]
        near = _nearest([*file_orgs, *existing_by_name.get(text, [])], path)
        if not near:
            if existing_by_name.get(text) or in_file:
                errors.add(p.row.line, f"上级单位「{text}」不在本组织所在区划或其上级区划")
            else:
                errors.add(p.row.line, f"上级单位「{text}」不存在 (文件和组织库中都没有)")
            continue
        if len(near) > 1:
            errors.add(p.row.line, f"上级单位「{text}」有多个同名组织, 请改填上级单位的编号")
            continue
        parent = near[0]
        if parent.pk is None:
            p.parent_row = next(i for i in in_file if plans[i].org is parent)
            p.org.parent = parent
        elif not scope.covers(parent.region.path):
            errors.add(p.row.line, f"上级单位「{text}」不在您的管理范围内")
        else:
            p.org.parent = parent

    # Parents inside the file must not form a cycle.
    if not errors:
        for i, p in enumerate(plans):
            seen = {i}
            j = p.parent_row
            while j is not None:
                if j in seen:
                    errors.add(p.row.line, "上级单位形成循环")
                    break
                seen.add(j)
                j = plans[j].parent_row
    errors.raise_if_any()

    by_kind: dict[str, int] = defaultdict(int)
    for p in plans:
        by_kind[OrgKind(p.org.kind).label] += 1
    result = OrgImportResult(
        organisations=len(plans),
        aliases=sum(len(p.aliases) for p in plans),
        by_kind=dict(by_kind),
        dry_run=dry_run,
    )
    if dry_run:
        return result

    # Write level by level so that a parent in the file exists before its children.
    depth: dict[int, int] = {}

    def depth_of(i: int) -> int:
        if i not in depth:
            j = plans[i].parent_row
            depth[i] = 0 if j is None else depth_of(j) + 1
        return depth[i]

    levels: dict[int, list[_OrgPlan]] = defaultdict(list)
    for i, p in enumerate(plans):
        levels[depth_of(i)].append(p)
    try:
        with transaction.atomic():
            for level in sorted(levels):
                batch = levels[level]
                for p in batch:
                    if p.parent_row is not None:
                        p.org.parent = plans[p.parent_row].org  # now saved: sets parent_id
                Organisation.objects.bulk_create([p.org for p in batch], batch_size=2000)
            alias_rows = [
                OrganisationAlias(organisation=p.org, name=a) for p in plans for a in p.aliases
            ]
            OrganisationAlias.objects.bulk_create(alias_rows, batch_size=2000)
            created = [p.org for p in plans]
            _check_written(scope, Organisation.objects, [o.pk for o in created], "region__path")
            audit_rows(action="create", rows=created, actor=scope.actor)
            audit_rows(action="create", rows=alias_rows, actor=scope.actor)
    except IntegrityError as exc:
        raise BulkImportError(
            ["保存时发现重复的组织或别名 (可能有人同时导入了相同的数据), 没有保存任何内容。"]
        ) from exc
    result.created = created
    return result


def _check_written(scope: ImportScope, manager: Any, pks: list[int], path_lookup: str) -> None:
    """The gate decides after the write: every written row is inside the importer's reach."""
    if scope.paths is None:
        return
    outside = 0
    for chunk in _chunks(pks, 5000):
        outside += manager.filter(pk__in=chunk).exclude(scope.region_q(path_lookup)).count()
    if outside:
        raise PermissionDenied("导入的数据超出了您的管理范围。")


def organisations_import_file(
    *, scope: ImportScope, name: str, data: bytes, dry_run: bool = False
) -> OrgImportResult:
    return organisations_import(scope=scope, rows=org_rows_from_file(name, data), dry_run=dry_run)


def org_template_xlsx() -> bytes:
    return _workbook("组织", ORG_TEMPLATE_HEADER, ORG_TEMPLATE_EXAMPLE)


# --- users ------------------------------------------------------------------------------------
USER_COLUMNS: dict[str, tuple[str, ...]] = {
    "username": ("用户名", "账号", "登录名", "username"),
    "full_name": ("姓名", "full_name"),
    "organisation": ("组织", "所在组织", "单位", "所在单位", "organisation"),
    "role": ("角色", "role"),
    "email": ("电子邮箱", "邮箱", "email", "e-mail"),
}
USER_REQUIRED = ("username", "organisation", "role")
USER_TEMPLATE_HEADER = ["用户名", "姓名", "组织", "角色", "电子邮箱"]
USER_TEMPLATE_EXAMPLE = [
    ["qj_jyj_zhang", "张三", "曲靖市教育体育局", "单位填报员", "zhangsan@example.cn"],
    ["qj_kx_li", "李四", "曲靖市科学技术协会", "只读用户", ""],
]
ROLE_WORDS: dict[str, str] = {
    **{r.value: r.value for r in Role},
    **{r.label: r.value for r in Role},
    "管理员": Role.OFFICE_ADMIN,
    "填报员": Role.UNIT_STAFF,
    "只读": Role.VIEWER,
}
INVITE_HEADER = ["用户名", "姓名", "组织", "角色", "电子邮箱", "激活链接", "链接有效期至"]


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """Password-reset tokens with their own salt and validity (``KEPU_INVITATION_DAYS``)."""

    key_salt = "kepu.orgs.bulk.InvitationTokenGenerator"

    @property
    def valid_seconds(self) -> int:
        return int(getattr(settings, "KEPU_INVITATION_DAYS", 14)) * 86400

    def check_token(self, user: User | None, token: str | None) -> bool:
        if not (user and token):
            return False
        try:
            ts_b36, _ = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        for secret in [self.secret, *self.secret_fallbacks]:
            if constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token):
                break
        else:
            return False
        return (self._num_seconds(self._now()) - ts) <= self.valid_seconds


invitation_token = InvitationTokenGenerator()


def invitation_path(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("orgs:invite", args=[uid, invitation_token.make_token(user)])


@dataclass(frozen=True)
class UserRow:
    line: int
    username: str
    organisation: str
    role: str
    full_name: str = ""
    email: str = ""


@dataclass(frozen=True)
class Invitation:
    username: str
    full_name: str
    organisation: str
    role: str
    email: str
    path: str


@dataclass
class UserImportResult:
    users: int
    by_role: dict[str, int]
    invitations: list[Invitation]
    dry_run: bool = False
    valid_until: Any = None

    def links_xlsx(self, base_url: str) -> bytes:
        until = f"{timezone.localtime(self.valid_until):%Y-%m-%d %H:%M}" if self.valid_until else ""
        return _workbook(
            "激活链接",
            INVITE_HEADER,
            (
                [i.username, i.full_name, i.organisation, i.role, i.email, base_url + i.path, until]
                for i in self.invitations
            ),
        )


def role_from_text(text: str) -> str | None:
    return ROLE_WORDS.get(text.strip()) or ROLE_WORDS.get(text.strip().lower())


def user_rows_from_file(name: str, data: bytes) -> list[UserRow]:
    return [
        UserRow(line=line, **row)
        for line, row in read_sheet(
            name, data, columns=USER_COLUMNS, required=USER_REQUIRED, max_rows=MAX_USER_ROWS
        )
    ]


def users_import(
    *, scope: ImportScope, rows: Sequence[UserRow], dry_run: bool = False
) -> UserImportResult:
    """Create accounts with one membership each (all or nothing) and their invitations.

    The organisation is named by its full name or numeric ID and must be inside the
    importer's reach; the role may not be stronger than the importer's own there.  A
    username that already exists is an error (the import never takes over an account).
    """
    errors = RowErrors()
    rows = list(rows)
    User = get_user_model()
    username_ok = UnicodeUsernameValidator()

    org_texts = sorted({r.organisation.strip() for r in rows if r.organisation.strip()})
    orgs_by_name: dict[str, list[Organisation]] = defaultdict(list)
    orgs_by_id: dict[int, Organisation] = {}
    ids = [int(t) for t in org_texts if t.isdigit()]
    names = [t for t in org_texts if not t.isdigit()]
    region_q = scope.region_q("region__path")
    for chunk in _chunks(names):
        for o in (
            Organisation.objects.filter(region_q, name__in=chunk, is_active=True)
            .order_by()
            .select_related("region")
        ):
            orgs_by_name[o.name].append(o)
    for chunk in _chunks(ids):
        for o in (
            Organisation.objects.filter(region_q, pk__in=chunk, is_active=True)
            .order_by()
            .select_related("region")
        ):
            orgs_by_id[o.pk] = o

    seen: dict[str, int] = {}
    planned: list[tuple[UserRow, Any, Organisation, str]] = []
    for row in rows:
        bad = False
        username = row.username.strip()
        if not username:
            errors.add(row.line, "用户名为空")
            bad = True
        elif len(username) > 150:
            errors.add(row.line, "用户名超过150个字符")
            bad = True
        else:
            try:
                username_ok(username)
            except ValidationError:
                errors.add(row.line, f"用户名「{username}」只能包含字母、数字和 @ . + - _")
                bad = True
        if username and username in seen:
            errors.add(row.line, f"用户名「{username}」与第{seen[username]}行重复")
            bad = True
        elif username:
            seen[username] = row.line
        full_name = row.full_name.strip()
        if len(full_name) > 150:
            errors.add(row.line, "姓名超过150字")
            bad = True
        email = row.email.strip()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                errors.add(row.line, f"电子邮箱「{email}」格式不正确")
                bad = True
        text = row.organisation.strip()
        org: Organisation | None = None
        if not text:
            errors.add(row.line, "组织为空")
            bad = True
        elif text.isdigit():
            org = orgs_by_id.get(int(text))
            if org is None:
                errors.add(row.line, f"组织编号「{text}」不存在或不在您的管理范围内")
                bad = True
        else:
            found = orgs_by_name.get(text, [])
            if not found:
                errors.add(row.line, f"组织「{text}」不存在或不在您的管理范围内")
                bad = True
            elif len(found) > 1:
                errors.add(row.line, f"组织「{text}」有多个同名组织, 请改填组织编号")
                bad = True
            else:
                org = found[0]
        role = role_from_text(row.role)
        if role is None:
            errors.add(
                row.line,
                f"角色「{row.role}」无法识别 (应为 {'、'.join(r.label for r in Role)} 之一)",
            )
            bad = True
        elif org is not None and ROLE_RANK[Role(role)] > scope.rank_at(org.region.path):
            errors.add(row.line, f"不能授予比您自己更高的角色「{Role(role).label}」")
            bad = True
        if bad:
            continue
        assert org is not None and role is not None
        user = User(username=username, first_name=full_name, email=email, is_active=True)
        planned.append((row, user, org, role))

    existing: set[str] = set()
    usernames = sorted(seen)
    for chunk in _chunks(usernames):
        existing.update(
            User.objects.filter(username__in=chunk).order_by().values_list("username", flat=True)
        )
    if existing:
        for row in rows:
            if row.username.strip() in existing:
                errors.add(row.line, f"用户名「{row.username.strip()}」已存在, 不能重复创建")
    errors.raise_if_any()

    by_role: dict[str, int] = defaultdict(int)
    for _, _, _, role in planned:
        by_role[Role(role).label] += 1
    result = UserImportResult(users=len(planned), by_role=dict(by_role), invitations=[])
    result.dry_run = dry_run
    if dry_run:
        return result

    try:
        with transaction.atomic():
            users = []
            for _, user, _, _ in planned:
                user.set_unusable_password()  # a random string: no hashing cost
                users.append(user)
            User.objects.bulk_create(users, batch_size=2000)
            memberships = [
                Membership(user=user, organisation=org, role=role) for _, user, org, role in planned
            ]
            Membership.objects.bulk_create(memberships, batch_size=2000)
            _check_written(
                scope,
                Membership.objects,
                [m.pk for m in memberships],
                "organisation__region__path",
            )
            audit_rows(action="create", rows=users, actor=scope.actor)
            audit_rows(action="create", rows=memberships, actor=scope.actor)
    except IntegrityError as exc:
        raise BulkImportError(
            ["保存时发现重复的用户名 (可能有人同时导入了相同的账号), 没有保存任何内容。"]
        ) from exc
    result.invitations = [
        Invitation(
            username=user.username,
            full_name=user.first_name,
            organisation=org.name,
            role=Role(role).label,
            email=user.email,
            path=invitation_path(user),
        )
        for _, user, org, role in planned
    ]
    result.valid_until = timezone.now() + timedelta(seconds=invitation_token.valid_seconds)
    return result


def users_import_file(
    *, scope: ImportScope, name: str, data: bytes, dry_run: bool = False
) -> UserImportResult:
    return users_import(scope=scope, rows=user_rows_from_file(name, data), dry_run=dry_run)


def user_template_xlsx() -> bytes:
    return _workbook("用户", USER_TEMPLATE_HEADER, USER_TEMPLATE_EXAMPLE)
