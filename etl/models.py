"""Summary tables: what the web app, admin and API read (CONTRACT section 2).

The ETL writes these tables through SQLAlchemy Core (``etl.tables`` derives their Table
objects from these models); Django only reads them. Each has a surrogate ``id`` key
because NULL is a legal value in the grain; the grain itself is unique, with NULL equal
to NULL (``nulls_distinct=False`` on PostgreSQL; on SQLite, which lacks that clause, an
equivalent unique expression index created by migration 0002).
"""
from django.db import models

MONEY = {"max_digits": 16, "decimal_places": 2}
RATIO = {"max_digits": 16, "decimal_places": 4}


class StaffSummary(models.Model):
    """One row per (day, location, service, role group) with a completed, cancelled or
    no-show visit."""

    day = models.DateField()
    location_id = models.BigIntegerField()
    service_id = models.BigIntegerField(null=True)
    role_group_id = models.BigIntegerField(null=True)
    role_group_name = models.CharField(max_length=200, null=True)
    nr_visits = models.IntegerField(help_text="completed visits")
    nr_patients = models.IntegerField(help_text="distinct patients of completed visits")
    nr_cancelled = models.IntegerField()
    nr_no_show = models.IntegerField()
    visit_minutes = models.DecimalField(help_text="minutes of completed visits with a valid end", **MONEY)

    class Meta:
        db_table = "staff_summary"
        ordering = ["day", "location_id", "service_id", "role_group_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "location_id", "service_id", "role_group_id"],
                name="staff_summary_grain",
                nulls_distinct=False,
            ),
        ]
        indexes = [models.Index(fields=["location_id", "day"], name="staff_summary_loc_day")]
        verbose_name_plural = "staff summaries"

    def __str__(self) -> str:
        return f"{self.day} location {self.location_id} service {self.service_id} group {self.role_group_id}"


class StaffCostSummary(models.Model):
    """One row per (day, location, role group) with a valid shift or a completed visit."""

    day = models.DateField()
    location_id = models.BigIntegerField()
    role_group_id = models.BigIntegerField(null=True)
    rostered_hours = models.DecimalField(**RATIO)
    staff_cost = models.DecimalField(**MONEY)
    nr_staff = models.IntegerField()
    nr_visits = models.IntegerField()
    nr_patients = models.IntegerField()
    patients_per_hour = models.DecimalField(null=True, **RATIO)
    cost_per_patient = models.DecimalField(null=True, **RATIO)

    class Meta:
        db_table = "staff_cost_summary"
        ordering = ["day", "location_id", "role_group_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "location_id", "role_group_id"],
                name="staff_cost_summary_grain",
                nulls_distinct=False,
            ),
        ]
        indexes = [models.Index(fields=["location_id", "day"], name="staff_cost_summary_loc_day")]
        verbose_name_plural = "staff cost summaries"

    def __str__(self) -> str:
        return f"{self.day} location {self.location_id} group {self.role_group_id}"
