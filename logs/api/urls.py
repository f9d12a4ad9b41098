from django.urls import path

from logs.api import views

app_name = "api"
# Every route here is in the OpenAPI document (logs/api/openapi.py), and every path there is
# routed here: tests/logs/api/test_openapi.py checks both ways.
urlpatterns = [
    path("", views.api_index, name="index"),
    path("openapi.json", views.api_openapi, name="openapi"),
    path("calls", views.calls_endpoint, name="calls"),
    path("calls/<path:request_id>", views.call_detail, name="call"),
]
