"""The run ledger records the (day, key) pairs a build rebuilt on their own after staff or
location edits."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('etl', '0009_web'),
    ]

    operations = [
        migrations.AddField(
            model_name='buildrun',
            name='cells_rebuilt',
            field=models.IntegerField(default=0, help_text='(day, location) and (day, clinic) pairs rebuilt on their own after staff or location edits, over all summaries (besides the days rebuilt)'),
        ),
    ]
