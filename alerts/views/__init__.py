"""Alert pages: rules, incidents with their timeline, notifications. Thin: selectors read, services write.

A customer's user sees and edits only its own customer's rules, incidents and notifications
(another customer's is a 404); staff see all and may write rules over every customer.
"""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _, gettext_noop
from django.views.decorators.http import require_POST

from alerts import selectors as sel
from alerts.forms import AlertRuleForm, MuteForm
from alerts.models import Delivery
from alerts.services.incidents import incident_acknowledge, incident_mute, notifications_read
from alerts.services.rules import alert_rule_save
from alerts.tables import AlertRuleTable, DeliveryTable, IncidentTable, NotificationTable
from logs.scoping import is_staff, visible_customers

LIST_MAX = 200


# The steps of an incident's timeline (IncidentEvent.action codes), as a person reads them.
EVENT_ACTIONS = {"opened": gettext_noop("opened"), "notified": gettext_noop("notified"),
                 "reminded": gettext_noop("reminded"), "resolved": gettext_noop("resolved"),
                 "acknowledged": gettext_noop("acknowledged"), "muted": gettext_noop("muted")}


# The figures an incident keeps (keys of alerts.conditions), as a person reads them.
FIGURE_LABELS = {
    "rate": gettext_noop("rate"), "matching": gettext_noop("matching calls"), "calls": gettext_noop("calls"),
    "window_minutes": gettext_noop("window (minutes)"), "spend_usd": gettext_noop("spend (USD)"),
    "today_usd": gettext_noop("today (USD)"), "average_usd": gettext_noop("daily average (USD)"),
    "days": gettext_noop("days"), "lag_minutes": gettext_noop("lag (minutes)"), "error": gettext_noop("error"),
    "month": gettext_noop("month"), "credit_usd": gettext_noop("credit (USD)"), "status": gettext_noop("status"),
    "due_date": gettext_noop("due date"), "days_overdue": gettext_noop("days overdue"),
    "reconciliation": gettext_noop("reconciliation"), "overcharged_usd": gettext_noop("over-charged (USD)"),
}


def figures_shown(figures) -> list:
    return [(_(FIGURE_LABELS[k]) if k in FIGURE_LABELS else k, v) for k, v in (figures or {}).items()]


def _events(incident) -> list:
    events = list(incident.events.select_related("by"))
    for e in events:
        e.action_label = _(EVENT_ACTIONS[e.action]) if e.action in EVENT_ACTIONS else e.action
        e.figures_shown = figures_shown(e.figures)
    return events


def _form(request, rule=None):
    staff = is_staff(request.user)
    initial = None
    if rule is not None:
        initial = {"name": rule.name, "kind": rule.kind, "customer": str(rule.customer_id or ""),
                   "family": rule.family, "window_minutes": rule.window_minutes, "threshold": rule.threshold,
                   "min_calls": rule.min_calls, "remind_hours": rule.remind_hours, "emails": ", ".join(rule.emails),
                   "webhook_url": rule.webhook_url, "webhook_format": rule.webhook_format,
                   "in_app": rule.in_app, "enabled": rule.enabled}
    return AlertRuleForm(request.POST if request.method == "POST" else None, initial=initial, staff=staff,
                         customers=visible_customers(request.user) if staff else ())


def _save(request, form, rule=None):
    """The form's rule through the service; its refusals shown beside the fields."""
    data = form.cleaned_data
    if is_staff(request.user):
        cid = data.get("customer")
        customer = visible_customers(request.user).filter(pk=cid).first() if cid else None
    else:
        customer = request.user.customer
    try:
        return alert_rule_save(by=request.user, rule=rule, name=data["name"], kind=data["kind"], customer=customer,
                               family=data.get("family") or "", window_minutes=data["window_minutes"],
                               threshold=data["threshold"], min_calls=data["min_calls"],
                               remind_hours=data["remind_hours"], emails=form.email_list(),
                               webhook_url=data.get("webhook_url") or "",
                               webhook_secret=data.get("webhook_secret") or "",
                               webhook_format=data["webhook_format"], in_app=data["in_app"],
                               enabled=data["enabled"])
    except ValidationError as exc:
        for field, errors in (exc.message_dict.items() if hasattr(exc, "message_dict") else [(None, exc.messages)]):
            form.add_error(field if field in form.fields else None, errors)
    except PermissionDenied as exc:
        form.add_error(None, str(exc))
    return None


def rules(request):
    form = _form(request)
    if request.method == "POST" and form.is_valid():
        rule = _save(request, form)
        if rule is not None:
            messages.success(request, _("The rule “%(name)s” is saved.") % {"name": rule.name})
            return redirect("alerts:rules")
    table = AlertRuleTable(sel.rules_visible(request.user)[:LIST_MAX])
    incidents = IncidentTable(sel.incidents_visible(request.user).filter(status="open")[:LIST_MAX])
    return render(request, "alerts/rules.html", {"form": form, "table": table, "incidents": incidents})


def rule_detail(request, pk: int):
    rule = get_object_or_404(sel.rules_visible(request.user), pk=pk)
    form = _form(request, rule)
    if request.method == "POST":
        if "delete" in request.POST:
            rule.delete()
            messages.success(request, _("The rule “%(name)s” is deleted.") % {"name": rule.name})
            return redirect("alerts:rules")
        if form.is_valid() and _save(request, form, rule) is not None:
            messages.success(request, _("The rule “%(name)s” is saved.") % {"name": rule.name})
            return redirect("alerts:rule", pk=rule.pk)
    incidents = IncidentTable(rule.incidents.select_related("rule", "customer")[:LIST_MAX])
    return render(request, "alerts/rule.html", {"rule": rule, "form": form, "incidents": incidents})


def incidents(request):
    table = IncidentTable(sel.incidents_visible(request.user)[:LIST_MAX])
    return render(request, "alerts/incidents.html", {"table": table})


def incident_detail(request, pk: int):
    incident = get_object_or_404(sel.incidents_visible(request.user), pk=pk)
    deliveries = DeliveryTable(Delivery.objects.filter(incident=incident)[:LIST_MAX]) if is_staff(request.user) else None
    return render(request, "alerts/incident.html", {
        "incident": incident, "events": _events(incident), "mute_form": MuteForm(),
        "figures": figures_shown(incident.figures),
        "deliveries": deliveries})


@require_POST
def incident_act(request, pk: int):
    incident = get_object_or_404(sel.incidents_visible(request.user), pk=pk)
    try:
        if request.POST.get("action") == "acknowledge":
            incident_acknowledge(incident=incident, by=request.user)
            messages.success(request, _("Acknowledged: no more reminders; you will hear when it resolves."))
        elif request.POST.get("action") == "mute":
            incident = incident_mute(incident=incident, by=request.user, hours=request.POST.get("hours"))
            messages.success(request, _("Muted until %(until)s UTC.") % {"until": f"{incident.muted_until:%Y-%m-%d %H:%M}"})
        else:
            messages.error(request, _("Unknown action."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("alerts:incident", pk=incident.pk)


def notifications(request):
    if request.method == "POST":
        notifications_read(user=request.user)
        return redirect("alerts:notifications")
    table = NotificationTable(sel.notifications_of(request.user)[:LIST_MAX])
    return render(request, "alerts/notifications.html", {"table": table})
