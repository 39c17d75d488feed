
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('etl', '0008_location_snapshot'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='RoleGroup',
            fields=[
                ('id', models.BigIntegerField(primary_key=True, serialize=False)),
                ('name', models.CharField(max_length=200)),
            ],
            options={
                'db_table': 'dim_role_group',
                'ordering': ['name', 'id'],
            },
        ),
        migrations.CreateModel(
            name='Service',
            fields=[
                ('id', models.BigIntegerField(primary_key=True, serialize=False)),
                ('code', models.CharField(max_length=50)),
                ('name', models.CharField(max_length=200)),
            ],
            options={
                'db_table': 'dim_service',
                'ordering': ['name', 'id'],
            },
        ),
        migrations.CreateModel(
            name='Location',
            fields=[
                ('id', models.BigIntegerField(primary_key=True, serialize=False)),
                ('parent_id', models.BigIntegerField(null=True)),
                ('name', models.CharField(max_length=200)),
                ('kind', models.CharField(max_length=20)),
                ('clinic_id', models.BigIntegerField(help_text='the clinic of the location; NULL when it has none', null=True)),
                ('region_id', models.BigIntegerField(help_text='the top-most ancestor; NULL when the chain breaks or loops', null=True)),
            ],
            options={
                'db_table': 'dim_location',
                'ordering': ['name', 'id'],
                'permissions': [('view_small_counts', 'may see small counts')],
                'indexes': [models.Index(fields=['parent_id'], name='dim_location_parent'), models.Index(fields=['clinic_id'], name='dim_location_clinic'), models.Index(fields=['region_id'], name='dim_location_region')],
            },
        ),
        migrations.CreateModel(
            name='LocationGrant',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('location_id', models.BigIntegerField()),
                ('granted_at', models.DateTimeField(auto_now_add=True)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='location_grants', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'db_table': 'etl_location_grant',
                'constraints': [models.UniqueConstraint(fields=('user', 'location_id'), name='etl_location_grant_unique')],
            },
        ),
    ]
