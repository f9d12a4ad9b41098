"""`manage.py tally YYYY-MM [--customer SLUG] [--json]`: compute a month's tallies and print them."""
import json

from django.core.management.base import BaseCommand, CommandError

from billing.selectors import tally_as_dict
from billing.services.tally import tally_compute, tally_month_end
from logs.management.arguments import month_arg
from logs.selectors.customers import customer_by_slug


class Command(BaseCommand):
    help = ("Tally a month of the failed-generation reimbursement plan (drafts; approved, rejected "
            "and credited tallies are left as they are). Without --customer: every customer enrolled "
            "for that month; with it: that customer, enrolled or not.")

    def add_arguments(self, parser):
        parser.add_argument("month", help="YYYY-MM, a calendar month in UTC+8")
        parser.add_argument("--customer", metavar="SLUG", help="one customer, even if not enrolled")
        parser.add_argument("--json", action="store_true", help="print a JSON list of the tallies")

    def handle(self, *args, month, customer=None, json=False, **opts):
        first = month_arg(month)
        if customer:
            obj = customer_by_slug(customer)
            if obj is None:
                raise CommandError(f"No customer with the slug {customer!r}.")
            tallies = [tally_compute(customer=obj, month=first)]
        else:
            tallies = tally_month_end(month=first)
        rows = [tally_as_dict(t) for t in tallies]
        if json:
            self.stdout.write(_json.dumps(rows, indent=2))
            return
        if not rows:
            self.stdout.write(f"No customer is enrolled for {first:%Y-%m}.")
            return
        head = f"{'customer':<20} {'month':<7} {'eligible':<8} {'spend':>12} {'failed':>7} {'excl':>6} " \
               f"{'counted':>7} {'gross':>14} {'factor':>6} {'credit':>10} {'status':<9} due"
        self.stdout.write(head)
        for r in rows:
            elig = "yes" if r["eligible"] else "no"
            self.stdout.write(
                f"{r['customer']:<20} {r['month']:<7} {elig:<8} {r['spend_usd']:>12} {r['failed_calls']:>7} "
                f"{r['excluded_calls']:>6} {r['counted_calls']:>7} {r['gross_usd']:>14} {r['discount_factor']:>6} "
                f"{r['credit_usd']:>10} {r['status']:<9} {r['due_date']}"
                + (f"  ({r['reason']})" if r["reason"] else ""))


_json = json
