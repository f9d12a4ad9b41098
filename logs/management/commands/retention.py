"""manage.py retention [--dry-run]: drop the billing months of calls past NBAUDIT_RETENTION_MONTHS."""
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from logs.management.commands.partitions import _plan_print
from logs.management.output import Spoken
from logs.services.retention import retention_run


class Command(Spoken, BaseCommand):
    help = ("Drop each billing month of calls past NBAUDIT_RETENTION_MONTHS (PostgreSQL: its partition, "
            "never a DELETE of calls); a month whose tally is not credited yet is held back. "
            "--dry-run says what would go and what is held back, and why.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, **o):
        plan = retention_run(dry_run=o["dry_run"])
        _plan_print(self.stdout, plan)
        for month, calls in plan["dropped"].items():
            self.stdout.write(_("dropped %(month)s (%(n)s calls)") % {"month": f"{month:%Y-%m}", "n": calls})
        for month, why in plan["failed"].items():
            self.stderr.write(_("not dropped now: %(month)s (%(why)s); the next run tries again")
                              % {"month": f"{month:%Y-%m}", "why": why})
        if o["dry_run"] and plan["due"]:
            self.stdout.write(_("(dry run: nothing dropped)"))
