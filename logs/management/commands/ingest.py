import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from logs.management.output import Spoken, summary_lines
from logs.parsers import InputError
from logs.services.customers import CustomerError, customer_ensure
from logs.services.ingest import FORMATS, calls_ingest


class Command(Spoken, BaseCommand):
    help = "Ingest call envelopes (NDJSON/JSON) or a gateway log export (CSV/XLSX)."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--customer", help="the customer's slug (created if unknown)")
        parser.add_argument("--format", default="auto", choices=FORMATS)
        parser.add_argument("--tz", help="zone of naive times (default: the billing zone, Asia/Shanghai)")
        parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")

    def handle(self, *args, **opts):
        customer = None
        created = []
        if opts["customer"]:
            try:
                customer, was_created = customer_ensure(slug=opts["customer"])
            except CustomerError as exc:
                raise CommandError(f"--customer: {exc}") from None
            if was_created:
                created.append(customer.slug)
        try:
            batch = calls_ingest(source=opts["path"], fmt=opts["format"], customer=customer,
                                 tz=opts["tz"], origin="command")
        except InputError as exc:
            raise CommandError(_("%(path)s: refused: %(error)s") % {"path": opts["path"], "error": exc}) from None
        summary = batch.summary()
        summary["customers_created"] = created + summary["customers_created"]
        if opts["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
            return
        for line in summary_lines(summary, title=f"{opts['path']} ({summary['format']})"):
            self.stdout.write(line)
        for note in summary["notes"]:
            self.stdout.write("  " + _("note: %(note)s") % {"note": note})
