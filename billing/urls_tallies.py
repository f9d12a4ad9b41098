from django.urls import path

from billing.views import tallies as views

urlpatterns = [
    path("", views.tally_list, name="tallies"),
    path("compute/", views.tally_compute_now, name="tally_compute"),
    path("<int:pk>/", views.tally_detail, name="tally"),
    path("<int:pk>/approve/", views.tally_approve, name="tally_approve"),
    path("<int:pk>/reject/", views.tally_reject, name="tally_reject"),
    path("<int:pk>/credited/", views.tally_credited, name="tally_credited"),
    path("<int:pk>/call/", views.tally_call_action, name="tally_call_action"),
    path("<int:pk>/export/", views.tally_export, name="tally_export"),
]
