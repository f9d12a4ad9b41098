import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from gateways.models import GatewaySource
from gateways.services.sync import SyncBusy, source_save, source_sync
from logs.management.output import Spoken, summary_lines
from logs.models.jobs import JobStatus


class Command(Spoken, BaseCommand):
    help = "Gateway sources (New API / One API log stores): add or update, sync now, list."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="create or update a source")
        add.add_argument("name")
        how = add.add_mutually_exclusive_group(required=True)
        how.add_argument("--db", metavar="DSN", help="postgres://, mysql:// or sqlite:///path (or env:VAR)")
        how.add_argument("--url", metavar="URL", help="the gateway's base URL (admin API)")
        add.add_argument("--token", help="the admin access token (or env:VAR)")
        add.add_argument("--user-id", type=int, help="the admin's user ID (New-Api-User)")
        add.add_argument("--quota-per-unit", type=int, help="quota units per US$1 (default 500000)")
        add.add_argument("--tz", help="zone of naive times, if the gateway writes any")
        sync = sub.add_parser("sync", help="run one sync now")
        sync.add_argument("name")
        sync.add_argument("--json", action="store_true", help="print the summary as one JSON object")
        sub.add_parser("list", help="every source with its state")

    def handle(self, *args, **opts):
        getattr(self, f"_{opts['action']}")(opts)

    def _add(self, opts):
        if opts["url"] and (not opts["token"] or opts["user_id"] is None):
            raise CommandError(_("--url needs --token and --user-id"))
        if opts["db"] and (opts["token"] or opts["user_id"] is not None):
            raise CommandError(_("--token and --user-id go with --url, not --db"))
        try:
            source, created = source_save(name=opts["name"], dsn=opts["db"], base_url=opts["url"],
                                          token=opts["token"], user_id=opts["user_id"],
                                          quota_per_unit=opts["quota_per_unit"], tz=opts["tz"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        except Exception as exc:  # a validation error of the model (name, URL)
            messages = getattr(exc, "message_dict", None)
            if messages:
                raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in messages.items())) from None
            raise
        done = _("created %(name)s (%(kind)s): %(connection)s") if created else \
            _("updated %(name)s (%(kind)s): %(connection)s")
        self.stdout.write(done % {"name": source.name, "kind": source.kind, "connection": source.connection_shown})

    def _sync(self, opts):
        source = GatewaySource.objects.filter(name=opts["name"]).first()
        if source is None:
            raise CommandError(_("no gateway source %(name)s: see `gateway list`") % {"name": repr(opts["name"])})
        try:
            sync = source_sync(source=source, origin="command")
        except SyncBusy as exc:
            raise CommandError(str(exc)) from None
        source.refresh_from_db()
        if sync.status != JobStatus.DONE:
            raise CommandError(_("%(name)s: sync failed: %(error)s") % {"name": source.name, "error": sync.error})
        summary = sync.batch.summary()
        summary.update(source=source.name, sync=sync.pk, high_water=source.high_water,
                       lag_seconds=source.lag_seconds)
        if opts["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
            return
        for line in summary_lines(summary, title=source.name, where="row",
                                  extra="; " + _("high water %(high_water)s, lag %(lag)s") % {
                                      "high_water": source.high_water, "lag": _lag(source.lag_seconds)}):
            self.stdout.write(line)

    def _list(self, opts):
        sources = list(GatewaySource.objects.order_by("name"))
        if not sources:
            self.stdout.write(_("no gateway sources: add one with `gateway add NAME --db DSN`"))
        for s in sources:
            self.stdout.write(
                f"{s.name}\t{s.kind}\t{s.state}\t" + _("high water %(v)s") % {"v": s.high_water} + "\t"
                + _("lag %(v)s") % {"v": _lag(s.lag_seconds)} + "\t" + _("rows %(v)s") % {"v": s.rows_read}
                + f"\t{s.connection_shown}"
                + ("\t" + _("error: %(error)s") % {"error": s.last_error} if s.last_error else ""))


def _lag(seconds):
    if seconds is None:
        return "-"
    if seconds < 120:
        return _("%(n)s s") % {"n": seconds}
    if seconds < 7200:
        return _("%(n)s min") % {"n": seconds // 60}
    return _("%(n)s h") % {"n": seconds // 3600}
