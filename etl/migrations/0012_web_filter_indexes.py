"""Indexes matching the reading side's filters (docs/web.md, "Speed"): a service or a role
group filter alone, and narrow (clinic_id, day) indexes for counting a few clinics' rows
(the wide ones of 0011 made a region's count read 39 MB of index, or the whole table);
staff_cost_summary's (location_id, day) index carries the role group, so a user granted a
region counts their rows of one role group without reading the table."""
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
    ] + [
        migrations.RemoveIndex(model_name="staffcostsummary", name="staff_cost_summary_loc_day"),
        migrations.AddIndex(model_name="staffcostsummary", index=models.Index(
            fields=["location_id", "day"], include=["role_group_id"], name="staff_cost_summary_loc_day")),
    ]
