"""Site-wide views: the 500 page, and the favicon at the address browsers ask for."""
from __future__ import annotations

import logging

from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token
from django.views.generic import RedirectView

log = logging.getLogger(__name__)

PLAIN_500 = "<!doctype html><title>%(title)s · nbaudit</title><h1>%(title)s</h1><p>%(text)s</p>"


@requires_csrf_token
def server_error(request):
    """The branded 500 page: with the navigation when the request still renders (the user and
    the context processors may need the database), else the same page without a context."""
    try:
        return render(request, "500.html", status=500)
    except Exception:  # the page must come out whatever failed
        log.warning("the 500 page rendered without its request context", exc_info=True)
    try:
        return HttpResponseServerError(loader.get_template("500.html").render())
    except Exception:
        log.exception("the 500 page could not be rendered")
        return HttpResponseServerError(PLAIN_500 % {"title": _("Server error"), "text": _("Try again in a moment.")})


class FaviconView(RedirectView):
    """/favicon.ico (asked for by pages that link none, like the admin's): the site's icon."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs):
        return static("favicon.svg")
