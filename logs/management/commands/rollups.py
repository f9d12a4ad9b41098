"""Compare the hourly rollups with the calls they count (and the coarse rollups with the hourly
ones they project), and repair them."""
import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from logs.management.output import Spoken
from logs.models import Customer
from logs.selectors.rollups import (
    all_customers_differences,
    coarse_differences,
    rollups_differences,
)
from logs.services.rollups import all_customers_repair, coarse_repair, rollups_repair
from logs.timeutil import billing_tz, day_start, parse_day

SHOWN = 20  # differing rows printed per customer


class Command(Spoken, BaseCommand):
    help = ("Check the hourly rollups against the calls, the coarse rollups against the hourly ones and "
            "(without --customer) staff's all-customers rollups against the coarse ones "
            "(--check: exit status 1 if they differ), or repair them (--rebuild: recompute the hours "
            "that differ). Days are in the billing time zone (Asia/Shanghai), both ends included; "
            "without them, all time.")

    def add_arguments(self, parser):
        what = parser.add_mutually_exclusive_group(required=True)
        what.add_argument("--check", action="store_true", help="print what differs; change nothing")
        what.add_argument("--rebuild", action="store_true", help="print what differs and recompute those hours")
        parser.add_argument("--customer", help="one customer's slug (default: every customer)")
        parser.add_argument("--from", dest="date_from", help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", help="last day (included), YYYY-MM-DD")

    def handle(self, *args, **o):
        start = end = None
        try:
            first = parse_day(o["date_from"]) if o["date_from"] else None
            last = parse_day(o["date_to"]) if o["date_to"] else None
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if first and last and first > last:
            raise CommandError(_("--from %(first)s is after --to %(last)s") % {"first": first, "last": last})
        tz = billing_tz()
        if first:
            start = day_start(first, tz)
        if last:
            end = day_start(last + dt.timedelta(days=1), tz)
        customers = Customer.objects.order_by("slug")
        if o["customer"]:
            customers = customers.filter(slug=o["customer"])
            if not customers.exists():
                raise CommandError(_("no customer with slug %(slug)s") % {"slug": repr(o["customer"])})
        differing = []
        for customer in customers:
            if o["rebuild"]:
                diffs, totals = rollups_repair(customer_id=customer.pk, start=start, end=end)
                coarse = coarse_repair(customer_id=customer.pk, start=start, end=end)
            else:
                diffs, totals = rollups_differences(customer_id=customer.pk, start=start, end=end)
                coarse = coarse_differences(customer_id=customer.pk, start=start, end=end)
            if not diffs:
                self.stdout.write(_("%(slug)s: rollups equal the calls (%(calls)s calls)")
                                  % {"slug": customer.slug, "calls": f"{totals['calls']:,}"})
            else:
                self._fine(customer, diffs, totals, rebuilt=o["rebuild"])
            if coarse:
                self._coarse(customer, coarse, rebuilt=o["rebuild"])
            if diffs or coarse:
                differing.append(customer.slug)
        if not o["customer"]:  # staff's all-customers rollups: the sums of every customer's coarse ones
            if o["rebuild"]:
                total = all_customers_repair(start=start, end=end)
            else:
                total = all_customers_differences(start=start, end=end)
            if total:
                differing.append(_("all customers"))
                self._all_customers(total, rebuilt=o["rebuild"])
            else:
                self.stdout.write(_("all customers: the all-customers rollups equal the coarse ones"))
        if differing and o["check"]:
            raise CommandError(_("rollups differ from the calls for %(n)s customer(s): %(slugs)s; "
                                 "repair with --rebuild") % {"n": len(differing), "slugs": ", ".join(differing)},
                               returncode=1)

    def _fine(self, customer, diffs, totals, *, rebuilt: bool) -> None:
        hours = len({d.hour for d in diffs})
        self.stdout.write(_("%(slug)s: %(rows)s rollup rows in %(hours)s hours differ from the calls; "
                            "rollups count %(rollups)s calls, the calls table %(calls)s") % {
            "slug": customer.slug, "rows": f"{len(diffs):,}", "hours": f"{hours:,}",
            "rollups": f"{totals['rollups']:,}", "calls": f"{totals['calls']:,}"})
        self._listed(diffs)
        if rebuilt:
            self.stdout.write(_("%(slug)s: recomputed those %(hours)s hours from the calls")
                              % {"slug": customer.slug, "hours": f"{hours:,}"})

    def _listed(self, diffs) -> None:
        for d in diffs[:SHOWN]:
            self.stdout.write(f"  {d.describe()}")
        if len(diffs) > SHOWN:
            self.stdout.write("  " + _("... and %(n)s more") % {"n": f"{len(diffs) - SHOWN:,}"})

    def _coarse(self, customer, diffs, *, rebuilt: bool) -> None:
        hours = len({d.hour for d in diffs})
        self.stdout.write(_("%(slug)s: %(rows)s coarse rollup rows in %(hours)s hours differ from the hourly "
                            "rollups") % {"slug": customer.slug, "rows": f"{len(diffs):,}", "hours": f"{hours:,}"})
        self._listed(diffs)
        if rebuilt:
            self.stdout.write(_("%(slug)s: recomputed those %(hours)s hours of coarse rollups from the hourly ones")
                              % {"slug": customer.slug, "hours": f"{hours:,}"})

    def _all_customers(self, diffs, *, rebuilt: bool) -> None:
        hours = len({d.hour for d in diffs})
        self.stdout.write(_("all customers: %(rows)s all-customers rollup rows in %(hours)s hours differ from the "
                            "coarse rollups") % {"rows": f"{len(diffs):,}", "hours": f"{hours:,}"})
        self._listed(diffs)
        if rebuilt:
            self.stdout.write(_("all customers: recomputed those %(hours)s hours from the coarse rollups")
                              % {"hours": f"{hours:,}"})
