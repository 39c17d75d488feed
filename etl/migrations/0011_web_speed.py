"""The reading side's speed: the row count each build records per summary (the count of
an unfiltered API listing), and indexes by location or clinic that carry every column,
so a user granted a few locations reads a page of their rows by an index-only scan
(docs/web.md, "Speed")."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('etl', '0010_build_run_cells'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='clinicday',
            name='clinic_day_clinic_day',
        ),
        migrations.RemoveIndex(
            model_name='clinicscore',
            name='clinic_score_clinic_day',
        ),
        migrations.AddField(
            model_name='summarystate',
            name='row_count',
            field=models.BigIntegerField(blank=True, help_text="rows in the summary's table as this build left it (the count of an unfiltered API listing)", null=True),
        ),
        migrations.AddIndex(
            model_name='clinicday',
            index=models.Index(fields=['clinic_id', 'day', 'id'], include=('region_id', 'nr_visits', 'nr_cancelled', 'nr_no_show', 'nr_patients', 'no_show_rate', 'rostered_hours', 'staff_cost', 'nr_staff', 'patients_per_hour', 'cost_per_patient'), name='clinic_day_clinic_rows'),
        ),
        migrations.AddIndex(
            model_name='clinicscore',
            index=models.Index(fields=['clinic_id', 'day', 'id'], include=('region_id', 'patients_per_hour', 'cost_per_patient', 'visits_7d', 'pph_baseline_days', 'pph_mean', 'pph_sd', 'pph_z', 'cpp_baseline_days', 'cpp_mean', 'cpp_sd', 'cpp_z', 'is_outlier', 'pph_rank', 'pph_pct_rank'), name='clinic_score_clinic_rows'),
        ),
        migrations.AddIndex(
            model_name='staffsummary',
            index=models.Index(fields=['location_id', 'day', 'service_id', 'role_group_id', 'id'], include=('role_group_name', 'nr_visits', 'nr_patients', 'nr_cancelled', 'nr_no_show', 'visit_minutes'), name='staff_summary_loc_rows'),
        ),
    ]
