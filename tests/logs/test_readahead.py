"""Reading ahead in a thread (logs.services.readahead): the items in order, a reader's error where
it was raised, and with `ahead` never more than that many blocks read beyond the consumer."""
import threading
import time

import pytest

from logs.services.readahead import ReadAhead


def test_the_items_come_out_in_order_and_complete():
    items = list(range(1003))
    assert list(ReadAhead(iter(items), 40)) == items
    assert list(ReadAhead(iter(items), 1, ahead=1)) == items
    assert list(ReadAhead(iter([]), 10, ahead=1)) == []


def test_an_error_of_the_reader_comes_after_the_items_before_it():
    def reader():
        yield from range(5)
        raise ValueError("line 6: not a number")

    seen = []
    with pytest.raises(ValueError, match="line 6"):
        for item in ReadAhead(reader(), 1, ahead=1):
            seen.append(item)
    assert seen == [0, 1, 2, 3, 4]


def test_one_block_ahead_keeps_two_blocks_in_memory_at_most():
    made = []

    def reader():
        for i in range(12):
            made.append(i)
            yield i

    ahead = []
    for item in ReadAhead(reader(), 1, ahead=1):
        time.sleep(0.02)  # the consumer storing its block: the thread has time to run on
        ahead.append(len(made) - 1 - item)
    assert max(ahead) == 1  # the next block was ready while this one was stored, none further
    assert made == list(range(12))


def test_a_consumer_that_stops_early_stops_the_thread():
    def reader():
        i = 0
        while True:
            yield i
            i += 1

    reader_ = ReadAhead(reader(), 1, ahead=1)
    for item in reader_:
        if item == 3:
            break
    reader_.close()  # the thread was waiting for a slot: it sees the stop and ends
    assert not any(t.name == "ingest-read" and t.is_alive() for t in threading.enumerate())
