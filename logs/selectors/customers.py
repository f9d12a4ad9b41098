"""Reads of customers by slug, for the operator commands and gateway-wide API tokens (no user)."""
from __future__ import annotations

from logs.models import Customer


def customer_by_slug(slug: str) -> Customer | None:
    """The customer with that slug, or None."""
    return Customer.objects.filter(slug=slug).first()
