from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_delete


def _partitions_ahead(sender, using="default", **kwargs):
    """`migrate`: the call table's partitions for the coming months (PostgreSQL)."""
    from django.db import connections

    from logs.services.partitions import partitions_ensure

    if connections[using].vendor == "postgresql" and using == "default":
        partitions_ensure()


def _customer_hours_marked(sender, instance, using="default", **kwargs):
    """A customer deleted: its coarse rollups go with it (cascade), so staff's all-customers
    rollups of its hours are summed again (`logs.services.rollups.all_customers_mark`)."""
    from logs.services.rollups import all_customers_mark

    all_customers_mark(customer_id=instance.pk, using=using)


class LogsConfig(AppConfig):
    name = "logs"
    verbose_name = "Call logs"

    def ready(self):
        import logs.lookups  # noqa: F401 - registers `__among`
        post_migrate.connect(_partitions_ahead, sender=self, dispatch_uid="logs.partitions_ahead")
        from logs.selectors.rollups import overview_cache_reset

        # A migrated database may be a new one whose rollup versions restart: cached figures go.
        post_migrate.connect(overview_cache_reset, sender=self, dispatch_uid="logs.overview_cache_reset")
        pre_delete.connect(_customer_hours_marked, sender="logs.Customer", dispatch_uid="logs.customer_hours_marked")
