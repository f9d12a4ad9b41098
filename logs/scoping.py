"""Tenancy: a customer's user sees its own customer only; staff see all and may pick one.

Every query a customer can reach starts here, so another customer's object is a 404.
"""
from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy

from logs.models import Call, Customer

SESSION_KEY = "nbaudit_customer"


def is_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.is_staff)


def staff_only(message=gettext_lazy("This page is for the gateway's staff.")):
    """A view decorator: staff pass; anyone else signed in gets the branded 403 saying `message`
    (signing in is LoginRequiredMiddleware's, before any view)."""
    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kw):
            if not is_staff(request.user):
                raise PermissionDenied(str(message))
            return view(request, *args, **kw)
        return wrapped
    return decorate


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


def scope_calls_for_token(token, slug: str = ""):
    """Calls an API token may see: a customer token its own customer's; a gateway token every
    customer's, narrowed to `slug` when given. Raises Customer.DoesNotExist for a customer the
    token may not see (another customer's slug is as if it did not exist)."""
    qs = Call.objects.all()
    slug = (slug or "").strip()
    if not token.is_gateway:
        if slug and slug != token.customer.slug:
            raise Customer.DoesNotExist
        return qs.filter(customer_id=token.customer_id)
    if slug:
        return qs.filter(customer=Customer.objects.get(slug=slug))
    return qs
