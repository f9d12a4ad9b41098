from alerts.selectors import unread_count


def bell(request):
    """The unread count of the bell in the navigation (an indexed count of one user's rows)."""
    user = getattr(request, "user", None)
    return {"unread_notifications": unread_count(user) if user is not None else 0}
