from logs.timeutil import billing_tz, zone_label


def nbaudit(request):
    """The one time-zone rule every page states: days and times in the user's zone, billing
    months in the billing zone, each named by name and offset ("Asia/Shanghai, UTC+8")."""
    billing = billing_tz()
    tz = getattr(request, "tz", None) or billing
    return {
        "page_tz": zone_label(tz),
        "billing_tz": zone_label(billing),
        "page_tz_name": getattr(tz, "key", str(tz)),
        "billing_tz_name": billing.key,
    }
