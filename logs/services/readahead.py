"""Reading an input a chunk ahead of the ingest that stores it, in a thread."""
from __future__ import annotations

import queue
import threading
from collections.abc import Iterable


class ReadAhead:
    """The items of a reader, read in a thread a block ahead of the one being stored.

    Parsing and classifying the next rows (Python) overlaps with the database storing the
    last chunk (psycopg and sqlite3 release the GIL while they wait). The items come out in
    order, exactly as the reader yields them; an error of the reader comes out where it was
    raised, after the items before it. At most a chunk of items waits, so memory stays bounded.
    """

    _END = object()

    def __init__(self, items: Iterable, size: int, *, ahead: int | None = None):
        """Blocks of a quarter of `size` items, three at most waiting; or, with `ahead`, blocks of
        `size` items and at most `ahead` of them read beyond the one the consumer is on (a block
        is taken back when the consumer asks for the next: `ahead=1` keeps two in memory)."""
        self._items = items
        self._size = max(size // 4, 1) if ahead is None else max(size, 1)
        self._queue: queue.Queue = queue.Queue(maxsize=3 if ahead is None else ahead + 1)
        self._slots = None if ahead is None else threading.Semaphore(ahead + 1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="ingest-read", daemon=True)
        self._thread.start()

    def _put(self, block) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(block, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _slot(self) -> bool:
        """A block may be started (`ahead`): wait for the consumer to be done with one."""
        while self._slots is not None and not self._stop.is_set():
            if self._slots.acquire(timeout=0.1):
                return True
        return not self._stop.is_set()

    def _read(self) -> None:
        block: list = []
        try:
            if not self._slot():
                return
            for item in self._items:
                block.append(item)
                if len(block) >= self._size:
                    if not self._put(block) or not self._slot():
                        return
                    block = []
            if self._put(block):
                self._put(self._END)
        except BaseException as exc:  # noqa: BLE001  (handed to the consumer, raised there)
            if self._put(block):
                self._put(_Raised(exc))

    def __iter__(self):
        first = True
        while True:
            block = self._queue.get()
            if self._slots is not None and not first:
                self._slots.release()  # the consumer is done with the block before this one
            first = False
            if block is self._END:
                return
            if isinstance(block, _Raised):
                raise block.exc
            yield from block

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


class _Raised:
    __slots__ = ("exc",)

    def __init__(self, exc: BaseException):
        self.exc = exc
