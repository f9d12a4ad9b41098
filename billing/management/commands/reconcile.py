"""python manage.py reconcile PATH --customer SLUG [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--json]"""
import json

from django.core.management.base import BaseCommand, CommandError

from billing.services.reconciliation import (
    ReconciliationRefused,
    reconciliation_run,
    reconciliation_summary,
)
from logs.management.arguments import day_arg
from logs.selectors.customers import customer_by_slug


class Command(BaseCommand):
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
            raise CommandError(f"no customer {customer!r}")
        try:
            with open(path, "rb") as fh:
                recon = reconciliation_run(
                    customer=customer_obj, source=fh, filename=path.rsplit("/", 1)[-1],
                    date_from=day_arg(date_from) if date_from else None,
                    date_to=day_arg(date_to) if date_to else None,
                )
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        except ReconciliationRefused as exc:
            raise CommandError(f"refused: {exc}") from None
        summary = reconciliation_summary(reconciliation=recon)
        if as_json:
            self.stdout.write(_json_dumps(summary))
            return
        self._print(recon, summary)

    def _print(self, recon, s):
        w = self.stdout.write
        w(f"Reconciliation #{recon.pk} of {s['customer']}, {s['from']} to {s['to']} (UTC+8)")
        w(f"  local rows {s['local_rows']} (outside the period {s['outside_period']}, "
          f"rejected {recon.rejected_count}), platform rows {s['platform_rows']}")
        for code, count in s["categories"].items():
            w(f"  {code:22} {count}")
        w(f"  over-charged            ${s['overcharged_usd']}")
        w(f"  under-charged           ${s['undercharged_usd']}")
        w(f"  charged, no local record ${s['unmatched_charged_usd']}")
        for r in s["rejected"][:20]:
            w(f"  line {r['line']}: {r['reason']}")
        if recon.rejected_count > 20:
            w(f"  ... and {recon.rejected_count - 20} more rejected rows")


def _json_dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)
