from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from logs.management.output import Spoken
from logs.selectors.customers import customer_by_slug
from logs.services.tokens import apitoken_create, apitoken_revoke


class Command(Spoken, BaseCommand):
    help = "Create a bearer token for the HTTP API (printed once, alone on the last line), or revoke one."

    def add_arguments(self, parser):
        scope = parser.add_mutually_exclusive_group()
        scope.add_argument("--customer", help="a token that sees and writes this customer only")
        scope.add_argument("--gateway", action="store_true", help="a gateway-wide token")
        parser.add_argument("--name", default="")
        parser.add_argument("--read-only", action="store_true", help="a customer's token that reads only (GET)")
        parser.add_argument("--revoke", metavar="TOKEN", help="revoke this token (or its printed prefix)")

    def handle(self, *args, **o):
        if o["revoke"]:
            n = apitoken_revoke(raw_or_prefix=o["revoke"])
            if not n:
                raise CommandError(_("no live token matches"))
            self.stdout.write(_("revoked %(n)s token(s)") % {"n": n})
            return
        if not o["customer"] and not o["gateway"]:
            raise CommandError(_("say --customer SLUG or --gateway"))
        customer = None
        if o["customer"]:
            customer = customer_by_slug(o["customer"])
            if customer is None:
                raise CommandError(_("no customer %(name)s (create it with: manage.py customer %(slug)s)")
                                   % {"name": repr(o["customer"]), "slug": o["customer"]})
        if o["read_only"] and customer is None:
            raise CommandError(_("a gateway token pushes calls: --read-only needs --customer"))
        token, raw = apitoken_create(customer=customer, name=o["name"], read_only=o["read_only"])
        if customer is None:
            scope = _("gateway-wide")
        elif token.read_only:
            scope = _("customer %(slug)s, read only") % {"slug": customer.slug}
        else:
            scope = _("customer %(slug)s") % {"slug": customer.slug}
        self.stdout.write(_("token %(prefix)s… (%(scope)s); it is shown once, keep it:")
                          % {"prefix": token.prefix, "scope": scope})
        self.stdout.write(raw)
