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
        indexes = [
            models.Index(fields=["location_id", "day"], name="staff_summary_loc_day"),  # narrow: counts
            # By location, in the default order within each, carrying every column: a user
            # granted a few locations reads their rows from this index alone (an
            # index-only scan, then a short sort) instead of walking the whole table in
            # day order. On SQLite, which has no INCLUDE, the key columns only.
            models.Index(
                fields=["location_id", "day", "service_id", "role_group_id", "id"],
                include=["role_group_name", "nr_visits", "nr_patients", "nr_cancelled", "nr_no_show", "visit_minutes"],
                name="staff_summary_loc_rows",
            ),
            # A filter on a service or a role group alone: counted by an index-only scan
            # of these instead of reading the whole table.
            models.Index(fields=["service_id", "day"], name="staff_summary_service_day"),
            models.Index(fields=["role_group_id", "day"], name="staff_summary_group_day"),
        ]
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
        indexes = [
            # Carries the role group: a region's rows of one group are counted in the index
            # (9 ms) instead of fetching 58k table rows to check it (41 ms).
            models.Index(fields=["location_id", "day"], include=["role_group_id"], name="staff_cost_summary_loc_day"),
            models.Index(fields=["role_group_id", "day"], name="staff_cost_summary_group_day"),  # a lone role group filter
        ]
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
            # By clinic, carrying every column: a user granted a few clinics reads their
            # rows by an index-only scan instead of walking all clinics in day order.
            models.Index(
                fields=["clinic_id", "day", "id"],
                include=["region_id", "nr_visits", "nr_cancelled", "nr_no_show", "nr_patients", "no_show_rate",
                         "rostered_hours", "staff_cost", "nr_staff", "patients_per_hour", "cost_per_patient"],
                name="clinic_day_clinic_rows",
            ),
            # Narrow, for counting a few clinics' rows (a region's 14,600 rows: 1 ms here,
            # 11 ms through the wide index above).
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
            models.Index(  # as clinic_day_clinic_rows
                fields=["clinic_id", "day", "id"],
                include=["region_id", "patients_per_hour", "cost_per_patient", "visits_7d", "pph_baseline_days",
                         "pph_mean", "pph_sd", "pph_z", "cpp_baseline_days", "cpp_mean", "cpp_sd", "cpp_z",
                         "is_outlier", "pph_rank", "pph_pct_rank"],
                name="clinic_score_clinic_rows",
            ),
            models.Index(fields=["clinic_id", "day"], name="clinic_score_clinic_day"),  # narrow: counts
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


class RegionMonthPatients(models.Model):
    """Helper of region_month: distinct patients of a month's completed visits at a
    region's clinics. Read from the raw visits (on the EMR side when that is another
    database), so that region_month itself reads only summary tables."""

    month = models.DateField(help_text="the first day of the month")
    region_id = models.BigIntegerField(null=True)
    nr_patients = models.IntegerField(help_text="distinct patients of completed visits")

    class Meta:
        db_table = "region_month_patients"
        ordering = ["month", "region_id"]
        constraints = [
            models.UniqueConstraint(fields=["month", "region_id"], name="region_month_patients_grain",
                                    nulls_distinct=False),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} region {self.region_id}"


# --- build state: what each summary was built from, and the run ledger -----------------

class SummaryState(models.Model):
    """One row per summary: the definition it was built with and when."""

    name = models.CharField(max_length=100, unique=True)
    definition_hash = models.CharField(max_length=64, help_text="sha256 of the summary's compiled query")
    definition_stamp = models.CharField(
        max_length=64, blank=True, default="",
        help_text="the code stamp the definition hash was compiled under in a manage.py process (empty: elsewhere)",
    )
    built_at = models.DateTimeField()
    full_built_at = models.DateTimeField()
    full_reason = models.CharField(max_length=200, blank=True, help_text="set when the next build must be full")
    raw_identity = models.CharField(
        max_length=500, blank=True, default="",
        help_text="identity of the captured raw tables it was built from (JSON); another one means they were replaced",
    )
    row_count = models.BigIntegerField(
        null=True, blank=True,
        help_text="rows in the summary's table as this build left it (the count of an unfiltered API listing)",
    )

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


class DayFingerprint(models.Model):
    """Per summary and day, a digest of the raw rows the day was built from (row count, sum
    of ids, sum of updated_at per raw table the summary reads), recorded in the transaction
    that built the day. ``build_summaries --verify`` recomputes them and rebuilds the days
    whose raw rows changed without a logged change."""

    summary = models.CharField(max_length=100)
    day = models.DateField()
    fingerprint = models.CharField(max_length=40)

    class Meta:
        db_table = "etl_day_fingerprint"
        constraints = [models.UniqueConstraint(fields=["summary", "day"], name="etl_day_fingerprint_unique")]


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
    cells_rebuilt = models.IntegerField(
        default=0, help_text="(day, location) and (day, clinic) pairs rebuilt on their own after staff or location "
        "edits, over all summaries (besides the days rebuilt)",
    )
    full_rebuilds = models.CharField(max_length=500, blank=True, help_text="summaries rebuilt in full, and why")
    rows_deleted = models.BigIntegerField(default=0)
    rows_written = models.BigIntegerField(default=0)
    duration_seconds = models.FloatField(null=True)
    error = models.TextField(blank=True)
    pid = models.IntegerField(null=True)
    noop_runs = models.IntegerField(
        default=0, help_text="runs that found nothing to do, counted on this one row: the first started at "
        "started_at, the last finished at finished_at (0: this run did something)",
    )

    class Meta:
        db_table = "etl_build_run"
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"build {self.pk} {self.status} at {self.started_at:%Y-%m-%d %H:%M:%S}"


# --- dimensions: names and the location tree, kept by every build (etl.engine.dimensions) ---

class Location(models.Model):
    """A copy of ``emr_location`` with each location's clinic and region (CONTRACT §4), so
    the reading side shows names and resolves grants from Django's database alone, also
    when the raw tables live in another database. Replaced whole by every build."""

    id = models.BigIntegerField(primary_key=True)
    parent_id = models.BigIntegerField(null=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20)
    clinic_id = models.BigIntegerField(null=True, help_text="the clinic of the location; NULL when it has none")
    region_id = models.BigIntegerField(null=True, help_text="the top-most ancestor; NULL when the chain breaks or loops")

    class Meta:
        db_table = "dim_location"
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["parent_id"], name="dim_location_parent"),
            models.Index(fields=["clinic_id"], name="dim_location_clinic"),
            models.Index(fields=["region_id"], name="dim_location_region"),
        ]
        permissions = [("view_small_counts", "may see small counts")]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class Service(models.Model):
    """A copy of ``emr_service``; replaced whole by every build."""

    id = models.BigIntegerField(primary_key=True)
    code = models.CharField(max_length=50)
    name = models.CharField(max_length=200)

    class Meta:
        db_table = "dim_service"
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class RoleGroup(models.Model):
    """The role groups (root roles of ``emr_role``) with their names; replaced whole by
    every build."""

    id = models.BigIntegerField(primary_key=True)
    name = models.CharField(max_length=200)

    class Meta:
        db_table = "dim_role_group"
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


# --- who sees what ---------------------------------------------------------------------

class LocationGrant(models.Model):
    """A user may read the summaries of this location and of every location under it.
    ``location_id`` is a raw location id (not a foreign key: the location dimension is
    replaced by every build, and a grant outlives a location's absence from one export)."""

    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="location_grants")
    location_id = models.BigIntegerField()
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "etl_location_grant"
        constraints = [models.UniqueConstraint(fields=["user", "location_id"], name="etl_location_grant_unique")]

    def __str__(self) -> str:
        return f"{self.user} → location {self.location_id}"


class QualityCount(models.Model):
    """The data-quality report of the raw tables (``check_emr``), kept: one row per check
    each time it is recorded (nightly, by beat), so counts can be compared night to night."""

    taken_at = models.DateTimeField(help_text="when the report was taken (UTC)")
    check_name = models.CharField(max_length=100)
    table = models.CharField(max_length=100, help_text="the raw table the check reads")
    findings = models.BigIntegerField(help_text="rows flagged by the check")
    previous_findings = models.BigIntegerField(null=True, help_text="the same check in the report before")

    class Meta:
        db_table = "etl_quality_count"
        ordering = ["-taken_at", "check_name"]
        constraints = [
            models.UniqueConstraint(fields=["taken_at", "check_name"], name="etl_quality_count_unique"),
        ]
        indexes = [models.Index(fields=["check_name", "taken_at"], name="etl_quality_count_check")]

    @property
    def change(self) -> int | None:
        """Findings since the report before (None for a check's first report)."""
        return None if self.previous_findings is None else self.findings - self.previous_findings

    def __str__(self) -> str:
        return f"{self.check_name} at {self.taken_at:%Y-%m-%d %H:%M}: {self.findings}"


class FanoutRun(models.Model):
    """A build fanned out across workers (``build_summaries --fan-out``, PostgreSQL only):
    batches of days are built into run-scoped staging tables by a Celery chord, and one
    publish step replaces the live rows when every batch succeeded. While a run is open,
    other builds refuse to start (they would race the publish)."""

    class Status(models.TextChoices):
        RUNNING = "running"
        PUBLISHED = "published"
        FAILED = "failed", "failed: nothing published, staging dropped"

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    summaries = models.CharField(max_length=500)
    full = models.BooleanField(help_text="every day (else the since .. until backfill)")
    since = models.DateField(null=True)
    until = models.DateField(null=True, help_text="inclusive")
    batches_total = models.IntegerField()
    build_run = models.ForeignKey(BuildRun, null=True, on_delete=models.SET_NULL, related_name="+")
    definitions = models.JSONField(default=dict, help_text="summary -> definition hash at the start")
    staff = models.JSONField(default=dict, help_text="staff id -> [role group, group name, cost cents] at the start")
    error = models.TextField(blank=True)

    class Meta:
        db_table = "etl_fanout_run"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"fan-out {self.pk} {self.status}"


class FanoutBatch(models.Model):
    """One batch of days of a fan-out run, built by one worker into the staging tables."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DONE = "done"
        FAILED = "failed"

    run = models.ForeignKey(FanoutRun, on_delete=models.CASCADE, related_name="batches")
    number = models.IntegerField()
    start = models.DateField()
    end = models.DateField(help_text="exclusive")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    worker = models.CharField(max_length=200, blank=True)
    rows_written = models.BigIntegerField(default=0)
    finished_at = models.DateTimeField(null=True)
    error = models.TextField(blank=True)

    class Meta:
        db_table = "etl_fanout_batch"
        ordering = ["run", "number"]
        constraints = [models.UniqueConstraint(fields=["run", "number"], name="etl_fanout_batch_unique")]


class BuiltLocation(models.Model):
    """Per summary, each location's clinic and region as last built. Compared with the
    raw emr_location tree at the next build: a difference (a department moved to another
    clinic, a clinic to another region, a kind changed) changed history, and the days of
    the location's visits and shifts are rebuilt."""

    summary = models.CharField(max_length=100)
    location_id = models.BigIntegerField()
    clinic_id = models.BigIntegerField()
    region_id = models.BigIntegerField(null=True)

    class Meta:
        db_table = "etl_built_location"
        constraints = [models.UniqueConstraint(fields=["summary", "location_id"], name="etl_built_location_unique")]
