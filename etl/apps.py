from django.apps import AppConfig


class EtlConfig(AppConfig):
    name = "etl"
    verbose_name = "EMR summaries"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the start-up check of the summary declarations (etl.summaries.checks).
        from etl.summaries import checks  # noqa: F401
