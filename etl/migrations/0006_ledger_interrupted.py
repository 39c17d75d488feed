"""The run ledger records interrupted runs (Ctrl-C) and runs of mixed mode (some
summaries rebuilt in full by an incremental build)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('etl', '0005_operations'),
    ]

    operations = [
        migrations.AlterField(
            model_name='buildrun',
            name='mode',
            field=models.CharField(choices=[('full', 'Full'), ('incremental', 'Incremental'), ('mixed', 'mixed: some summaries in full')], max_length=20),
        ),
        migrations.AlterField(
            model_name='buildrun',
            name='status',
            field=models.CharField(choices=[('running', 'Running'), ('succeeded', 'Succeeded'), ('failed', 'Failed'), ('gate_failed', 'publish gate failed'), ('locked', 'skipped: another build held the lock'), ('abandoned', 'abandoned (process died)'), ('interrupted', 'interrupted (Ctrl-C)')], default='running', max_length=20),
        ),
    ]
