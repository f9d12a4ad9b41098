from django.urls import path

from alerts import views

app_name = "alerts"
urlpatterns = [
    path("alerts/", views.rules, name="rules"),
    path("alerts/<int:pk>/", views.rule_detail, name="rule"),
    path("alerts/incidents/", views.incidents, name="incidents"),
    path("alerts/incidents/<int:pk>/", views.incident_detail, name="incident"),
    path("alerts/incidents/<int:pk>/act", views.incident_act, name="incident_act"),
    path("notifications/", views.notifications, name="notifications"),
]
