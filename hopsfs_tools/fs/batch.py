"""Many per-file operations of one filesystem at once (cat/pipe/put/get/copy of many files)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

DEFAULT_BATCH_SIZE = 64  # concurrent operations in cat/pipe/put/get/copy of many files
THREAD_PREFIX = "hopsfs"


class Batch:
    """Runs operations `size` at a time in threads; `deferred()` queues a thread's calls."""

    def __init__(self, size: int = DEFAULT_BATCH_SIZE) -> None:
        self.size = size
        self._local = threading.local()

    def map(
        self, func: Callable[[T], Any], items: Iterable[T], size: int | None = None
    ) -> list[tuple[T, Any, BaseException | None]]:
        """(item, result, error) for func over items, run `size` at a time in threads."""
        items = list(items)
        workers = max(1, min(size or self.size, len(items)))
        if workers == 1:
            return [_attempt(func, item) for item in items]
        with ThreadPoolExecutor(workers, thread_name_prefix=THREAD_PREFIX) as pool:
            return list(pool.map(lambda item: _attempt(func, item), items))

    @contextmanager
    def deferred(self, size: int | None = None) -> Iterator[None]:
        """Within the block, this thread's `run_or_defer` calls run in a thread pool; the block
        ends when all have, raising the first failure."""
        if getattr(self._local, "pool", None) is not None:  # nested: the outer block waits
            yield
            return
        pending: list[Future[Any]] = []
        with ThreadPoolExecutor(size or self.size, thread_name_prefix=THREAD_PREFIX) as pool:
            self._local.pool, self._local.pending = pool, pending
            try:
                yield
            finally:
                self._local.pool = self._local.pending = None
                for future in pending:  # wait for all, then raise the first failure
                    future.exception()
        for future in pending:
            future.result()

    def run_or_defer(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run func now, or queue it in the current `deferred()` pool."""
        pool = getattr(self._local, "pool", None)
        if pool is None:
            return func(*args, **kwargs)
        self._local.pending.append(pool.submit(func, *args, **kwargs))
        return None


def _attempt(func: Callable[[T], Any], item: T) -> tuple[T, Any, BaseException | None]:
    """(item, func(item), None) or (item, None, the exception)."""
    try:
        return item, func(item), None
    except Exception as e:  # noqa: BLE001 - reported to the caller by Batch.map's users
        return item, None, e


__all__ = ["DEFAULT_BATCH_SIZE", "Batch"]
