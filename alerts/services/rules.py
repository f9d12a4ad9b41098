"""Creating and changing alert rules, with every value checked (the command, the pages and the admin)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext

from alerts.models import AlertKind, AlertRule, WebhookFormat
from alerts.models.rules import RATE_KINDS, STAFF_KINDS
from alerts.services.channels import webhook_target_check
from logs.choices import Family
from logs.scoping import is_staff

MAX_WINDOW_MINUTES = 60 * 24 * 31


def _threshold(kind: str, value) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({"threshold": gettext("%(value)r is not a number") % {"value": value}}) from None
    if not number.is_finite() or number < 0:
        raise ValidationError({"threshold": gettext("the threshold must be a number of 0 or more")})
    if kind in RATE_KINDS and number > 1:
        raise ValidationError({"threshold": gettext("a rate is a fraction from 0 to 1 (0.2 = 20%)")})
    return number


def alert_rule_save(*, by, name: str, kind: str, customer=None, family: str = "", window_minutes: int = 60,
                    threshold, min_calls: int = 20, remind_hours: int = 24, emails=(), webhook_url: str = "",
                    webhook_secret: str = "", webhook_format: str = WebhookFormat.GENERIC, in_app: bool = True,
                    enabled: bool = True, rule: AlertRule | None = None) -> AlertRule:
    """Create (or, given `rule`, change) a rule. A customer's user may only watch its own customer
    and never a staff-only kind; staff may leave the customer empty (every customer)."""
    if by is not None and not is_staff(by):
        if customer is None or customer.pk != by.customer_id:
            raise PermissionDenied(gettext("A customer's rule watches that customer only."))
        if kind in STAFF_KINDS:
            raise PermissionDenied(gettext("That kind of alert is for staff."))
        if rule is not None and rule.customer_id != by.customer_id:
            raise PermissionDenied(gettext("Not your rule."))
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": gettext("a name of 1 to 100 characters is needed")})
    if kind not in AlertKind.values:
        raise ValidationError({"kind": gettext("unknown kind %(kind)r; use one of: %(known)s") % {
            "kind": kind, "known": ", ".join(AlertKind.values)}})
    if family and family not in Family.values:
        raise ValidationError({"family": gettext("unknown model family %(family)r; use one of: %(known)s") % {
            "family": family, "known": ", ".join(Family.values)}})
    try:
        window_minutes, min_calls, remind_hours = int(window_minutes), int(min_calls), int(remind_hours)
    except (TypeError, ValueError):
        raise ValidationError(gettext("the window, minimum calls and reminder hours are whole numbers")) from None
    if not 1 <= window_minutes <= MAX_WINDOW_MINUTES:
        raise ValidationError({"window_minutes": gettext("the window is 1 to %(max)s minutes") % {"max": MAX_WINDOW_MINUTES}})
    if min_calls < 0 or remind_hours < 1:
        raise ValidationError(gettext("minimum calls is 0 or more, reminders at least every hour"))
    emails = [e.strip() for e in emails if e and e.strip()]
    for address in emails:
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError({"emails": gettext("%(address)r is not an email address") % {"address": address}}) from None
    if webhook_format not in WebhookFormat.values:
        raise ValidationError({"webhook_format": gettext("unknown webhook format %(format)r") % {"format": webhook_format}})
    if webhook_url:
        webhook_target_check(webhook_url)
    rule = rule or AlertRule(created_by=by if by is not None and by.pk else None)
    rule.name, rule.kind, rule.customer, rule.family = name, kind, customer, family
    rule.window_minutes, rule.threshold, rule.min_calls = window_minutes, _threshold(kind, threshold), min_calls
    rule.remind_hours, rule.emails, rule.webhook_url = remind_hours, emails, webhook_url
    if webhook_secret or not webhook_url:
        rule.webhook_secret = webhook_secret
    rule.webhook_format, rule.in_app, rule.enabled = webhook_format, in_app, enabled
    try:
        rule.full_clean(exclude=["customer", "created_by", "webhook_url"])
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None
    rule.save()
    return rule
