"""Keyset paging over (created_at, id): every row once, both ways, and index-shaped SQL."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from logs.models import Call
from logs.pagination import BadCursor, Key, keyset_page
from tests import factories as f

pytestmark = pytest.mark.django_db
UTC = dt.timezone.utc


@pytest.fixture
def calls():
    acme = f.customer("acme")
    base = dt.datetime(2026, 10, 1, tzinfo=UTC)
    for i in range(23):  # triples share a timestamp
        f.call(acme, request_id=f"r{i:02d}", created_at=base + dt.timedelta(seconds=i // 3))
    return Call.objects.filter(customer=acme)


def test_cursor_round_trip():
    key = Key(dt.datetime(2026, 10, 1, 2, 3, 4, 567890, tzinfo=UTC), 12345)
    assert Key.decode(key.encode()) == key
    with pytest.raises(BadCursor):
        Key.decode("not-a-cursor")


def test_forward_then_back(calls):
    expected = list(calls.order_by("-created_at", "-id").values_list("pk", flat=True))
    pages, page = [], keyset_page(calls, per_page=5)
    assert page.is_first and not page.has_previous
    while True:
        pages.append([c.pk for c in page])
        if not page.has_next:
            break
        page = keyset_page(calls, per_page=5, after=page.next_cursor)
        assert page.has_previous
    assert sum(pages, []) == expected and [len(p) for p in pages] == [5, 5, 5, 5, 3]
    back = []
    while page.has_previous:
        page = keyset_page(calls, per_page=5, before=page.prev_cursor)
        back.append([c.pk for c in page])
    assert back == list(reversed(pages[:-1])) and page.is_first


def test_past_the_end_offers_the_way_back(calls):
    oldest = calls.order_by("created_at", "id").first()
    page = keyset_page(calls, per_page=5, after=Key.of(oldest))
    assert page.rows == [] and page.has_previous and not page.has_next


@pytest.mark.postgres
def test_keyset_query_walks_the_customer_time_index(calls):
    """The page's query can be answered by call_cust_time_idx in order, with no Sort node."""
    # Another, bigger customer and fresh statistics, as in production: the customer filter is
    # then selective, and the planner picks the customer's index (with no statistics on a
    # 23-row table it may as well walk the all-customers time index).
    other = f.customer("globex")
    base = dt.datetime(2026, 10, 1, tzinfo=UTC)
    Call.objects.bulk_create([
        Call(customer=other, request_id=f"g{i:04d}", created_at=base + dt.timedelta(seconds=i), model="m",
             source="calls", category="success", reason="test")
        for i in range(2000)
    ])
    with connection.cursor() as cur:
        cur.execute("ANALYZE logs_call")
    page = keyset_page(calls, per_page=5)
    qs = calls.filter(created_at__lte=page.next_key.created_at).order_by("-created_at", "-id")[:6]
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("SET LOCAL enable_bitmapscan = off")
        cur.execute("EXPLAIN " + sql, params)
        plan = "\n".join(r[0] for r in cur.fetchall())
    assert "call_cust_time_idx" in plan and "Sort" not in plan, plan


def test_any_fixed_order_pages_every_row_once_both_ways():
    """An order of several fields, mixed directions, a text field through a relation (the tallies')."""
    from billing.models import Tally

    months = [dt.date(2026, m, 1) for m in (4, 5, 6)]
    slugs = ["a-co", "b-co", "c-co", "d-co"]
    for slug in slugs:
        c = f.customer(slug)
        for month in months:
            Tally.objects.create(customer=c, month=month, due_date=month)
    order = ("-month", "customer__slug", "id")
    qs = Tally.objects.select_related("customer")
    expected = [(t.month, t.customer.slug) for t in qs.order_by(*order)]
    seen, page = [], keyset_page(qs, per_page=5, order=order)
    while True:
        seen.append([(t.month, t.customer.slug) for t in page])
        if not page.has_next:
            break
        page = keyset_page(qs, per_page=5, after=page.next_cursor, order=order)
    assert sum(seen, []) == expected and [len(p) for p in seen] == [5, 5, 2]
    page = keyset_page(qs, per_page=5, before=page.prev_cursor, order=order)
    assert [(t.month, t.customer.slug) for t in page] == expected[5:10]


def test_an_ascending_order_and_typed_cursors(calls):
    page = keyset_page(calls, per_page=10, order=("id",))
    ids = list(calls.order_by("id").values_list("pk", flat=True))
    assert [c.pk for c in page] == ids[:10] and page.is_first
    page = keyset_page(calls, per_page=10, order=("id",), after=page.next_cursor)
    assert [c.pk for c in page] == ids[10:20]
    for bad in (Key("text", 3).encode(), Key(dt.date(2026, 1, 1), 3).encode(), Key(5).encode()):
        with pytest.raises(BadCursor):
            keyset_page(calls, per_page=5, after=bad)


def test_keyset_batches_walk_every_row_once_in_key_order(calls):
    from logs.pagination import keyset_batches

    expected = list(calls.order_by("created_at", "id").values_list("created_at", "id", "request_id"))
    pages = list(keyset_batches(calls, ["created_at", "id", "request_id"], 4))
    assert [len(p) for p in pages] == [4, 4, 4, 4, 4, 3]
    assert [row for page in pages for row in page] == expected
    by_id = list(keyset_batches(calls, ["id"], 10, key=("id",)))
    assert [r[0] for page in by_id for r in page] == sorted(calls.values_list("id", flat=True))
    with pytest.raises(ValueError):
        next(keyset_batches(calls, ["request_id", "id"], 4))
