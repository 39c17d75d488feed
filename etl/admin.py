"""Read-only admin pages: the summaries and the run ledger are written by builds only."""
from django.contrib import admin

from etl.models import (
    BuildRun, ClinicDay, ClinicScore, FanoutBatch, FanoutRun, QualityCount, RegionMonth, StaffCostSummary,
    StaffSummary, SummaryState,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BuildRun)
class BuildRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "started_at", "status", "trigger", "mode", "summaries", "partitions_rebuilt",
                    "rows_deleted", "rows_written", "duration_seconds", "noop_runs")
    list_filter = ("status", "trigger", "mode")
    search_fields = ("error", "summaries")


@admin.register(SummaryState)
class SummaryStateAdmin(ReadOnlyAdmin):
    list_display = ("name", "built_at", "full_built_at", "full_reason")


@admin.register(StaffSummary)
class StaffSummaryAdmin(ReadOnlyAdmin):
    list_display = ("day", "location_id", "service_id", "role_group_id", "role_group_name", "nr_visits",
                    "nr_patients", "nr_cancelled", "nr_no_show", "visit_minutes")
    list_filter = ("role_group_name",)
    date_hierarchy = "day"


@admin.register(StaffCostSummary)
class StaffCostSummaryAdmin(ReadOnlyAdmin):
    list_display = ("day", "location_id", "role_group_id", "rostered_hours", "staff_cost", "nr_staff",
                    "nr_visits", "nr_patients", "patients_per_hour", "cost_per_patient")
    date_hierarchy = "day"


@admin.register(ClinicDay)
class ClinicDayAdmin(ReadOnlyAdmin):
    list_display = ("day", "clinic_id", "region_id", "nr_visits", "nr_patients", "nr_no_show", "no_show_rate",
                    "rostered_hours", "staff_cost", "patients_per_hour", "cost_per_patient")
    date_hierarchy = "day"


@admin.register(ClinicScore)
class ClinicScoreAdmin(ReadOnlyAdmin):
    list_display = ("day", "clinic_id", "region_id", "patients_per_hour", "pph_z", "cost_per_patient", "cpp_z",
                    "is_outlier", "pph_rank", "pph_pct_rank")
    list_filter = ("is_outlier",)
    date_hierarchy = "day"


@admin.register(RegionMonth)
class RegionMonthAdmin(ReadOnlyAdmin):
    list_display = ("month", "region_id", "nr_clinics", "nr_visits", "nr_patients", "rostered_hours", "staff_cost",
                    "visits_per_hour", "cost_per_patient", "outlier_days", "visits_change")
    date_hierarchy = "month"


@admin.register(QualityCount)
class QualityCountAdmin(ReadOnlyAdmin):
    list_display = ("taken_at", "check_name", "table", "findings", "previous_findings", "change")
    list_filter = ("check_name", "table")
    date_hierarchy = "taken_at"


@admin.register(FanoutRun)
class FanoutRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "started_at", "finished_at", "status", "summaries", "full", "since", "until",
                    "batches_total", "error")
    list_filter = ("status",)


@admin.register(FanoutBatch)
class FanoutBatchAdmin(ReadOnlyAdmin):
    list_display = ("run", "number", "start", "end", "status", "worker", "rows_written", "finished_at", "error")
    list_filter = ("status", "worker")
