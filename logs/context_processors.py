from logs.timeutil import billing_tz, zone_label


def nbaudit(request):
    """The one time-zone rule every page states: days and times in the user's zone, billing
    months in the billing zone, each named by name and offset ("Asia/Shanghai, UTC+8")."""
    billing = billing_tz()
    tz = getattr(request, "tz", None) or billing
    context = {
        "page_tz": zone_label(tz),
        "billing_tz": zone_label(billing),
        "page_tz_name": getattr(tz, "key", str(tz)),
        "billing_tz_name": billing.key,
    }
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        # Calls in the default partition, and retention's plan (cached: logs.selectors.partitions).
        from logs.selectors.partitions import storage_warnings

        # once per request, however many of the page's templates render with its context
        if not hasattr(request, "_storage_warnings"):
            request._storage_warnings = storage_warnings()
        context["storage_warnings"] = request._storage_warnings
    return context
