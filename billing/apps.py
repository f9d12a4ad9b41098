from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self):
        # A tally's calls download through logs' export machinery; logs does not import billing.
        from billing.choices import IneligibleReason, ReconCategory, TallyCallStatus, TallyStatus
        from billing.exports import register
        from billing.jobkinds import register as register_job_kinds
        from billing.panels import register as panels_register
        from logs.labels import label_kind_register

        register()
        register_job_kinds()  # its long jobs on the Async Tasks page
        # The Overview (logs) shows billing's estimate and staff ranking through logs.panels.
        panels_register()
        # billing's codes as people read them (logs.labels: the one label source per kind)
        for kind, choices in (("ineligible_reason", IneligibleReason), ("recon_category", ReconCategory),
                              ("tally_status", TallyStatus), ("tally_call_status", TallyCallStatus)):
            label_kind_register(kind=kind, choices=choices)
        # Retention (logs) keeps a month's calls until its tallies are settled.
        from billing.services.retention import tally_hold
        from logs.services.retention import HOLDS

        if tally_hold not in HOLDS:
            HOLDS.append(tally_hold)
