from django.urls import include, path

app_name = "logs"
urlpatterns = [
    path("ingest/", include("logs.urls_ingest")),
    path("", include("logs.urls_exports")),
    path("", include("logs.urls_dashboard")),
]
