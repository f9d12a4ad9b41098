"""python manage.py reconcile PATH --customer SLUG [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--json]"""
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from billing.services.reconciliation import (
    ReconciliationRefused,
    reconciliation_run,
    reconciliation_summary,
)
from logs.management.arguments import day_arg
from logs.management.output import Spoken
from logs.selectors.customers import customer_by_slug


class Command(Spoken, BaseCommand):
    help = ("Reconcile a customer's local log (flat CSV/XLSX or NDJSON call envelopes) against the "
            "platform's charges, over whole days in UTC+8.")

    def add_arguments(self, parser):
        parser.add_argument("path", help="The local log file.")
        parser.add_argument("--customer", required=True, help="The customer's slug.")
        parser.add_argument("--from", dest="date_from", help="First day (UTC+8), YYYY-MM-DD.")
        parser.add_argument("--to", dest="date_to", help="Last day (UTC+8), YYYY-MM-DD, included.")
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args, path, customer, date_from, date_to, json: bool = False, **options):
        as_json = json
        customer_obj = customer_by_slug(customer)
        if customer_obj is None:
            raise CommandError(_("no customer %(slug)s") % {"slug": repr(customer)})
        try:
            with open(path, "rb") as fh:
                recon = reconciliation_run(
                    customer=customer_obj, source=fh, filename=path.rsplit("/", 1)[-1],
                    date_from=day_arg(date_from) if date_from else None,
                    date_to=day_arg(date_to) if date_to else None,
                )
        except OSError as exc:
            raise CommandError(_("cannot read %(path)s: %(error)s") % {"path": path, "error": exc.strerror}) from None
        except ReconciliationRefused as exc:
            raise CommandError(_("refused: %(error)s") % {"error": exc}) from None
        summary = reconciliation_summary(reconciliation=recon)
        if as_json:
            self.stdout.write(_json_dumps(summary))
            return
        self._print(recon, summary)

    def _print(self, recon, s):
        w = self.stdout.write
        w(_("Reconciliation #%(pk)s of %(customer)s, %(first)s to %(last)s (UTC+8)") % {
            "pk": recon.pk, "customer": s["customer"], "first": s["from"], "last": s["to"]})
        w("  " + _("local rows %(local)s (outside the period %(outside)s, rejected %(rejected)s), "
                   "platform rows %(platform)s") % {
            "local": s["local_rows"], "outside": s["outside_period"], "rejected": recon.rejected_count,
            "platform": s["platform_rows"]})
        for code, count in s["categories"].items():  # codes stay codes
            w(f"  {code:22} {count}")
        over, under, unmatched = _("over-charged"), _("under-charged"), _("charged, no local record")
        w(f"  {over:23} ${s['overcharged_usd']}")
        w(f"  {under:23} ${s['undercharged_usd']}")
        w(f"  {unmatched} ${s['unmatched_charged_usd']}")
        for r in s["rejected"][:20]:
            w("  " + _("line %(n)s") % {"n": r["line"]} + f": {r['reason']}")
        if recon.rejected_count > 20:
            w("  " + _("... and %(n)s more rejected rows") % {"n": recon.rejected_count - 20})


def _json_dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)
