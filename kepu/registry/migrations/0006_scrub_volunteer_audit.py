"""Entries written before the audit masked volunteers' personal data: mask the names and
hide phone, masked identity number, gender and birth year (as ``Volunteer.audit_personal``
does for new entries)."""

from django.db import migrations

HIDDEN = "******"
PERSONAL = ("phone", "id_masked", "gender", "birth_year")


def _mask_name(name):
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    keep = 2 if len(name) >= 4 else 1
    return name[:keep] + "*" * (len(name) - keep)


def _hide(pair):
    before, after = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
    return [
        None if before in (None, "") else HIDDEN,
        None
        if after in (None, "")
        else (HIDDEN + " (已修改)" if before not in (None, "") else HIDDEN),
    ]


def scrub(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    AuditEntry = apps.get_model("audit", "AuditEntry")
    ct = ContentType.objects.filter(app_label="registry", model="volunteer").first()
    if ct is None:
        return
    batch = []
    for e in AuditEntry.objects.filter(content_type=ct).iterator(chunk_size=2000):
        name = e.object_repr.split(" (", 1)[0]
        e.object_repr = _mask_name(name)
        changes = dict(e.changes or {})
        for k in PERSONAL:
            if k in changes and HIDDEN not in str(changes[k]):
                changes[k] = _hide(changes[k])
        if "name" in changes and isinstance(changes["name"], list):
            changes["name"] = [
                None if v in (None, "") or "*" in str(v) else _mask_name(str(v))
                for v in changes["name"]
            ]
        e.changes = changes
        batch.append(e)
        if len(batch) == 2000:
            AuditEntry.objects.bulk_update(batch, ["object_repr", "changes"])
            batch = []
    if batch:
        AuditEntry.objects.bulk_update(batch, ["object_repr", "changes"])


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0005_service_record_version"),
        ("audit", "0002_audit_signin_actions"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(scrub, migrations.RunPython.noop)]
