from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self):
        # A tally's calls download through logs' export machinery; logs does not import billing.
        from billing.exports import register
        from billing.panels import register as panels_register

        register()
        # The Overview (logs) shows billing's estimate and staff ranking through logs.panels.
        panels_register()
