from django.conf import settings


def nbaudit(request):
    tz = getattr(request, "tz", None)
    return {
        "page_tz": str(tz) if tz else settings.NBAUDIT_BILLING_TZ,
        "billing_tz": settings.NBAUDIT_BILLING_TZ,
    }
