from django.urls import path

from billing.views import reconcile, tallies

app_name = "billing"
urlpatterns = [
    path("tallies/", tallies.tally_list, name="tallies"),
    path("tallies/compute/", tallies.tally_compute_now, name="tally_compute"),
    path("tallies/compute/<int:pk>/status", tallies.tally_run_status, name="tally_run_status"),
    path("tallies/<int:pk>/", tallies.tally_detail, name="tally"),
    path("tallies/<int:pk>/approve/", tallies.tally_approve, name="tally_approve"),
    path("tallies/<int:pk>/reject/", tallies.tally_reject, name="tally_reject"),
    path("tallies/<int:pk>/credited/", tallies.tally_credited, name="tally_credited"),
    path("tallies/<int:pk>/call/", tallies.tally_call_action, name="tally_call_action"),
    path("tallies/<int:pk>/export/", tallies.tally_export, name="tally_export"),
    path("tallies/<int:pk>/questions/", tallies.tally_question_open, name="tally_question_open"),
    path("tallies/<int:pk>/questions/<int:qid>/reply/", tallies.tally_question_reply, name="tally_question_reply"),
    path("tallies/<int:pk>/questions/<int:qid>/close/", tallies.tally_question_close, name="tally_question_close"),
    path("reconcile/", reconcile.reconcile, name="reconcile"),
    path("reconcile/<int:pk>/", reconcile.reconciliation_detail, name="reconciliation"),
    path("reconcile/<int:pk>/status/", reconcile.reconciliation_status, name="reconciliation_status"),
    path("reconcile/<int:pk>/xlsx/", reconcile.reconciliation_xlsx, name="reconciliation_xlsx"),
]
