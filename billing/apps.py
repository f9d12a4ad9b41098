from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self):
        # A tally's calls download through logs' export machinery; logs does not import billing.
        from billing.exports import register
        from billing.jobkinds import register as register_job_kinds

        register()
        register_job_kinds()  # its long jobs on the Async Tasks page
