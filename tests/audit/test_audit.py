from __future__ import annotations

from kepu.audit.context import acting_as
from kepu.audit.models import AuditEntry
from kepu.orgs import services
from kepu.orgs.models import OrgKind


def test_create_update_delete_are_recorded_with_field_changes(world):
    admin = world.users["admin_a"]
    with acting_as(admin):
        org = services.organisation_create(
            user=admin, name="曲靖市档案馆", kind=OrgKind.OTHER, region=world.regions["city_a"]
        )
        services.organisation_update(user=admin, organisation=org, short_name="市档案馆")
        services.organisation_delete(user=admin, organisation=org)
    entries = list(AuditEntry.objects.filter(object_repr="曲靖市档案馆").order_by("pk"))
    assert [e.action for e in entries] == ["create", "update", "delete"]
    assert all(e.actor == admin and e.actor_name == "admin_a" for e in entries)
    assert entries[0].changes["name"] == [None, "曲靖市档案馆"]
    assert entries[1].changes == {"short_name": ["", "市档案馆"]}
    assert entries[2].changes["short_name"] == ["市档案馆", None]
    assert all(e.region_path == world.regions["city_a"].path for e in entries)


def test_password_hashes_never_reach_the_log(world):
    user = world.users["staff_a1"]
    user.set_password("Another-pass-77")
    user.save()
    entry = AuditEntry.objects.filter(object_repr="staff_a1", action="update").latest("pk")
    assert entry.changes == {"password": ["******", "****** (已修改)"]}
    created = AuditEntry.objects.get(object_repr="staff_a1", action="create")
    assert created.changes["password"] == ["******", "****** (已修改)"]
    assert "md5$" not in str(list(AuditEntry.objects.values_list("changes", flat=True)))


def test_actor_comes_from_the_request(client, world):
    client.force_login(world.users["admin_a"])
    resp = client.post(
        f"/orgs/{world.orgs['unit_a1'].pk}/edit/",
        {
            "name": "曲靖市教育体育局",
            "kind": "department",
            "region": "530300",
            "short_name": "教体局",
        },
    )
    assert resp.status_code == 302
    entry = AuditEntry.objects.filter(action="update", object_repr="曲靖市教育体育局").latest("pk")
    assert entry.actor_name == "admin_a"
    assert entry.changes["short_name"] == ["市教体局", "教体局"]
