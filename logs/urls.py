from django.urls import path

from logs.views import account, apidocs, calls, exports, ingest, overview, tokens

app_name = "logs"
urlpatterns = [
    path("", overview.OverviewView.as_view(), name="overview"),
    path("logs/", calls.CallListView.as_view(), name="calls"),
    path("logs/<int:pk>/", calls.CallDetailView.as_view(), name="call"),
    path("customer/", account.customer_switch, name="customer_switch"),
    path("account/", account.account, name="account"),
    path("account/tokens/", tokens.tokens, name="tokens"),
    path("account/tokens/<int:pk>/revoke/", tokens.token_revoke, name="token_revoke"),
    path("api-docs/", apidocs.api_docs, name="api_docs"),
    path("exports/new", exports.export_new, name="export_new"),
    path("tasks/", exports.tasks, name="tasks"),
    path("tasks/<int:pk>/status", exports.task_status, name="task_status"),
    path("tasks/<int:pk>/download", exports.task_download, name="task_download"),
    path("tasks/<int:pk>/retry", exports.task_retry, name="task_retry"),
    path("tasks/<int:pk>/cancel", exports.task_cancel, name="task_cancel"),
    path("ingest/", ingest.ingest_upload, name="ingest"),
    path("ingest/<int:pk>/", ingest.ingest_batch, name="ingest_batch"),
    path("ingest/<int:pk>/status", ingest.ingest_batch_status, name="ingest_batch_status"),
]
