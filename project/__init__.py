"""Django project of the EMR summaries ETL; importing it also loads the Celery app."""
from .celery import app as celery_app

__all__ = ("celery_app",)
