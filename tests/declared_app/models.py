"""The test-only summary models: unmanaged, their tables created inside the tests
(:func:`tests.declared.create_tables`)."""
from django.db import models

from etl.models import RATIO


class VisitDay(models.Model):
    day = models.DateField()
    location_id = models.BigIntegerField()
    nr_visits = models.IntegerField()
    nr_patients = models.IntegerField()
    nr_no_show = models.IntegerField()
    no_show_rate = models.DecimalField(null=True, **RATIO)
    visits_per_patient = models.DecimalField(null=True, max_digits=16, decimal_places=2)

    class Meta:
        db_table = "test_visit_day"
        managed = False


class VisitTrend(models.Model):
    day = models.DateField()
    location_id = models.BigIntegerField()
    nr_visits = models.IntegerField()
    no_show_rate = models.DecimalField(null=True, **RATIO)
    visits_3d = models.IntegerField()
    busiest_rank = models.IntegerField(null=True)
    no_show_rank = models.IntegerField(null=True)
    no_show_pct_rank = models.FloatField(null=True)

    class Meta:
        db_table = "test_visit_trend"
        managed = False
