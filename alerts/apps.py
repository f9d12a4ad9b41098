from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts and notifications"

    def ready(self):
        from alerts import receivers  # noqa: F401  (tally events notify the customer's users)
