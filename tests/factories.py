"""Small builders for tests: real rows, no mocks."""
from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from logs.choices import Category, Source
from logs.families import family_of
from logs.models import Call, Customer, User

_seq = itertools.count(1)
UTC8 = dt.timezone(dt.timedelta(hours=8))


def customer(slug: str = "acme", **kw) -> Customer:
    obj, _ = Customer.objects.get_or_create(slug=slug, defaults={"name": slug.title(), **kw})
    if kw:
        for k, v in kw.items():
            setattr(obj, k, v)
        obj.save()
    return obj


def user(username: str = "alice", *, customer_obj: Customer | None = None, staff: bool = False,
         password: str = "pass-12345") -> User:
    u = User.objects.create_user(username=username, password=password, customer=customer_obj,
                                 is_staff=staff, is_superuser=staff)
    return u


def call(customer_obj: Customer, *, request_id: str | None = None, created_at: dt.datetime | None = None,
         model: str = "gemini-3-pro-image-preview", category: str = Category.SUCCESS,
         charged_usd: Decimal | str | None = Decimal("0.05"), http_status: int | None = 200,
         **kw) -> Call:
    """A stored call, as ingest would leave it (rollups are not refreshed: call the service for that)."""
    defaults = dict(
        token_name="prod-web", route="gateway", source=Source.CALLS, reason=f"test: {category}",
        images=1 if category == Category.SUCCESS else 0, prompt_tokens=20,
        output_tokens=1120 if category == Category.SUCCESS else 0, image_size="1K",
        latency_ms=30_000, billing_mode="per_request", expected_usd=Decimal("0.05"),
    )
    defaults.update(kw)
    return Call.objects.create(
        customer=customer_obj,
        request_id=request_id or f"req-{next(_seq):06d}",
        created_at=created_at or dt.datetime(2026, 10, 10, 12, 0, tzinfo=UTC8),
        model=model, family=family_of(model) or "", category=category,
        charged_usd=None if charged_usd is None else Decimal(charged_usd), http_status=http_status,
        **defaults,
    )
