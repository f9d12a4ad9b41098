from django.contrib import admin

from gateways.models import GatewaySource, GatewaySync


@admin.register(GatewaySource)
class GatewaySourceAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "connection_shown", "enabled", "high_water", "last_sync_at", "last_error")
    list_filter = ("kind", "enabled")
    # The credentials are never shown back: change them with `manage.py gateway add`.
    exclude = ("dsn", "token", "lease_owner")
    readonly_fields = ("connection_shown", "flavor", "high_water", "high_water_at", "rows_read", "last_sync_at",
                       "last_success_at", "last_error", "failures", "next_attempt_at", "lease_until")


@admin.register(GatewaySync)
class GatewaySyncAdmin(admin.ModelAdmin):
    list_display = ("id", "source", "origin", "status", "rows_done", "high_water_from", "high_water_to",
                    "created_at", "error")
    list_filter = ("status", "source")
    readonly_fields = [f.name for f in GatewaySync._meta.fields]
