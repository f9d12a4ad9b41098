"""Login throttling glue for django-axes: which logins count, the client's address, and the
login page that says a lock is on (instead of a bare error page)."""
from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render
from django.utils import timezone


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses a login while its (username, address) is locked; counts only logins over HTTP.

    authenticate() without a request (the test client's login, a shell) has no address to
    count against and is no one's attempt from outside: it is let through to the next backend.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_address(request) -> str | None:
    """The client's address: REMOTE_ADDR, or behind NBAUDIT_PROXY_COUNT trusted proxies the
    address the outermost of them saw (X-Forwarded-For, counted from the right, so a client
    cannot choose its own by sending the header)."""
    count = settings.NBAUDIT_PROXY_COUNT
    if count:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= count:
            return hops[-count]
    return request.META.get("REMOTE_ADDR")


def lock_minutes() -> int:
    return round(settings.AXES_COOLOFF_TIME.total_seconds() / 60)


def lockout_response(request, original_response=None, credentials=None):
    """The login page again, with the lock in words, as 429 Too Many Requests."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    context = {
        "form": form,
        "locked_out": True,
        "lock_minutes": lock_minutes(),
        "locked_until": timezone.localtime(timezone.now() + settings.AXES_COOLOFF_TIME),
        "locked_username": username,
        "next": request.POST.get("next", request.GET.get("next", "")),
    }
    return render(request, "registration/login.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
