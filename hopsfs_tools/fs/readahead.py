"""Read-ahead for sequential big reads (the native backend): two block streams at once.

hdfs-native reads one range per call, releasing the GIL meanwhile. From the second adjoining
read of READ_AHEAD_MIN..PIECE bytes on, the next range is fetched by one persistent thread
while the caller takes this one; when the caller finds its range still being fetched there, it
fetches the range after it itself instead of waiting idle. The `bytes` hdfs-native made are
handed over as they are (no copy).

Memory: buffers are allocated by the thread that reads them, from that thread's glibc malloc
arena. A secondary arena's heaps are at most 64 MiB and any heap but the first is unmapped as
soon as it empties, whatever the trim threshold (glibc arena.c, heap_trim), so the next read
would page-fault its memory in again (tests/fs/test_fs_malloc.py). Hence one thread (one
arena), pieces of at most PIECE bytes and at most IN_FLIGHT of them held by that thread: a
piece costs three times its size while it is read (hdfs-native's buffer, its copy, the bytes),
so the thread's first heap always has room (2 pieces + 2 copies = 32 MiB of 64).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hopsfs_tools.fs.backends.base import RangeReader

READ_AHEAD_MIN = 1 * 2**20  # sequential reads this large or larger fetch ahead
PIECE = 8 * 2**20  # ... and this large or smaller (the thread's arena must hold two at once)
IN_FLIGHT = 2  # pieces the thread holds (queued, being read, or read and not taken yet)


class _Thread:
    """The process's read-ahead thread and the count of pieces it holds."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="hopsfs-ahead")
        self.slots = threading.BoundedSemaphore(IN_FLIGHT)


_thread: _Thread | None = None  # made at first use; a forked child makes its own
_thread_lock = threading.Lock()


def _the_thread() -> _Thread:
    global _thread
    with _thread_lock:
        if _thread is None:
            _thread = _Thread()
        return _thread


def _forget_thread() -> None:
    global _thread
    _thread = None  # the parent's thread is not in a forked child


os.register_at_fork(after_in_child=_forget_thread)


class _Piece:
    """One range fetched by the read-ahead thread; holds one of its slots until taken or
    dropped (freed once: a cancelled piece is not dropped again)."""

    def __init__(self, thread: _Thread, future: Future[bytes], offset: int, length: int):
        self._thread, self.future, self.offset, self.length = thread, future, offset, length
        self._held = True

    def _release(self, _: object = None) -> None:
        if self._held:
            self._held = False
            self._thread.slots.release()

    def cancel(self) -> bool:
        """Unqueue the piece if the thread has not started it (its slot is freed)."""
        if self.future.cancel():
            self._release()
            return True
        return False

    def take(self) -> bytes:
        """The bytes (waiting for them), or the read's error."""
        try:
            return self.future.result()
        finally:
            self._release()

    def drop(self) -> None:
        """Forget the piece: its slot is freed once the thread is done with it."""
        if not self.cancel():
            self.future.add_done_callback(self._release)


class ReadAhead:
    """A RangeReader over `reader` (one file) that fetches ahead for sequential big reads.

    Random reads (cat_ranges, seeks) and reads above PIECE fetch nothing ahead. The wrapper is
    for one caller at a time, as a file is.
    """

    def __init__(self, reader: RangeReader) -> None:
        self._reader, self.size = reader, reader.size
        self.path: str | None = getattr(reader, "path", None)
        self._end = -1  # where the last read ended
        self._piece: _Piece | None = None  # the next range, fetched by the thread
        self._ready: tuple[int, bytes] | None = None  # the next range, fetched by the caller

    def read_range(self, offset: int, length: int) -> bytes:
        """Up to `length` bytes at `offset` (as the reader's read_range)."""
        length = min(length, self.size - offset)
        if length <= 0:
            return b""
        sequential = offset == self._end and READ_AHEAD_MIN <= length <= PIECE
        self._end = offset + length
        piece, self._piece = self._piece, None
        ready, self._ready = self._ready, None
        if ready is not None and ready[0] == offset and len(ready[1]) == length:
            data = ready[1]
            if piece is not None:
                self._piece = piece  # the range after this one
        elif piece is not None and (piece.offset, piece.length) == (offset, length):
            data = self._take(piece, sequential)
        else:
            if piece is not None:
                piece.drop()
            data = self._reader.read_range(offset, length)
        if sequential:
            self._fetch_ahead(length)
        return data

    def _take(self, piece: _Piece, sequential: bool) -> bytes:
        """The piece's bytes; while the thread has yet to read them, the range after the piece
        is read here meanwhile (a piece not started yet is not taken back: the thread waits
        for the GIL this caller holds until it blocks in its own read)."""
        try:
            if sequential and not piece.future.done() and self._end < self.size:
                self._ready = (self._end, self._fetch(self._end, piece.length))
        except BaseException:
            piece.drop()
            raise
        return piece.take()

    def _fetch(self, offset: int, length: int) -> bytes:
        return self._reader.read_range(offset, min(length, self.size - offset))

    def _fetch_ahead(self, length: int) -> None:
        """Have the thread fetch the range after what is read or ready, if it has a slot."""
        at = self._end if self._ready is None else self._ready[0] + len(self._ready[1])
        length = min(length, self.size - at)
        if length <= 0 or self._piece is not None:
            return
        thread = _the_thread()
        if thread.slots.acquire(blocking=False):
            future = thread.pool.submit(self._reader.read_range, at, length)
            self._piece = _Piece(thread, future, at, length)

    def close(self) -> None:
        """Close the reader; a fetch under way finishes in the thread, unread."""
        piece, self._piece, self._ready = self._piece, None, None
        if piece is not None:
            piece.drop()
        self._reader.close()


__all__ = ["IN_FLIGHT", "PIECE", "READ_AHEAD_MIN", "ReadAhead"]
