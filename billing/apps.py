from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self):
        # A tally's calls download through logs' export machinery; logs does not import billing.
        from billing.exports import register

        register()
        # Retention (logs) keeps a month's calls until its tallies are settled.
        from billing.services.retention import tally_hold
        from logs.services.retention import HOLDS

        if tally_hold not in HOLDS:
            HOLDS.append(tally_hold)
