"""Logging out says so: the login page the user lands on tells them they are logged out."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import LogoutView
from django.utils.translation import gettext as _


class LogoutWithMessageView(LogoutView):
    def post(self, request, *args, **kwargs):
        was_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        if was_in:  # the session is new now; the message goes with it
            messages.info(request, _("You have logged out."))
        return response
