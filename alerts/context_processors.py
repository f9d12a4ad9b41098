from alerts.selectors import unread_count


def bell(request):
    """The unread count of the bell in the navigation (an indexed count of one user's rows),
    counted once per request however many templates of the page render with its context."""
    user = getattr(request, "user", None)
    if user is None:
        return {"unread_notifications": 0}
    if not hasattr(request, "_unread_notifications"):
        request._unread_notifications = unread_count(user)
    return {"unread_notifications": request._unread_notifications}
