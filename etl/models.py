"""Summary tables: what the web app, admin and API read (CONTRACT sections 2 and 4).

The ETL writes these tables through SQLAlchemy Core (``etl.db.tables`` derives their Table
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


# --- clinic scores (CONTRACT section 4) ---------------------------------------------------

class ClinicDay(models.Model):
    """One row per (day, clinic) with a completed, cancelled or no-show visit, or a valid
    shift, at the clinic or a department under it."""

    day = models.DateField()
    clinic_id = models.BigIntegerField()
    region_id = models.BigIntegerField(null=True)
    nr_visits = models.IntegerField(help_text="completed visits")
    nr_cancelled = models.IntegerField()
    nr_no_show = models.IntegerField()
    nr_patients = models.IntegerField(help_text="distinct patients of completed visits")
    no_show_rate = models.DecimalField(null=True, **RATIO)
    rostered_hours = models.DecimalField(**RATIO)
    staff_cost = models.DecimalField(**MONEY)
    nr_staff = models.IntegerField()
    patients_per_hour = models.DecimalField(null=True, **RATIO)
    cost_per_patient = models.DecimalField(null=True, **RATIO)

    class Meta:
        db_table = "clinic_day"
        ordering = ["day", "clinic_id"]
        constraints = [models.UniqueConstraint(fields=["day", "clinic_id"], name="clinic_day_grain")]
        indexes = [
            models.Index(fields=["clinic_id", "day"], name="clinic_day_clinic_day"),
            models.Index(fields=["region_id", "day"], name="clinic_day_region_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} clinic {self.clinic_id}"


class ClinicScore(models.Model):
    """One row per clinic_day row: rolling 28-day baselines, z-scores, outlier flag and
    the rank of patients per hour within the region that day."""

    day = models.DateField()
    clinic_id = models.BigIntegerField()
    region_id = models.BigIntegerField(null=True)
    patients_per_hour = models.DecimalField(null=True, **RATIO)
    cost_per_patient = models.DecimalField(null=True, **RATIO)
    visits_7d = models.IntegerField(help_text="completed visits over the 7 calendar days ending on the day")
    pph_baseline_days = models.IntegerField()
    pph_mean = models.FloatField(null=True)
    pph_sd = models.FloatField(null=True)
    pph_z = models.FloatField(null=True)
    cpp_baseline_days = models.IntegerField()
    cpp_mean = models.FloatField(null=True)
    cpp_sd = models.FloatField(null=True)
    cpp_z = models.FloatField(null=True)
    is_outlier = models.BooleanField()
    pph_rank = models.IntegerField(null=True)
    pph_pct_rank = models.FloatField(null=True)

    class Meta:
        db_table = "clinic_score"
        ordering = ["day", "clinic_id"]
        constraints = [models.UniqueConstraint(fields=["day", "clinic_id"], name="clinic_score_grain")]
        indexes = [
            models.Index(fields=["clinic_id", "day"], name="clinic_score_clinic_day"),
            models.Index(fields=["region_id", "day"], name="clinic_score_region_day"),
            models.Index(fields=["is_outlier", "day"], name="clinic_score_outlier_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} clinic {self.clinic_id}"


class RegionMonth(models.Model):
    """One row per (month, region) with a clinic_day row of a clinic of that region."""

    month = models.DateField(help_text="the first day of the month")
    region_id = models.BigIntegerField(null=True)
    nr_clinics = models.IntegerField()
    nr_visits = models.IntegerField(help_text="completed visits")
    nr_no_show = models.IntegerField()
    nr_patients = models.IntegerField(help_text="distinct patients over the month")
    rostered_hours = models.DecimalField(**RATIO)
    staff_cost = models.DecimalField(**MONEY)
    visits_per_hour = models.DecimalField(null=True, **RATIO)
    cost_per_patient = models.DecimalField(null=True, **RATIO)
    outlier_days = models.IntegerField()
    visits_change = models.DecimalField(null=True, **RATIO)

    class Meta:
        db_table = "region_month"
        ordering = ["month", "region_id"]
        constraints = [
            models.UniqueConstraint(fields=["month", "region_id"], name="region_month_grain", nulls_distinct=False),
        ]
        indexes = [models.Index(fields=["region_id", "month"], name="region_month_region_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} region {self.region_id}"


# --- build state: what each summary was built from, and the run ledger -----------------

class SummaryState(models.Model):
    """One row per summary: the definition it was built with and when."""

    name = models.CharField(max_length=100, unique=True)
    definition_hash = models.CharField(max_length=64, help_text="sha256 of the summary's compiled query")
    built_at = models.DateTimeField()
    full_built_at = models.DateTimeField()
    full_reason = models.CharField(max_length=200, blank=True, help_text="set when the next build must be full")

    class Meta:
        db_table = "etl_summary_state"

    def __str__(self) -> str:
        return self.name


class PendingDay(models.Model):
    """A day a summary must rebuild: claimed from the change log, or asked for by a backfill.
    Deleted in the same transaction that rebuilds the day, so a crash loses none."""

    summary = models.CharField(max_length=100)
    day = models.DateField()
    queued_at = models.DateTimeField(help_text="when the oldest change of this day was logged")

    class Meta:
        db_table = "etl_pending_day"
        constraints = [models.UniqueConstraint(fields=["summary", "day"], name="etl_pending_day_unique")]


class BuiltStaffGroup(models.Model):
    """Per summary, each staff member's role group, group name and cost as last built.
    Compared with the raw tables at the next build: a difference means an edit of
    emr_staff or the emr_role tree changed history, and the member's days are rebuilt."""

    summary = models.CharField(max_length=100)
    staff_id = models.BigIntegerField()
    role_group_id = models.BigIntegerField(null=True)
    role_group_name = models.CharField(max_length=200, null=True)
    hourly_cost_cents = models.BigIntegerField(null=True)

    class Meta:
        db_table = "etl_built_staff_group"
        constraints = [models.UniqueConstraint(fields=["summary", "staff_id"], name="etl_built_staff_group_unique")]


class BuildRun(models.Model):
    """The run ledger: one row per build_summaries run."""

    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        GATE_FAILED = "gate_failed", "publish gate failed"
        LOCKED = "locked", "skipped: another build held the lock"
        ABANDONED = "abandoned", "abandoned (process died)"
        INTERRUPTED = "interrupted", "interrupted (Ctrl-C)"

    class Trigger(models.TextChoices):
        MANUAL = "manual"
        SCHEDULE = "schedule"
        BACKFILL = "backfill"

    class Mode(models.TextChoices):
        FULL = "full"
        INCREMENTAL = "incremental"
        MIXED = "mixed", "mixed: some summaries in full"

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.MANUAL)
    mode = models.CharField(max_length=20, choices=Mode.choices)
    summaries = models.CharField(max_length=500, help_text="summaries asked for")
    partitions_rebuilt = models.IntegerField(default=0, help_text="days rebuilt, over all summaries")
    full_rebuilds = models.CharField(max_length=500, blank=True, help_text="summaries rebuilt in full, and why")
    rows_deleted = models.BigIntegerField(default=0)
    rows_written = models.BigIntegerField(default=0)
    duration_seconds = models.FloatField(null=True)
    error = models.TextField(blank=True)
    pid = models.IntegerField(null=True)

    class Meta:
        db_table = "etl_build_run"
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"build {self.pk} {self.status} at {self.started_at:%Y-%m-%d %H:%M:%S}"
