"""Operator actions on customers and their users (the `customer` and `ingest` commands, the admin)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from logs.models import Customer, User
from logs.parsers.base import RowError
from logs.parsers.values import parse_slug


class CustomerError(ValueError):
    pass


def topup_factor_clean(value: str | Decimal) -> Decimal:
    """A top-up factor as a Decimal: a number, 1 or more. Raises CustomerError saying why."""
    try:
        factor = Decimal(str(value))
    except InvalidOperation:
        raise CustomerError(_("top-up discount factor %(value)r is not a number") % {"value": value}) from None
    if not factor.is_finite() or factor < 1:
        raise CustomerError(_("the top-up discount factor is 1 or more (%(example)s for a %(bonus)s top-up bonus)") % {
            "example": "1.15", "bonus": "15%"})
    return factor


def slug_clean(slug) -> str:
    """A customer slug as formats.md has it (1 to 64 letters, digits, `-`, `_` or `.`), stripped.
    Raises CustomerError saying why."""
    try:
        text = parse_slug(slug)
    except RowError as exc:
        raise CustomerError(str(exc)) from None
    if not text:
        raise CustomerError(_("a customer needs a slug"))
    return text


def customer_ensure(*, slug: str, name: str | None = None) -> tuple[Customer, bool]:
    """The customer `slug`, created (named `name`, or its slug) if unknown; an existing one is
    left as it is. Returns (customer, created)."""
    slug = slug_clean(slug)
    return Customer.objects.get_or_create(slug=slug, defaults={"name": name or slug})


@transaction.atomic
def customer_upsert(*, slug: str, name: str | None = None, enroll_from: dt.date | None = None,
                    unenroll: bool = False, topup_factor: str | Decimal | None = None,
                    customer: Customer | None = None) -> tuple[Customer, bool]:
    """Create the customer `slug` or update it. With `customer` (the admin's edit page), that
    customer is saved under `slug`, which may be a new slug for it."""
    slug = slug_clean(slug)
    if customer is None:
        customer, created = Customer.objects.get_or_create(slug=slug, defaults={"name": name or slug})
    else:
        created = customer.pk is None
        customer.slug = slug
    if name is not None:
        customer.name = name
    if enroll_from is not None and unenroll:
        raise CustomerError("choose --enroll-from or --unenroll, not both")
    if enroll_from is not None:
        customer.enrolled_from = enroll_from
    if unenroll:
        customer.enrolled_from = None
    if topup_factor is not None:
        customer.topup_factor = topup_factor_clean(topup_factor)
    customer.save()
    return customer, created


def customer_user_create(*, customer: Customer, username: str, password: str) -> User:
    if User.objects.filter(username=username).exists():
        raise CustomerError(f"user {username!r} exists already")
    return User.objects.create_user(username=username, password=password, customer=customer)
