from django.contrib import admin
from django.urls import include, path

from logs.views.account import set_language
from logs.views.auth import LogoutWithMessageView
from nbaudit import views

handler500 = views.server_error

urlpatterns = [
    path("favicon.ico", views.FaviconView.as_view()),
    path("admin/", admin.site.urls),
    path("accounts/logout/", LogoutWithMessageView.as_view(), name="logout"),
    # the language switch: Django's set_language, which also keeps the choice on the user
    path("i18n/setlang/", set_language, name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/v1/", include("logs.api.urls")),
    path("billing/", include("billing.urls")),
    path("gateways/", include("gateways.urls")),
    path("", include("alerts.urls")),
    path("", include("logs.urls")),
]
