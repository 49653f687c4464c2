"""The consent models as they were in the agentauth app: their tables already exist (renamed there)."""

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
                    name='Grant',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('scopes', models.JSONField(default=list)),
                        ('granted_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('changed_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('revoked_at', models.DateTimeField(blank=True, null=True)),
                        ('agent', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='grants', to=settings.OAUTH2_PROVIDER_APPLICATION_MODEL)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='agent_grants', to=settings.AUTH_USER_MODEL)),
                    ],
                ),
                migrations.CreateModel(
                    name='GrantChange',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ('before', models.JSONField(default=list)),
                        ('after', models.JSONField(default=list)),
                        ('via', models.CharField(choices=[('consent', 'Consent screen'), ('device', 'Device code'), ('portal', 'Portal'), ('admin', 'Administrator'), ('command', 'Command line'), ('system', 'AgentAuth')], default='system', max_length=20)),
                        ('grant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='changes', to='consent.grant')),
                    ],
                    options={
                        'ordering': ['-at', '-id'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='grant',
                    constraint=models.UniqueConstraint(fields=('user', 'agent'), name='one_grant_per_person_and_agent'),
                ),
            ],
        ),
    ]
