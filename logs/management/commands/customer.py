from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from logs.management.arguments import day_arg
from logs.management.output import Spoken
from logs.services.customers import CustomerError, customer_upsert, customer_user_create


class Command(Spoken, BaseCommand):
    help = "Create or update a customer; optionally create a user of that customer."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--enroll-from", help="YYYY-MM-DD: enrolled in the plan from that date's month")
        group.add_argument("--unenroll", action="store_true")
        parser.add_argument("--topup-factor", help="1.15 for a 15%% top-up bonus")
        parser.add_argument("--add-user", metavar="USERNAME")
        parser.add_argument("--password")

    def handle(self, *args, **o):
        enroll = day_arg(o["enroll_from"], "--enroll-from") if o["enroll_from"] else None
        if o["add_user"] and not o["password"]:
            raise CommandError(_("--add-user needs --password"))
        try:
            customer, created = customer_upsert(slug=o["slug"], name=o["name"], enroll_from=enroll,
                                                unenroll=o["unenroll"], topup_factor=o["topup_factor"])
            if o["add_user"]:
                customer_user_create(customer=customer, username=o["add_user"], password=o["password"])
        except CustomerError as exc:
            raise CommandError(str(exc)) from None
        enrolled = (_("enrolled from %(day)s") % {"day": customer.enrolled_from} if customer.enrolled_from
                    else _("not enrolled"))
        done = (_("created customer %(slug)s (%(enrolled)s, top-up discount factor %(factor)s)") if created
                else _("updated customer %(slug)s (%(enrolled)s, top-up discount factor %(factor)s)"))
        self.stdout.write(done % {"slug": customer.slug, "enrolled": enrolled, "factor": customer.topup_factor})
        if o["add_user"]:
            self.stdout.write(_("created user %(user)s of %(slug)s") % {"user": o["add_user"], "slug": customer.slug})
