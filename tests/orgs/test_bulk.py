"""Bulk onboarding (kepu.orgs.bulk): organisations and users from xlsx files the tests
write; all or nothing, scoped, audited, capped Chinese errors, invitation links."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from openpyxl import Workbook, load_workbook

from kepu.audit.models import AuditEntry
from kepu.orgs import bulk
from kepu.orgs.models import Membership, Organisation, OrganisationAlias
from kepu.orgs.scoping import Role

ORG_HEADER = ["名称", "简称", "类型", "区划代码", "上级单位", "别名", "成员单位"]
USER_HEADER = ["用户名", "姓名", "组织", "角色", "电子邮箱"]


def xlsx(header, rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def org_file(*rows):
    return xlsx(ORG_HEADER, rows)


def user_file(*rows):
    return xlsx(USER_HEADER, rows)


def scope(world, who):
    return bulk.ImportScope.for_user(world.users[who])


def import_orgs(world, who, data, **kw):
    return bulk.organisations_import_file(
        scope=scope(world, who), name="orgs.xlsx", data=data, **kw
    )


def import_users(world, who, data, **kw):
    return bulk.users_import_file(scope=scope(world, who), name="users.xlsx", data=data, **kw)


GOOD_ORGS = org_file(
    [
        "麒麟区教育体育局",
        "区教体局",
        "政府部门(成员单位)",
        "530302",
        "麒麟区科学技术协会",
        "区教育局、区教体局",
        "是",
    ],
    ["麒麟区卫生健康局", "区卫健局", "department", "530302", "", "", "是"],
    ["曲靖市科技馆", "", "其他", "530300", "曲靖市科学技术协会", "", ""],
    ["麒麟区青少年科技活动中心", "", "其他", "530302", "麒麟区教育体育局", "", "否"],
)


# --- organisations ----------------------------------------------------------------------------
def test_org_import_creates_rows_parents_aliases_and_audit(world):
    before = Organisation.objects.count()
    result = import_orgs(world, "admin_a", GOOD_ORGS)
    assert result.organisations == 4 and result.aliases == 2
    assert Organisation.objects.count() == before + 4
    edu = Organisation.objects.get(name="麒麟区教育体育局")
    assert edu.kind == "department" and edu.is_member_unit and edu.short_name == "区教体局"
    assert edu.parent == world.orgs["county_office_a"]
    assert sorted(edu.aliases.values_list("name", flat=True)) == ["区教体局", "区教育局"]
    # a parent that is another row of the same file
    centre = Organisation.objects.get(name="麒麟区青少年科技活动中心")
    assert centre.parent == edu and not centre.is_member_unit
    assert Organisation.objects.get(name="曲靖市科技馆").parent == world.orgs["office_a"]
    # one audit entry per created organisation and alias, by the importer, scoped
    org_ct = ContentType.objects.get_for_model(Organisation)
    entries = AuditEntry.objects.filter(
        content_type=org_ct, action="create", actor=world.users["admin_a"]
    )
    assert entries.count() == 4
    assert entries.get(object_id=str(edu.pk)).region_path == world.regions["county_a"].path
    alias_ct = ContentType.objects.get_for_model(OrganisationAlias)
    assert AuditEntry.objects.filter(content_type=alias_ct, action="create").count() >= 2


def test_org_import_dry_run_saves_nothing(world):
    before = Organisation.objects.count()
    result = import_orgs(world, "admin_a", GOOD_ORGS, dry_run=True)
    assert result.organisations == 4 and result.dry_run
    assert Organisation.objects.count() == before


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (["新单位", "", "火星机构", "530300", "", "", ""], "类型「火星机构」无法识别"),
        (["新单位", "", "科协", "999999", "", "", ""], "区划代码「999999」不存在"),
        (["新单位", "", "科协", "", "", "", ""], "区划代码为空"),
        (["", "", "科协", "530300", "", "", ""], "名称为空"),
        (["新单位", "", "科协", "530100", "", "", ""], "不在您的管理范围内"),  # sibling city
        (["曲靖市教育体育局", "", "政府部门", "530300", "", "", ""], "已存在"),
        (
            ["新单位", "", "科协", "530300", "昆明市科学技术协会", "", ""],
            "上级单位「昆明市科学技术协会」不在本组织所在区划",
        ),
        (["新单位", "", "科协", "530300", "不存在的单位", "", ""], "不存在"),
        (["新单位", "", "科协", "530300", "", "", "也许"], "成员单位「也许」应为「是」或「否」"),
    ],
)
def test_org_import_bad_row_saves_nothing(world, row, message):
    before = Organisation.objects.count()
    audit_before = AuditEntry.objects.count()
    with pytest.raises(bulk.BulkImportError) as exc:
        import_orgs(world, "admin_a", org_file(["好的单位", "", "科协", "530302", "", "", ""], row))
    assert any(message in e and e.startswith("第3行") for e in exc.value.errors), exc.value.errors
    assert Organisation.objects.count() == before
    assert AuditEntry.objects.count() == audit_before


def test_org_import_parent_outside_scope_by_id(world):
    with pytest.raises(bulk.BulkImportError) as exc:
        import_orgs(
            world,
            "admin_a",
            org_file(["新单位", "", "科协", "530300", str(world.orgs["office_b"].pk), "", ""]),
        )
    assert "不在您的管理范围内" in exc.value.errors[0]


def test_org_import_county_office_cannot_use_the_city_as_parent(world):
    """A county office imports under its county only; the city office is above its reach."""
    with pytest.raises(bulk.BulkImportError) as exc:
        import_orgs(
            world,
            "county_admin_a",
            org_file(["区新单位", "", "其他", "530302", "曲靖市科学技术协会", "", ""]),
        )
    assert "上级单位「曲靖市科学技术协会」不在您的管理范围内" in exc.value.errors[0]
    assert not Organisation.objects.filter(name="区新单位").exists()


def test_org_import_duplicates_within_the_file(world):
    with pytest.raises(bulk.BulkImportError) as exc:
        import_orgs(
            world,
            "admin_a",
            org_file(
                ["同名单位", "", "其他", "530300", "", "", ""],
                ["同名单位", "", "其他", "530300", "", "", ""],
            ),
        )
    assert exc.value.errors == ["第3行: 与第2行重复: 同一区划下已有「同名单位」"]


def test_org_import_cycle_in_file(world):
    with pytest.raises(bulk.BulkImportError) as exc:
        import_orgs(
            world,
            "admin_a",
            org_file(
                ["甲单位", "", "其他", "530300", "乙单位", "", ""],
                ["乙单位", "", "其他", "530300", "甲单位", "", ""],
            ),
        )
    assert any("循环" in e for e in exc.value.errors)


def test_org_import_errors_are_capped_at_100(world):
    rows = [[f"单位{i}", "", "科协", "999999", "", "", ""] for i in range(250)]
    with pytest.raises(bulk.BulkImportError) as exc:
        import_orgs(world, "admin_a", org_file(*rows))
    assert len(exc.value.errors) == 101
    assert exc.value.errors[-1] == "另有 150 处错误。"
    assert not Organisation.objects.filter(name="单位0").exists()


def test_org_import_missing_columns_and_bad_files(world):
    with pytest.raises(bulk.BulkImportError) as exc:
        import_orgs(world, "admin_a", xlsx(["名称", "简称"], [["甲", "乙"]]))
    assert "缺少必需的列: 类型、区划代码" in exc.value.errors[0]
    with pytest.raises(bulk.BulkImportError) as exc:
        import_orgs(world, "admin_a", b"PK\x03\x04 not really a zip")
    assert "不是有效的 xlsx" in exc.value.errors[0]
    with pytest.raises(bulk.BulkImportError) as exc:
        bulk.organisations_import_file(scope=scope(world, "admin_a"), name="a.csv", data=b"x")
    assert "不支持的文件类型" in exc.value.errors[0]


def test_row_cap(world, monkeypatch):
    monkeypatch.setattr(bulk, "MAX_ORG_ROWS", 3)
    rows = [[f"单位{i}", "", "其他", "530300", "", "", ""] for i in range(4)]
    with pytest.raises(bulk.BulkImportError) as exc:
        import_orgs(world, "admin_a", org_file(*rows))
    assert "最多 3 行" in exc.value.errors[0]


@pytest.mark.parametrize("who", ["viewer_a", "staff_a1", "nobody"])
def test_only_office_admins_import(world, who):
    with pytest.raises(PermissionDenied):
        scope(world, who)


# --- users ------------------------------------------------------------------------------------
def test_user_import_creates_accounts_memberships_invitations_and_audit(world, client):
    data = user_file(
        ["jyj_zhang", "张三", "曲靖市教育体育局", "单位填报员", "zhang@example.cn"],
        ["kx_li", "李四", "曲靖市科学技术协会", "只读用户", ""],
        ["qlq_wang", "王五", str(world.orgs["county_office_a"].pk), "office_admin", ""],
    )
    result = import_users(world, "admin_a", data)
    assert result.users == 3 and len(result.invitations) == 3
    User = get_user_model()
    zhang = User.objects.get(username="jyj_zhang")
    assert zhang.first_name == "张三" and zhang.email == "zhang@example.cn"
    assert not zhang.has_usable_password()
    assert Membership.objects.get(user=zhang).organisation == world.orgs["unit_a1"]
    assert Membership.objects.get(user__username="qlq_wang").role == Role.OFFICE_ADMIN
    # audited, passwords masked
    user_ct = ContentType.objects.get_for_model(User)
    entry = AuditEntry.objects.get(content_type=user_ct, object_id=str(zhang.pk))
    assert entry.actor == world.users["admin_a"] and entry.changes["password"][0] == "******"
    m_ct = ContentType.objects.get_for_model(Membership)
    assert AuditEntry.objects.filter(content_type=m_ct, action="create").count() >= 3
    # the links file: one row per account
    wb = load_workbook(io.BytesIO(result.links_xlsx("https://kepu.example.cn")))
    rows = list(wb.active.iter_rows(values_only=True))
    assert rows[0][:6] == tuple(bulk.INVITE_HEADER[:6])
    link = rows[1][5]
    assert link.startswith("https://kepu.example.cn/orgs/invite/")
    # the invitation sets the password once; the same link is dead afterwards
    path = link.removeprefix("https://kepu.example.cn")
    resp = client.get(path, follow=True)
    assert resp.status_code == 200 and "jyj_zhang" in resp.content.decode()
    set_url = resp.redirect_chain[-1][0]
    resp = client.post(
        set_url, {"new_password1": "Zhang-new-pass-7", "new_password2": "Zhang-new-pass-7"}
    )
    assert resp.status_code == 302
    zhang.refresh_from_db()
    assert zhang.check_password("Zhang-new-pass-7")
    client.logout()
    again = client.get(path, follow=True)
    assert "激活链接无效" in again.content.decode()


def test_invitation_with_a_bad_token_is_refused(world, client):
    result = import_users(
        world, "admin_a", user_file(["a_user", "", "曲靖市教育体育局", "只读用户", ""])
    )
    path = result.invitations[0].path
    bad = path.rstrip("/")[:-3] + "zzz/"
    assert "激活链接无效" in client.get(bad, follow=True).content.decode()


@pytest.mark.parametrize(
    ("who", "row", "message"),
    [
        ("admin_a", ["new_u", "", "昆明市教育局", "只读用户", ""], "不存在或不在您的管理范围内"),
        (
            "admin_a",
            ["new_u", "", "曲靖市教育体育局", "超级管理员", ""],
            "角色「超级管理员」无法识别",
        ),
        (
            "admin_a",
            ["staff_a1", "", "曲靖市教育体育局", "只读用户", ""],
            "用户名「staff_a1」已存在",
        ),
        (
            "admin_a",
            ["super", "", "曲靖市科学技术协会", "办公室管理员", ""],
            "用户名「super」已存在",
        ),
        ("admin_a", ["bad name!", "", "曲靖市教育体育局", "只读用户", ""], "只能包含"),
        ("admin_a", ["new_u", "", "曲靖市教育体育局", "只读用户", "not-an-email"], "电子邮箱"),
        ("admin_a", ["new_u", "", "", "只读用户", ""], "组织为空"),
        # role escalation: a county office may not make anyone administrator of the city
        (
            "county_admin_a",
            ["new_u", "", "曲靖市科学技术协会", "办公室管理员", ""],
            "不在您的管理范围内",
        ),
    ],
)
def test_user_import_bad_row_saves_nothing(world, who, row, message):
    User = get_user_model()
    before = (User.objects.count(), Membership.objects.count(), AuditEntry.objects.count())
    with pytest.raises(bulk.BulkImportError) as exc:
        import_users(
            world, who, user_file(["fine_user", "", "麒麟区科学技术协会", "只读用户", ""], row)
        )
    assert any(message in e and e.startswith("第3行") for e in exc.value.errors), exc.value.errors
    assert (User.objects.count(), Membership.objects.count(), AuditEntry.objects.count()) == before


def test_role_cannot_exceed_the_importers_own():
    """The rank rule itself: with only viewer reach, granting unit staff is refused."""
    s = bulk.ImportScope(actor=None, paths={"CN/53/": 0}, label="test")
    assert s.rank_at("CN/53/5303/") == 0 and s.rank_at("CN/11/") == -1


def test_role_escalation_row_is_refused(world):
    office = world.orgs["office_a"]
    weak = bulk.ImportScope(
        actor=None, paths={office.region.path: bulk.ROLE_RANK[Role.VIEWER]}, label="x"
    )
    with pytest.raises(bulk.BulkImportError) as exc:
        bulk.users_import(
            scope=weak,
            rows=[
                bulk.UserRow(line=2, username="esc", organisation=office.name, role="办公室管理员")
            ],
        )
    assert exc.value.errors == ["第2行: 不能授予比您自己更高的角色「办公室管理员」"]
    assert not get_user_model().objects.filter(username="esc").exists()


def test_user_import_duplicate_usernames_in_file(world):
    with pytest.raises(bulk.BulkImportError) as exc:
        import_users(
            world,
            "admin_a",
            user_file(
                ["dup", "", "曲靖市教育体育局", "只读用户", ""],
                ["dup", "", "曲靖市教育体育局", "只读用户", ""],
            ),
        )
    assert exc.value.errors == ["第3行: 用户名「dup」与第2行重复"]


def test_ambiguous_organisation_name_asks_for_the_id(world):
    Organisation.objects.create(
        name="曲靖市教育体育局", kind="department", region=world.regions["county_a"]
    )
    with pytest.raises(bulk.BulkImportError) as exc:
        import_users(world, "admin_a", user_file(["x1", "", "曲靖市教育体育局", "只读用户", ""]))
    assert "请改填组织编号" in exc.value.errors[0]


# --- CLI ------------------------------------------------------------------------------------------
def test_cli_orgs_import_as_user_and_as_office(world, tmp_path):
    path = tmp_path / "orgs.xlsx"
    path.write_bytes(org_file(["命令行单位", "", "其他", "530302", "", "", ""]))
    out = io.StringIO()
    call_command("import_orgs", str(path), "--as", "admin_a", "--dry-run", stdout=out)
    assert (
        "校验通过" in out.getvalue() and not Organisation.objects.filter(name="命令行单位").exists()
    )
    call_command(
        "import_orgs", str(path), "--office", str(world.orgs["county_office_a"].pk), stdout=out
    )
    org = Organisation.objects.get(name="命令行单位")
    entry = AuditEntry.objects.get(
        content_type=ContentType.objects.get_for_model(Organisation), object_id=str(org.pk)
    )
    assert entry.actor is None and entry.actor_name == "系统"
    # the county office cannot import into the city level
    path.write_bytes(org_file(["命令行单位2", "", "其他", "530300", "", "", ""]))
    with pytest.raises(CommandError, match="不在您的管理范围内"):
        call_command("import_orgs", str(path), "--office", "麒麟区科学技术协会")
    with pytest.raises(CommandError, match="找不到科协或纲要办"):
        call_command("import_orgs", str(path), "--office", str(world.orgs["unit_a1"].pk))
    with pytest.raises(CommandError, match="只有办公室管理员"):
        call_command("import_orgs", str(path), "--as", "staff_a1")


def test_cli_users_import_writes_private_links_file(world, tmp_path):
    path = tmp_path / "users.xlsx"
    path.write_bytes(user_file(["cli_user", "赵六", "曲靖市教育体育局", "单位填报员", ""]))
    out_file = tmp_path / "links.xlsx"
    call_command(
        "import_users",
        str(path),
        "--as",
        "admin_a",
        "--out",
        str(out_file),
        "--base-url",
        "https://k.example.cn/",
        stdout=io.StringIO(),
    )
    assert (out_file.stat().st_mode & 0o777) == 0o600
    rows = list(load_workbook(out_file).active.iter_rows(values_only=True))
    assert rows[1][0] == "cli_user" and rows[1][5].startswith("https://k.example.cn/orgs/invite/")
    with pytest.raises(CommandError, match="已存在"):
        call_command("import_users", str(path), "--as", "admin_a", "--out", str(out_file))


def test_kepu_cli_routes_import_commands(monkeypatch):
    from kepu import cli

    seen = []
    monkeypatch.setattr(cli, "_django", lambda argv: seen.append(argv) or 0)
    cli.main(["orgs", "import", "a.xlsx", "--as", "u"])
    cli.main(["users", "import", "b.xlsx", "--office", "1", "--out", "c.xlsx"])
    cli.main(["bench", "seed", "--scale", "demo"])
    assert seen == [
        ["import_orgs", "a.xlsx", "--as", "u"],
        ["import_users", "b.xlsx", "--office", "1", "--out", "c.xlsx"],
        ["kepu_bench_seed", "--scale", "demo"],
    ]


def test_templates_are_importable_layouts(world):
    rows = list(
        load_workbook(io.BytesIO(bulk.org_template_xlsx())).active.iter_rows(values_only=True)
    )
    assert list(rows[0]) == ORG_HEADER
    rows = list(
        load_workbook(io.BytesIO(bulk.user_template_xlsx())).active.iter_rows(values_only=True)
    )
    assert list(rows[0]) == USER_HEADER
