"""The audit models as they were in the agentauth app: their tables already exist (renamed there)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("agentauth", "0003_move_out_audit_consent_monitoring"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='AuditHead',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('last_seq', models.BigIntegerField(default=0)),
                        ('last_hash', models.CharField(default='0000000000000000000000000000000000000000000000000000000000000000', max_length=64)),
                    ],
                ),
                migrations.CreateModel(
                    name='AuditEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ('event', models.CharField(db_index=True, max_length=60)),
                        ('outcome', models.CharField(default='success', max_length=20)),
                        ('actor_type', models.CharField(choices=[('person', 'Person'), ('agent', 'Agent'), ('admin', 'Admin'), ('system', 'System')], default='system', max_length=10)),
                        ('actor', models.CharField(blank=True, max_length=255)),
                        ('client_id', models.CharField(blank=True, db_index=True, max_length=255)),
                        ('scope', models.CharField(blank=True, max_length=500)),
                        ('ip', models.GenericIPAddressField(blank=True, null=True)),
                        ('user_agent', models.CharField(blank=True, max_length=300)),
                        ('request_id', models.CharField(blank=True, max_length=64)),
                        ('details', models.JSONField(blank=True, default=dict)),
                        ('seq', models.BigIntegerField(blank=True, null=True, unique=True)),
                        ('prev_hash', models.CharField(blank=True, max_length=64)),
                        ('hash', models.CharField(blank=True, max_length=64)),
                        ('subject', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='audit_events', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'ordering': ['-id'],
                        'indexes': [models.Index(fields=['subject', 'client_id', '-at'], name='audit_subject_agent_at'), models.Index(condition=models.Q(('seq__isnull', True)), fields=['id'], name='audit_unsealed')],
                    },
                ),
            ],
        ),
    ]
