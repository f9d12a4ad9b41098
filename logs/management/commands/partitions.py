"""manage.py partitions [--ensure] [--json]: the call table's monthly partitions (PostgreSQL)."""
import json

from django.core.management.base import BaseCommand

from logs.selectors.partitions import partitions_status
from logs.services.partitions import partitions_ensure
from logs.services.retention import retention_plan


class Command(BaseCommand):
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
            self.stdout.write(json.dumps({
                "partitioned": status["partitioned"], "made": made, "default_rows": status["default_rows"],
                "partitions": [{**p, "month": p["month"].strftime("%Y-%m") if p["month"] else None}
                               for p in status["partitions"]],
                "retention": {"keep_months": plan["keep_months"],
                              "due": [m.strftime("%Y-%m") for m in plan["due"]],
                              "held": [{"month": m.strftime("%Y-%m"), "reasons": r} for m, r in plan["held"]]},
            }, indent=2))
        else:
            if not status["partitioned"]:
                self.stdout.write("The call table is not partitioned (SQLite keeps one plain table).")
            for name in made:
                self.stdout.write(f"made {name}")
            for p in status["partitions"]:
                self.stdout.write(f"{p['name']:<24} {p['rows']:>12}  {p['bounds']}")
            if status["default_rows"]:
                self.stderr.write(f"WARNING: {status['default_rows']} calls are in the default partition: their "
                                  f"month has no partition (a clock error in the data, a month before "
                                  f"NBAUDIT_PARTITIONS_FROM or one retention dropped).")
            _plan_print(self.stdout, plan)
        if status["default_rows"]:
            raise SystemExit(1)


def _plan_print(out, plan) -> None:
    if plan["keep_months"] is None:
        out.write("Retention: NBAUDIT_RETENTION_MONTHS is not set; every month is kept.")
        return
    out.write(f"Retention: the current month and {plan['keep_months']} before it are kept "
              f"(from {plan['cutoff']:%Y-%m}).")
    for month in plan["due"]:
        out.write(f"  due to drop: {month:%Y-%m}")
    for month, reasons in plan["held"]:
        out.write(f"  held back:   {month:%Y-%m} ({'; '.join(reasons)})")
    if not plan["due"] and not plan["held"]:
        out.write("  nothing to drop.")
