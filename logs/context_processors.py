from django.conf import settings


def nbaudit(request):
    tz = getattr(request, "tz", None)
    context = {
        "page_tz": str(tz) if tz else settings.NBAUDIT_BILLING_TZ,
        "billing_tz": settings.NBAUDIT_BILLING_TZ,
    }
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        # Calls in the default partition, and retention's plan (cached: logs.selectors.partitions).
        from logs.selectors.partitions import storage_warnings

        context["storage_warnings"] = storage_warnings()
    return context
