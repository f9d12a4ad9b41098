"""`manage.py tally YYYY-MM [--customer SLUG] [--json]`: compute a month's tallies and print them."""
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from billing.selectors import tally_as_dict
from billing.services.tally import tally_compute, tally_month_end
from logs.management.arguments import month_arg
from logs.management.output import Spoken
from logs.selectors.customers import customer_by_slug


class Command(Spoken, BaseCommand):
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
                raise CommandError(_("No customer with the slug %(slug)s.") % {"slug": repr(customer)})
            tallies = [tally_compute(customer=obj, month=first)]
        else:
            tallies = tally_month_end(month=first)
        rows = [tally_as_dict(t) for t in tallies]
        if json:
            self.stdout.write(_json.dumps(rows, indent=2))
            return
        if not rows:
            self.stdout.write(_("No customer is enrolled for %(month)s.") % {"month": f"{first:%Y-%m}"})
            return
        # The column heads in the reader's language; the cells stay data (statuses and reasons as codes).
        words = [_("customer"), _("month"), _("eligible"), _("spend"), _("failed"), _("excl"), _("counted"),
                 _("gross"), _("factor"), _("credit"), _("status"), _("due")]
        widths = ("<20", "<7", "<8", ">12", ">7", ">6", ">7", ">14", ">6", ">10", "<9", "")
        head = " ".join(format(str(w), spec) for w, spec in zip(words, widths))
        self.stdout.write(head)
        for r in rows:
            elig = _("yes") if r["eligible"] else _("no")
            self.stdout.write(
                f"{r['customer']:<20} {r['month']:<7} {elig:<8} {r['spend_usd']:>12} {r['failed_calls']:>7} "
                f"{r['excluded_calls']:>6} {r['counted_calls']:>7} {r['gross_usd']:>14} {r['discount_factor']:>6} "
                f"{r['credit_usd']:>10} {r['status']:<9} {r['due_date']}"
                + (f"  ({r['reason']})" if r["reason"] else ""))


_json = json
