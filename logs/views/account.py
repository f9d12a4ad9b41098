"""The customer switch (staff) and the user's own settings (time zone)."""
from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from logs.forms.dashboard import CustomerSwitchForm, TimeZoneForm
from logs.scoping import SESSION_KEY, is_staff, visible_customers


def _safe_next(request, fallback="/"):
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or fallback
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return target
    return fallback


@require_POST
def customer_switch(request):
    """Staff: set the customer the pages are about; "" shows all customers."""
    if not is_staff(request.user):
        messages.error(request, _("Only staff can switch customer."))
        return redirect(_safe_next(request))
    form = CustomerSwitchForm(request.POST, customers=visible_customers(request.user))
    if not form.is_valid():
        messages.error(request, _("No such customer."))
        return redirect(_safe_next(request))
    picked = form.cleaned_data["customer"]
    if picked:
        request.session[SESSION_KEY] = int(picked)
    else:
        request.session.pop(SESSION_KEY, None)
    target = _safe_next(request)
    # A paged list does not carry over to another customer: back to its first page.
    if "after=" in target or "before=" in target:
        target = target.split("?", 1)[0]
    return redirect(target)


def account(request):
    """The user's settings: the time zone pages show times in."""
    user = request.user
    if request.method == "POST":
        form = TimeZoneForm(request.POST)
        if form.is_valid():
            user.time_zone = form.cleaned_data["time_zone"]
            user.save(update_fields=["time_zone"])
            messages.success(request, _("Saved: times are now shown in %(zone)s.") % {
                "zone": user.time_zone or _("the billing time zone")})
            return redirect("logs:account")
    else:
        form = TimeZoneForm(initial={"time_zone": user.time_zone})
    return render(request, "logs/account.html", {"form": form})


@login_not_required
@require_POST
def set_language(request):
    """The language switch (navigation, Account, login page): Django's view sets the cookie;
    a logged-in user's choice is also kept on the user, so it follows them to other browsers
    and into their exports and emails."""
    response = django_set_language(request)
    code = request.POST.get("language", "")
    if code in dict(settings.LANGUAGES) and request.user.is_authenticated:
        if request.user.language != code:
            request.user.language = code
            request.user.save(update_fields=["language"])
        translation.activate(code)
    return response
