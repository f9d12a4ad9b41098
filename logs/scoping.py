"""Tenancy: a customer's user sees its own customer only; staff see all and may pick one.

Every query a customer can reach starts here, so another customer's object is a 404.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied

from logs.models import Call, Customer

SESSION_KEY = "nbaudit_customer"


def is_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.is_staff)


def visible_customers(user):
    if is_staff(user):
        return Customer.objects.all()
    if user and user.is_authenticated and user.customer_id:
        return Customer.objects.filter(pk=user.customer_id)
    return Customer.objects.none()


def current_customer(request) -> Customer | None:
    """The customer the page is about: the user's own; for staff, the one picked (None: all)."""
    user = request.user
    if not is_staff(user):
        if not user.is_authenticated or not user.customer_id:
            raise PermissionDenied("This account is linked to no customer.")
        return user.customer
    cid = request.session.get(SESSION_KEY)
    if cid:
        return Customer.objects.filter(pk=cid).first()
    return None


def scope_calls(user, customer: Customer | None = None, qs=None):
    """Calls the user may see, narrowed to `customer` when given."""
    qs = Call.objects.all() if qs is None else qs
    if not is_staff(user):
        if not user.is_authenticated or not user.customer_id:
            return qs.none()
        return qs.filter(customer_id=user.customer_id)
    if customer is not None:
        return qs.filter(customer=customer)
    return qs


def scope_by_customer_field(user, qs, field: str = "customer"):
    """Any model with a customer FK: narrowed to what the user may see."""
    if is_staff(user):
        return qs
    if not user.is_authenticated or not user.customer_id:
        return qs.none()
    return qs.filter(**{f"{field}_id": user.customer_id})
