"""Operator actions on customers and their users (the `customer` command and the admin)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction

from logs.models import Customer, User


class CustomerError(ValueError):
    pass


@transaction.atomic
def customer_upsert(*, slug: str, name: str | None = None, enroll_from: dt.date | None = None,
                    unenroll: bool = False, topup_factor: str | Decimal | None = None) -> tuple[Customer, bool]:
    if not slug or not slug.strip():
        raise CustomerError("a customer needs a slug")
    customer, created = Customer.objects.get_or_create(slug=slug.strip(), defaults={"name": name or slug})
    if name is not None:
        customer.name = name
    if enroll_from is not None and unenroll:
        raise CustomerError("choose --enroll-from or --unenroll, not both")
    if enroll_from is not None:
        customer.enrolled_from = enroll_from
    if unenroll:
        customer.enrolled_from = None
    if topup_factor is not None:
        try:
            factor = Decimal(str(topup_factor))
        except InvalidOperation:
            raise CustomerError(f"top-up factor {topup_factor!r} is not a number") from None
        if not factor.is_finite() or factor < 1:
            raise CustomerError("the top-up factor is 1 or more (1.15 for a 15% top-up bonus)")
        customer.topup_factor = factor
    customer.save()
    return customer, created


def customer_user_create(*, customer: Customer, username: str, password: str) -> User:
    if User.objects.filter(username=username).exists():
        raise CustomerError(f"user {username!r} exists already")
    return User.objects.create_user(username=username, password=password, customer=customer)
