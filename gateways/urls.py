from django.urls import path

from gateways.views import sources

app_name = "gateways"
urlpatterns = [
    path("", sources.source_list, name="sources"),
    path("<int:pk>/action/", sources.source_action, name="source_action"),
]
