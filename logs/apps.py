from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LogsConfig(AppConfig):
    name = "logs"
    verbose_name = "Call logs"

    def ready(self):
        from logs.selectors.rollups import overview_cache_reset

        # A migrated database may be a new one whose rollup versions restart: cached figures go.
        post_migrate.connect(overview_cache_reset, sender=self, dispatch_uid="logs.overview_cache_reset")
