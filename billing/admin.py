from django.contrib import admin

from billing.models import Tally, TallyCall, TallyEvent, TallyMessage, TallyOverride, TallyQuestion


class TallyEventInline(admin.TabularInline):
    model = TallyEvent
    extra = 0
    can_delete = False
    readonly_fields = ("at", "by", "action", "detail", "amount_before", "amount_after", "status_before",
                       "status_after")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Tally)
class TallyAdmin(admin.ModelAdmin):
    """Read-only here: tallies change only through billing.services.tally (the staff pages)."""

    list_display = ("customer", "month", "eligible", "reason", "status", "counted_calls", "credit_usd",
                    "approved_usd", "due_date")
    list_filter = ("status", "eligible", "month")
    search_fields = ("customer__slug",)
    inlines = [TallyEventInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(TallyOverride)
class TallyOverrideAdmin(admin.ModelAdmin):
    list_display = ("customer", "month", "call", "exclude", "reason", "by", "at")
    list_filter = ("exclude", "month")
    raw_id_fields = ("call",)

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


admin.site.register(TallyCall, list_display=("tally", "request_id", "category", "status", "price_usd"),
                    raw_id_fields=("call",), list_select_related=("tally",))


class TallyMessageInline(admin.TabularInline):
    model = TallyMessage
    extra = 0
    can_delete = False
    readonly_fields = ("at", "by", "from_staff", "text")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(TallyQuestion)
class TallyQuestionAdmin(admin.ModelAdmin):
    """Read-only here: questions are asked and answered on the tally's page (billing.services.questions)."""

    list_display = ("tally", "kind", "status", "opened_by", "opened_at", "updated_at")
    list_filter = ("status", "kind")
    list_select_related = ("tally__customer", "opened_by")
    inlines = [TallyMessageInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
