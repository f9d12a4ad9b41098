"""The project: settings, root URLs, the Celery app."""
from nbaudit.celery import app as celery_app

__all__ = ("celery_app",)
