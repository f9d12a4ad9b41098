"""manage.py partitions [--ensure] [--json]: the call table's monthly partitions (PostgreSQL)."""
import json

from django.core.management.base import BaseCommand
from django.utils import translation
from django.utils.translation import gettext as _

from logs.management.output import Spoken
from logs.selectors.partitions import partitions_status
from logs.services.partitions import partitions_ensure
from logs.services.retention import reasons_text, retention_plan


class Command(Spoken, BaseCommand):
    help = ("List the call table's partitions (rows estimated; the default partition's counted) and "
            "retention's plan; --ensure makes the coming months' partitions first. Exits 1 when calls "
            "are in the default partition.")

    def add_arguments(self, parser):
        parser.add_argument("--ensure", action="store_true", help="make the coming months' partitions first")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **o):
        made = partitions_ensure() if o["ensure"] else []
        status = partitions_status()
        plan = retention_plan()
        if o["json"]:
            with translation.override("en"):  # --json is not translated
                held = [{"month": m.strftime("%Y-%m"), "reasons": reasons_text(r)} for m, r in plan["held"]]
            self.stdout.write(json.dumps({
                "partitioned": status["partitioned"], "made": made, "default_rows": status["default_rows"],
                "partitions": [{**p, "month": p["month"].strftime("%Y-%m") if p["month"] else None}
                               for p in status["partitions"]],
                "retention": {"keep_months": plan["keep_months"],
                              "due": [m.strftime("%Y-%m") for m in plan["due"]],
                              "held": held},
            }, indent=2))
        else:
            if not status["partitioned"]:
                self.stdout.write(_("The call table is not partitioned (SQLite keeps one plain table)."))
            for name in made:
                self.stdout.write(_("made %(name)s") % {"name": name})
            for p in status["partitions"]:
                self.stdout.write(f"{p['name']:<24} {p['rows']:>12}  {p['bounds']}")
            if status["default_rows"]:
                self.stderr.write(_("WARNING: %(n)s calls are in the default partition: their month has no "
                                    "partition (a clock error in the data, a month before "
                                    "NBAUDIT_PARTITIONS_FROM or one retention dropped).") % {"n": status["default_rows"]})
            _plan_print(self.stdout, plan)
        if status["default_rows"]:
            raise SystemExit(1)


def _plan_print(out, plan) -> None:
    if plan["keep_months"] is None:
        out.write(_("Retention: NBAUDIT_RETENTION_MONTHS is not set; every month is kept."))
        return
    out.write(_("Retention: the current month and %(n)s before it are kept (from %(month)s).")
              % {"n": plan["keep_months"], "month": f"{plan['cutoff']:%Y-%m}"})
    for month in plan["due"]:
        out.write("  " + _("due to drop: %(month)s") % {"month": f"{month:%Y-%m}"})
    for month, reasons in plan["held"]:
        out.write("  " + _("held back:   %(month)s (%(reasons)s)")
                  % {"month": f"{month:%Y-%m}", "reasons": "; ".join(reasons_text(reasons))})
    if not plan["due"] and not plan["held"]:
        out.write("  " + _("nothing to drop."))
