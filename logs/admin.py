"""The Django admin of logs: customers and tokens change through logs.services, as the commands do."""
from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from logs.models import ApiToken, Call, Customer, IngestBatch, IngestConflict, PriceRow, User
from logs.services.customers import CustomerError, customer_upsert, topup_factor_clean
from logs.services.tokens import apitoken_revoke


class CustomerAdminForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = "__all__"
        labels = {"topup_factor": "Top-up discount factor"}  # the one term, as on the tally page

    def clean_topup_factor(self):
        value = self.cleaned_data["topup_factor"]
        if value is None:
            return value
        try:
            return topup_factor_clean(value)
        except CustomerError as exc:
            raise forms.ValidationError(str(exc)) from None


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    form = CustomerAdminForm
    list_display = ("slug", "name", "enrolled_from", "topup_discount_factor", "created_at")
    search_fields = ("slug", "name")

    @admin.display(description="Top-up discount factor", ordering="topup_factor")
    def topup_discount_factor(self, obj):
        return obj.topup_factor

    def save_model(self, request, obj, form, change):
        """The form's values, saved by the service that the `customer` command uses."""
        customer_upsert(customer=obj, slug=obj.slug, name=obj.name, enroll_from=obj.enrolled_from,
                        unenroll=obj.enrolled_from is None, topup_factor=obj.topup_factor)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "customer", "is_staff", "time_zone", "last_login")
    list_filter = ("is_staff", "customer")
    fieldsets = BaseUserAdmin.fieldsets + (("nbaudit", {"fields": ("customer", "time_zone")}),)
    add_fieldsets = BaseUserAdmin.add_fieldsets + (("nbaudit", {"fields": ("customer",)}),)


@admin.register(PriceRow)
class PriceRowAdmin(admin.ModelAdmin):
    list_display = ("family", "model", "route", "billing_mode", "per_request_usd", "input_per_m_usd",
                    "output_image_per_m_usd", "output_text_per_m_usd", "valid_from", "valid_to")
    list_filter = ("family", "billing_mode", "route")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "name", "customer", "read_only", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")
    list_filter = ("customer",)
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # tokens are made on the API tokens page or by `manage.py apitoken` (shown once)

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        n = apitoken_revoke(tokens=queryset)
        self.message_user(request, f"Revoked {n} token(s).")


@admin.register(IngestBatch)
class IngestBatchAdmin(admin.ModelAdmin):
    list_display = ("pk", "created_at", "origin", "filename", "source", "customer", "status", "rows", "inserted",
                    "duplicates", "conflicts", "skipped")
    list_filter = ("status", "origin", "source")


@admin.register(IngestConflict)
class IngestConflictAdmin(admin.ModelAdmin):
    list_display = ("customer", "request_id", "created_at", "charged_usd", "category", "differences", "batch")
    list_filter = ("customer",)
    search_fields = ("request_id",)


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ("request_id", "customer", "created_at", "model", "category", "charged_usd")
    list_filter = ("category", "family")
    search_fields = ("=request_id",)
    raw_id_fields = ("customer", "batch")
    show_full_result_count = False  # no COUNT(*) over the call table
