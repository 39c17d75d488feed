"""The code stamp a summary's definition hash was compiled under (etl.engine.definitions): a
``manage.py build_summaries`` process whose code has the same stamp reuses the hash
instead of compiling the summary's query again."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('etl', '0012_web_filter_indexes'),
    ]

    operations = [
        migrations.AddField(
            model_name='summarystate',
            name='definition_stamp',
            field=models.CharField(blank=True, default='', help_text='the code stamp the definition hash was compiled under in a manage.py process (empty: elsewhere)', max_length=64),
        ),
    ]
