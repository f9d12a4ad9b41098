from django.urls import path

from logs.api import views

app_name = "api"
urlpatterns = [
    path("calls", views.calls_endpoint, name="calls"),
    path("calls/<path:request_id>", views.call_detail, name="call"),
]
