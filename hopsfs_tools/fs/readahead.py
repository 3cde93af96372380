"""Read-ahead for sequential big reads: the next adjoining range is fetched in a thread while
the caller works on this one (the native backend: hdfs-native reads one block stream per call
and releases the GIL meanwhile, so two streams run at once)."""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hopsfs_tools.fs.backends.base import RangeReader

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
    """A RangeReader over `reader` (one file) that fetches ahead for sequential big reads.

    From the second of two adjoining reads of READ_AHEAD_MIN bytes or more on, the next range
    of the same size is fetched in a thread and handed over as the `bytes` the reader made (no
    copy). Random reads (cat_ranges, seeks) fetch nothing ahead.
    """

    def __init__(self, reader: RangeReader) -> None:
        self._reader, self.size = reader, reader.size
        self.path: str | None = getattr(reader, "path", None)
        self._end = -1  # where the last read ended
        self._ahead: tuple[int, int, Future[bytes]] | None = None  # (offset, length, fetch)

    def read_range(self, offset: int, length: int) -> bytes:
        """Up to `length` bytes at `offset` (as the reader's read_range)."""
        length = min(length, self.size - offset)
        if length <= 0:
            return b""
        ahead, self._ahead = self._ahead, None
        sequential = offset == self._end and length >= READ_AHEAD_MIN
        self._end = offset + length
        if sequential and self._end < self.size:
            more = min(length, self.size - self._end)
            fetch = _threads().submit(self._reader.read_range, self._end, more)
            self._ahead = (self._end, more, fetch)
        if ahead is not None and ahead[:2] == (offset, length):
            return ahead[2].result()
        return self._reader.read_range(offset, length)

    def close(self) -> None:
        """Close the reader; a fetch under way finishes in its thread, unread."""
        self._ahead = None
        self._reader.close()


__all__ = ["READ_AHEAD_MIN", "ReadAhead"]
