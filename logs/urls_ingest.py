from django.urls import path

from logs import views_ingest as v

urlpatterns = [
    path("", v.ingest_upload, name="ingest"),
    path("<int:pk>/", v.ingest_batch, name="ingest_batch"),
    path("<int:pk>/status", v.ingest_batch_status, name="ingest_batch_status"),
]
