"""The reading side's speed: the row count each build records per summary (the count of
an unfiltered API listing), and an index that serves a few locations' rows of
staff_summary in the default order by an index-only scan (docs/web.md, "Speed")."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('etl', '0009_web'),
    ]

    operations = [
        migrations.AddField(
            model_name='summarystate',
            name='row_count',
            field=models.BigIntegerField(blank=True, help_text="rows in the summary's table as this build left it (the count of an unfiltered API listing)", null=True),
        ),
        migrations.AddIndex(
            model_name='staffsummary',
            index=models.Index(fields=['location_id', 'day', 'service_id', 'role_group_id', 'id'], include=('role_group_name', 'nr_visits', 'nr_patients', 'nr_cancelled', 'nr_no_show', 'visit_minutes'), name='staff_summary_loc_rows'),
        ),
    ]
