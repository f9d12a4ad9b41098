from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

from logs.timeutil import billing_tz


class UserTimezoneMiddleware:
    """Pages show times in the user's zone (a per-user setting, default the billing zone)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tz = billing_tz()
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.time_zone:
            try:
                tz = ZoneInfo(user.time_zone)
            except (ZoneInfoNotFoundError, ValueError):
                pass
        timezone.activate(tz)
        request.tz = tz
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
