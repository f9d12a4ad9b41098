from django.core.management.base import BaseCommand, CommandError

from logs.selectors.customers import customer_by_slug
from logs.services.tokens import apitoken_create, apitoken_revoke


class Command(BaseCommand):
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
                raise CommandError("no live token matches")
            self.stdout.write(f"revoked {n} token(s)")
            return
        if not o["customer"] and not o["gateway"]:
            raise CommandError("say --customer SLUG or --gateway")
        customer = None
        if o["customer"]:
            customer = customer_by_slug(o["customer"])
            if customer is None:
                raise CommandError(f"no customer {o['customer']!r} (create it with: manage.py customer {o['customer']})")
        if o["read_only"] and customer is None:
            raise CommandError("a gateway token pushes calls: --read-only needs --customer")
        token, raw = apitoken_create(customer=customer, name=o["name"], read_only=o["read_only"])
        scope = f"customer {customer.slug}" if customer else "gateway-wide"
        if token.read_only:
            scope += ", read only"
        self.stdout.write(f"token {token.prefix}… ({scope}); it is shown once, keep it:")
        self.stdout.write(raw)
