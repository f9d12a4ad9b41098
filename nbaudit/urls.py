from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/v1/", include("logs.api.urls")),
    path("billing/", include("billing.urls")),
    path("gateways/", include("gateways.urls")),
    path("", include("alerts.urls")),
    path("", include("logs.urls")),
]
