from django.urls import path

from billing.views import reconcile as views

urlpatterns = [
    path("", views.reconcile, name="reconcile"),
    path("<int:pk>/", views.reconciliation_detail, name="reconciliation"),
    path("<int:pk>/status/", views.reconciliation_status, name="reconciliation_status"),
    path("<int:pk>/xlsx/", views.reconciliation_xlsx, name="reconciliation_xlsx"),
]
