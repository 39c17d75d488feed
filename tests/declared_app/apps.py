from django.apps import AppConfig


class DeclaredAppConfig(AppConfig):
    name = "tests.declared_app"
    label = "declared_app"
    default_auto_field = "django.db.models.BigAutoField"
