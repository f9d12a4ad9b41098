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

    def __init__(self, items: Iterable, size: int):
        self._items, self._size = items, max(size // 4, 1)
        self._queue: queue.Queue = queue.Queue(maxsize=3)
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

    def _read(self) -> None:
        block: list = []
        try:
            for item in self._items:
                block.append(item)
                if len(block) >= self._size:
                    if not self._put(block):
                        return
                    block = []
            if self._put(block):
                self._put(self._END)
        except BaseException as exc:  # noqa: BLE001  (handed to the consumer, raised there)
            if self._put(block):
                self._put(_Raised(exc))

    def __iter__(self):
        while True:
            block = self._queue.get()
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
