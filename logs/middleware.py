from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone, translation

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


def language_of(user) -> str | None:
    """The user's own language, when set and still offered (else None: the browser's)."""
    code = getattr(user, "language", "") or ""
    return code if code in dict(settings.LANGUAGES) else None


class UserLanguageMiddleware:
    """A logged-in user's language (the switch stores it) wins over the cookie and the browser.

    LocaleMiddleware (before the session's users are known) has already picked the cookie's
    language, else Accept-Language's; this one, after authentication, applies the user's.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        code = language_of(user) if user is not None and user.is_authenticated else None
        if code and code != translation.get_language():
            translation.activate(code)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
