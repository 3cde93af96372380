"""Read-ahead for sequential big reads: the next adjoining range is fetched in a thread while
the caller works on this one (the native backend: hdfs-native reads one block stream per call
and releases the GIL meanwhile, so two streams run at once)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

READ_AHEAD_MIN = 4 * 2**20  # reads this large, adjoining the last one, fetch the next beside
READ_AHEAD_THREADS = 4  # fetches under way at once, for all files of the process

_pool: ThreadPoolExecutor | None = None  # made at first use; a forked child makes its own
_pool_lock = threading.Lock()


def _threads() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(READ_AHEAD_THREADS, thread_name_prefix="hopsfs-ahead")
        return _pool


def _forget_pool() -> None:
    global _pool
    _pool = None  # the parent's threads are not in a forked child


os.register_at_fork(after_in_child=_forget_pool)


class ReadAhead:
    """Reads of one file of `size` bytes through `fetch(offset, length) -> bytes`.

    From the second of two adjoining reads of READ_AHEAD_MIN bytes or more on, the next range
    of the same size is fetched in a thread and handed over as the `bytes` `fetch` made (no
    copy). Random reads (cat_ranges, seeks) fetch nothing ahead.
    """

    def __init__(self, fetch: Callable[[int, int], bytes], size: int) -> None:
        self._fetch, self._size = fetch, size
        self._end = -1  # where the last read ended
        self._ahead: tuple[int, int, Future[bytes]] | None = None  # (offset, length, fetch)

    def read(self, offset: int, length: int) -> bytes:
        """`length` bytes at `offset` (within the file)."""
        ahead, self._ahead = self._ahead, None
        sequential = offset == self._end and length >= READ_AHEAD_MIN
        self._end = offset + length
        if sequential and self._end < self._size:
            more = min(length, self._size - self._end)
            self._ahead = (self._end, more, _threads().submit(self._fetch, self._end, more))
        if ahead is not None and ahead[:2] == (offset, length):
            return ahead[2].result()
        return self._fetch(offset, length)

    def close(self) -> None:
        """Forget a fetch under way (it finishes in its thread, unread)."""
        self._ahead = None


__all__ = ["READ_AHEAD_MIN", "ReadAhead"]
