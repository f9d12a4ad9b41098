"""The customer switch (staff) and the user's own settings (time zone)."""
from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

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
        messages.error(request, "Only staff can switch customer.")
        return redirect(_safe_next(request))
    form = CustomerSwitchForm(request.POST, customers=visible_customers(request.user))
    if not form.is_valid():
        messages.error(request, "No such customer.")
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
            messages.success(request, "Saved: times are now shown in "
                             f"{user.time_zone or 'the billing time zone'}.")
            return redirect("logs:account")
    else:
        form = TimeZoneForm(initial={"time_zone": user.time_zone})
    return render(request, "logs/account.html", {"form": form})
