from django.urls import path

from logs.views import account, calls, overview

urlpatterns = [
    path("", overview.OverviewView.as_view(), name="overview"),
    path("logs/", calls.CallListView.as_view(), name="calls"),
    path("logs/<int:pk>/", calls.CallDetailView.as_view(), name="call"),
    path("customer/", account.customer_switch, name="customer_switch"),
    path("account/", account.account, name="account"),
]
