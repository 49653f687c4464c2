"""The audit trail, consent and monitoring leave this app for apps of their own.

Their tables are renamed, not copied, so every row stays where it is; the new apps' first
migrations only describe the moved models to Django. Content types (and with them permissions
and admin log entries) follow the models.
"""

from django.db import migrations

MOVED = {
    "audit": ["auditevent", "audithead"],
    "consent": ["grantchange", "grant"],
    "monitoring": ["alert", "activityminute", "personsettings", "scopeuse", "sighting"],
}


def move_content_types(apps, schema_editor, *, forward=True):
    content_types = apps.get_model("contenttypes", "ContentType").objects.using(schema_editor.connection.alias)
    for app, models in MOVED.items():
        old, new = ("agentauth", app) if forward else (app, "agentauth")
        content_types.filter(app_label=old, model__in=models).update(app_label=new)


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, forward=False)


class Migration(migrations.Migration):
    dependencies = [
        ("agentauth", "0002_audit_sealing"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                # Auto-named indexes get names of their own, so the new apps' state matches the database.
                migrations.RenameIndex(
                    "auditevent", new_name="audit_subject_agent_at", old_name="agentauth_a_subject_85b581_idx"
                ),
                migrations.RenameIndex(
                    "activityminute", new_name="activity_agent_minute", old_name="agentauth_a_client__03fb06_idx"
                ),
                *[migrations.AlterModelTable(model, f"{app}_{model}") for app, models in MOVED.items() for model in models],
            ],
            state_operations=[migrations.DeleteModel(model) for models in MOVED.values() for model in models],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
