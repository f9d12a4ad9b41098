from django.contrib import admin

from alerts.models import AlertRule, Delivery, Incident, IncidentEvent, Notification


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "customer", "window_minutes", "threshold", "enabled")
    list_filter = ("kind", "enabled")
    exclude = ("webhook_secret",)
    list_editable = ("enabled",)

    def has_add_permission(self, request):  # rules are written through the pages or `manage.py alert`,
        return False                        # whose service checks every value (targets, thresholds)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in AlertRule._meta.fields if f.name not in ("enabled", "webhook_secret")]


class IncidentEventInline(admin.TabularInline):
    model = IncidentEvent
    extra = 0
    readonly_fields = ("at", "action", "by", "figures", "detail")


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("rule", "subject", "status", "opened_at", "resolved_at", "acknowledged_at")
    list_filter = ("status",)
    inlines = [IncidentEventInline]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "channel", "status", "attempts", "error")
    list_filter = ("channel", "status")
    readonly_fields = ("log",)


admin.site.register(Notification)
