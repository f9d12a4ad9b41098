from django.urls import include, path

app_name = "billing"
urlpatterns = [
    path("tallies/", include("billing.urls_tallies")),
    path("reconcile/", include("billing.urls_reconcile")),
]
