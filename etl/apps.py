from django.apps import AppConfig


class EtlConfig(AppConfig):
    name = "etl"
    verbose_name = "EMR summaries"
    default_auto_field = "django.db.models.BigAutoField"
