"""Export a customer's calls to Excel, synchronously: the same code as the Async Export."""
import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from logs.languages import ENGLISH
from logs.management.arguments import day_arg, month_arg
from logs.management.output import Spoken
from logs.models import ExportJob
from logs.selectors.customers import customer_by_slug
from logs.services.exports import export_filters_clean, export_write
from logs.timeutil import next_month


class Command(Spoken, BaseCommand):
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
            raise CommandError(_("no customer with slug %(slug)s") % {"slug": repr(opts["customer"])})
        if opts["month"]:
            if opts["date_from"] or opts["date_to"]:
                raise CommandError(_("give --month, or --from and --to, not both"))
            first = month_arg(opts["month"])
            date_from, date_to = first, next_month(first) - dt.timedelta(days=1)
        elif opts["date_from"] and opts["date_to"]:
            date_from, date_to = day_arg(opts["date_from"]), day_arg(opts["date_to"])
        else:
            raise CommandError(_("give --month YYYY-MM, or --from YYYY-MM-DD and --to YYYY-MM-DD"))
        if date_from > date_to:
            raise CommandError(_("--from %(first)s is after --to %(last)s") % {"first": date_from, "last": date_to})
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
                self.stderr.write(_("%(done)s of %(total)s rows") % {"done": f"{done:,}", "total": f"{total:,}"})

        try:
            result = export_write(job=job, out_path=opts["out"], progress=progress)
        except OSError as exc:
            raise CommandError(_("%(path)s: cannot write: %(error)s") % {"path": opts["out"], "error": exc.strerror or exc}) from None
        if result["sheets"]:  # the sheets' names are the file's, in the file's language (--lang)
            sheets = _("sheets: %(sheets)s") % {"sheets": ", ".join(result["sheets"])}
        else:
            sheets = _("one CSV table")
        self.stdout.write(_("%(rows)s rows (%(customer)s, %(first)s to %(last)s; %(sheets)s) -> %(path)s") % {
            "rows": result["rows"], "customer": customer.slug, "first": date_from, "last": date_to,
            "sheets": sheets, "path": result["path"]})
