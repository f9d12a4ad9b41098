"""Export a customer's calls to Excel, synchronously: the same code as the Async Export."""
import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from logs.languages import ENGLISH
from logs.management.arguments import day_arg, month_arg
from logs.models import ExportJob
from logs.selectors.customers import customer_by_slug
from logs.services.exports import export_filters_clean, export_write
from logs.timeutil import next_month


class Command(BaseCommand):
    help = ("Export calls to an .xlsx file. Days are in the billing time zone (Asia/Shanghai), "
            "both ends included.")

    def add_arguments(self, parser):
        parser.add_argument("--customer", required=True, help="the customer's slug")
        parser.add_argument("--month", help="YYYY-MM: that whole month")
        parser.add_argument("--from", dest="date_from", help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", help="last day (included), YYYY-MM-DD")
        parser.add_argument("--out", required=True, help="the file to write (.xlsx, or .csv)")
        parser.add_argument("--format", choices=["xlsx", "csv"], default=None,
                            help="xlsx (default) or csv (UTF-8 with BOM); default: from --out's suffix")
        parser.add_argument("--model", help="a model family (pro, nb2, ...) or an exact model name")
        parser.add_argument("--category", action="append", default=[],
                            help="a category code; repeat or separate by commas")
        parser.add_argument("--failed", action="store_true", help="failed calls only")
        parser.add_argument("--lang", choices=[code for code, _ in settings.LANGUAGES], default=ENGLISH,
                            help="the language of the header row and the Summary sheet (default en); "
                                 "zh-hans names the columns as the gateway's Chinese export does")

    def handle(self, *args, **opts):
        customer = customer_by_slug(opts["customer"])
        if customer is None:
            raise CommandError(f"no customer with slug {opts['customer']!r}")
        if opts["month"]:
            if opts["date_from"] or opts["date_to"]:
                raise CommandError("give --month, or --from and --to, not both")
            first = month_arg(opts["month"])
            date_from, date_to = first, next_month(first) - dt.timedelta(days=1)
        elif opts["date_from"] and opts["date_to"]:
            date_from, date_to = day_arg(opts["date_from"]), day_arg(opts["date_to"])
        else:
            raise CommandError("give --month YYYY-MM, or --from YYYY-MM-DD and --to YYYY-MM-DD")
        if date_from > date_to:
            raise CommandError(f"--from {date_from} is after --to {date_to}")
        try:
            filters = export_filters_clean({"model": opts["model"], "category": opts["category"],
                                            "failed": opts["failed"]})
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        fmt = opts["format"] or ("csv" if str(opts["out"]).lower().endswith(".csv") else "xlsx")
        job = ExportJob(customer=customer, date_from=date_from, date_to=date_to, filters=filters, format=fmt,
                        language=opts["lang"])

        def progress(done, total):
            if opts["verbosity"] > 1:
                self.stderr.write(f"{done:,} of {total:,} rows")

        try:
            result = export_write(job=job, out_path=opts["out"], progress=progress)
        except OSError as exc:
            raise CommandError(f"{opts['out']}: cannot write: {exc.strerror or exc}") from None
        sheets = ", ".join(result["sheets"]) or "one CSV table"
        self.stdout.write(f"{result['rows']} rows ({customer.slug}, {date_from} to {date_to}; "
                          f"sheets: {sheets}) -> {result['path']}")
