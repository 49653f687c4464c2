"""The monitoring models as they were in the agentauth app: their tables already exist (renamed there)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("agentauth", "0003_move_out_audit_consent_monitoring"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        migrations.swappable_dependency(settings.OAUTH2_PROVIDER_APPLICATION_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Alert',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('rule', models.CharField(max_length=60)),
                        ('severity', models.CharField(choices=[('low', 'Low'), ('medium', 'Medium'), ('high', 'High')], max_length=10)),
                        ('summary', models.CharField(max_length=300)),
                        ('evidence', models.JSONField(default=dict)),
                        ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ('acknowledged_at', models.DateTimeField(blank=True, null=True)),
                        ('agent_suspended', models.BooleanField(default=False)),
                        ('agent', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='alerts', to=settings.OAUTH2_PROVIDER_APPLICATION_MODEL)),
                        ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='alerts', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='PersonSettings',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('unusual_hours', models.JSONField(default=list, help_text='UTC hours (0-23) when agent calls are unusual')),
                        ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='agent_settings', to=settings.AUTH_USER_MODEL)),
                    ],
                ),
                migrations.CreateModel(
                    name='Sighting',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('client_id', models.CharField(max_length=255)),
                        ('kind', models.CharField(max_length=10)),
                        ('value', models.CharField(max_length=300)),
                        ('first_seen', models.DateTimeField(default=django.utils.timezone.now)),
                    ],
                    options={
                        'constraints': [models.UniqueConstraint(fields=('client_id', 'kind', 'value'), name='one_sighting_per_value')],
                    },
                ),
                migrations.CreateModel(
                    name='ActivityMinute',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('client_id', models.CharField(max_length=255)),
                        ('minute', models.DateTimeField()),
                        ('calls', models.PositiveIntegerField(default=0)),
                        ('refused', models.PositiveIntegerField(default=0)),
                        ('insufficient_scope', models.PositiveIntegerField(default=0)),
                        ('user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'indexes': [models.Index(fields=['client_id', '-minute'], name='activity_agent_minute')],
                        'constraints': [models.UniqueConstraint(fields=('client_id', 'user', 'minute'), name='one_activity_row_per_minute')],
                    },
                ),
                migrations.CreateModel(
                    name='ScopeUse',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('scope', models.CharField(max_length=80)),
                        ('last_used_at', models.DateTimeField()),
                        ('agent', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='scope_uses', to=settings.OAUTH2_PROVIDER_APPLICATION_MODEL)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'constraints': [models.UniqueConstraint(fields=('user', 'agent', 'scope'), name='one_scope_use_row')],
                    },
                ),
            ],
        ),
    ]
