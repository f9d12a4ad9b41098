import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from alerts.models import AlertKind, AlertRule, Incident, IncidentStatus, WebhookFormat
from alerts.services.evaluate import alerts_evaluate
from alerts.services.rules import alert_rule_save
from logs.management.output import Spoken
from logs.models import Customer


def _errors(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" if k != "__all__" else " ".join(v) for k, v in exc.message_dict.items())
    return " ".join(exc.messages)


class Command(Spoken, BaseCommand):
    help = "Alert rules: add (or change) one, evaluate every rule now, list rules and open incidents."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="create or update a rule (by name and customer)")
        add.add_argument("name")
        add.add_argument("--kind", required=True, choices=AlertKind.values)
        add.add_argument("--customer", metavar="SLUG", help="watch this customer only (default: every customer)")
        add.add_argument("--family", default="")
        add.add_argument("--window", type=int, required=True, metavar="MINUTES")
        add.add_argument("--threshold", required=True, help="rates as fractions (0.2 = 20%%), money in USD")
        add.add_argument("--min-calls", type=int, default=20)
        add.add_argument("--remind-hours", type=int, default=24)
        add.add_argument("--email", action="append", default=[], metavar="ADDR")
        add.add_argument("--webhook", default="", metavar="URL")
        add.add_argument("--webhook-secret", default="")
        add.add_argument("--webhook-format", default=WebhookFormat.GENERIC, choices=WebhookFormat.values)
        add.add_argument("--disabled", action="store_true")
        ev = sub.add_parser("evaluate", help="run the evaluator once now")
        ev.add_argument("--json", action="store_true")
        sub.add_parser("list", help="rules and open incidents")

    def handle(self, *args, **o):
        return getattr(self, f"_{o['action']}")(o)

    def _add(self, o):
        customer = None
        if o["customer"]:
            customer = Customer.objects.filter(slug=o["customer"]).first()
            if customer is None:
                raise CommandError(_("no customer %(slug)s") % {"slug": repr(o["customer"])})
        existing = AlertRule.objects.filter(name=o["name"], customer=customer).first()
        try:
            rule = alert_rule_save(by=None, rule=existing, name=o["name"], kind=o["kind"], customer=customer,
                                   family=o["family"], window_minutes=o["window"], threshold=o["threshold"],
                                   min_calls=o["min_calls"], remind_hours=o["remind_hours"], emails=o["email"],
                                   webhook_url=o["webhook"], webhook_secret=o["webhook_secret"],
                                   webhook_format=o["webhook_format"], enabled=not o["disabled"])
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError(_errors(exc) if isinstance(exc, ValidationError) else str(exc)) from None
        scope = customer.slug if customer else _("every customer")
        done = (_("updated rule %(name)s (%(kind)s, %(scope)s, window %(window)s min, threshold %(threshold)s)")
                if existing else
                _("created rule %(name)s (%(kind)s, %(scope)s, window %(window)s min, threshold %(threshold)s)"))
        self.stdout.write(done % {"name": repr(rule.name), "kind": rule.kind, "scope": scope,
                                  "window": rule.window_minutes, "threshold": rule.threshold.normalize()})

    def _evaluate(self, o):
        result = alerts_evaluate()
        if o["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
            return
        for what, items in result.items():
            for item in items:
                self.stdout.write(f"{what}: {item['rule']} / {item['customer'] or item['subject']}")
        self.stdout.write(", ".join(f"{len(v)} {k}" for k, v in result.items()))

    def _list(self, o):
        for rule in AlertRule.objects.select_related("customer"):
            scope = rule.customer.slug if rule.customer_id else _("every customer")
            state = _("enabled") if rule.enabled else _("disabled")
            self.stdout.write(f"{rule.name}\t{rule.kind}\t{scope}\t"
                              + _("window %(n)s min") % {"n": rule.window_minutes} + "\t"
                              + _("threshold %(v)s") % {"v": rule.threshold.normalize()} + f"\t{state}")
        incidents = Incident.objects.filter(status=IncidentStatus.OPEN).select_related("rule", "customer")
        n = incidents.count()
        self.stdout.write(_("%(n)s open incidents") % {"n": n})
        for inc in incidents:
            ack = " " + _("(acknowledged)") if inc.acknowledged_at else ""
            self.stdout.write(f"  #{inc.pk} {inc.rule.name} / {inc.customer.slug if inc.customer_id else inc.subject} "
                              + _("since %(when)s UTC") % {"when": f"{inc.opened_at:%Y-%m-%d %H:%M}"} + ack)
