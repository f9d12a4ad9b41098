from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.db import models


class Customer(models.Model):
    """A tenant: a tool provider that buys the models through the gateway."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200, blank=True)
    enrolled_from = models.DateField(
        null=True, blank=True,
        help_text="Enrolled in the reimbursement plan from this date (its whole month counts).",
    )
    topup_factor = models.DecimalField(
        max_digits=8, decimal_places=4, default=Decimal("1"),
        help_text="Top-up discount factor: 1.15 for a 15% top-up bonus, 1 for none.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        # what a person reads (every customer choice in a form); the slug stays the code
        return self.display_name

    @property
    def display_name(self):
        return self.name or self.slug


class User(AbstractUser):
    """A person: staff (sees every customer) or a customer's user (sees its own only)."""

    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    time_zone = models.CharField(
        max_length=64, blank=True, help_text="IANA zone for pages; empty: the billing time zone."
    )
    language = models.CharField(
        max_length=16, blank=True,
        help_text="Language of pages, exports and emails (en, zh-hans); empty: the browser's.",
    )


class ApiToken(models.Model):
    """A bearer token: per customer, or gateway-wide (customer empty). Only a hash is kept."""

    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, help_text="The first characters, to recognise a token.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    read_only = models.BooleanField(
        default=False, help_text="Reads only (GET): the tokens customers make for their own programs.")

    def __str__(self):
        scope = self.customer.slug if self.customer_id else "gateway"
        return f"{self.prefix}… ({scope})"

    @property
    def is_gateway(self):
        return self.customer_id is None
