import datetime as dt

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _, gettext_noop

from gateways.secrets import secret_shown

DEFAULT_QUOTA_PER_UNIT = 500_000


class GatewayKind(models.TextChoices):
    DB = "db", _("Database (DSN)")
    HTTP = "http", _("Admin HTTP API")


class GatewaySource(models.Model):
    """A gateway's `logs` table (New API or One API), read incrementally after its high-water mark."""

    name = models.SlugField(max_length=64, unique=True, help_text="Also the prefix of request IDs "
                            "(`<name>:<row id>`) for rows that carry none.")
    kind = models.CharField(max_length=8, choices=GatewayKind.choices)
    dsn = models.TextField(blank=True, help_text="`env:NAME`, or encrypted (`enc:...`); never shown whole.")
    base_url = models.URLField(max_length=300, blank=True)
    token = models.TextField(blank=True, help_text="The admin access token: `env:NAME` or encrypted.")
    user_id = models.IntegerField(null=True, blank=True, help_text="The admin's user ID (New-Api-User).")
    flavor = models.CharField(max_length=16, blank=True, help_text="new-api or one-api, as last read.")
    quota_per_unit = models.PositiveIntegerField(
        default=DEFAULT_QUOTA_PER_UNIT, help_text="Quota units per US$1 (http: from /api/status).")
    tz = models.CharField(max_length=64, blank=True, help_text="Zone of naive times, if a gateway writes any.")
    overlap_seconds = models.PositiveIntegerField(
        default=60, help_text="http: the window ends this long ago and starts this long before the mark.")
    batch_size = models.PositiveIntegerField(default=20_000, help_text="Rows a query (db) or a chunk (http).")
    enabled = models.BooleanField(default=True)
    high_water = models.BigIntegerField(default=0, help_text="The highest log row ID synced.")
    high_water_at = models.DateTimeField(null=True, blank=True, help_text="That row's time.")
    rows_read = models.BigIntegerField(default=0)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    failures = models.PositiveIntegerField(default=0, help_text="Failed syncs in a row (the backoff).")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=64, blank=True, help_text="The sync holding the source.")
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def lag(self) -> dt.timedelta | None:
        """Now minus the newest synced row's time."""
        if self.high_water_at is None:
            return None
        return max(timezone.now() - self.high_water_at, dt.timedelta(0))

    @property
    def lag_seconds(self) -> int | None:
        lag = self.lag
        return None if lag is None else int(lag.total_seconds())

    @property
    def connection_shown(self) -> str:
        if self.kind == GatewayKind.DB:
            return secret_shown(self.dsn, kind="dsn")
        return f"{self.base_url} (user {self.user_id}, token {secret_shown(self.token, kind='token')})"

    @property
    def state_label(self) -> str:
        """The state as a person reads it (the code stays `state`)."""
        from django.utils.translation import gettext

        labels = {"paused": gettext_noop("paused"), "failing": gettext_noop("failing"),
                  "syncing": gettext_noop("syncing"), "new": gettext_noop("new"), "ok": gettext_noop("ok")}
        return gettext(labels.get(self.state, self.state))

    @property
    def state(self) -> str:
        if not self.enabled:
            return "paused"
        if self.lease_until and self.lease_until > timezone.now():
            return "syncing"
        if self.last_error:
            return "failing"
        if self.last_success_at is None:
            return "new"
        return "ok"
