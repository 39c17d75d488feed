"""Indexes matching the reading side's filters (docs/web.md, "Speed"): a service or a role
group filter alone, and narrow (clinic_id, day) indexes for counting a few clinics' rows
(the wide ones of 0011 made a region's count read 39 MB of index, or the whole table)."""
from django.db import migrations, models

INDEXES = [
    ("clinicday", ["clinic_id", "day"], "clinic_day_clinic_day"),
    ("clinicscore", ["clinic_id", "day"], "clinic_score_clinic_day"),
    ("staffcostsummary", ["role_group_id", "day"], "staff_cost_summary_group_day"),
    ("staffsummary", ["service_id", "day"], "staff_summary_service_day"),
    ("staffsummary", ["role_group_id", "day"], "staff_summary_group_day"),
]


class Migration(migrations.Migration):

    dependencies = [
        ('etl', '0011_web_speed'),
    ]

    operations = [
        migrations.AddIndex(model_name=model, index=models.Index(fields=fields, name=name))
        for model, fields, name in INDEXES
    ]
