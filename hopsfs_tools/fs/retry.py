"""Bounded retries with exponential backoff: how fs.client decides when to try again, for the
sync calls and their asyncio twins alike (one policy).

Only failures that may go away by themselves are retried (`errors.transient`: a lost
connection, a NameNode restarting or in safe mode), and only around calls that are safe to
repeat: metadata calls, reads, and writes into a fresh temporary file. An append is never
repeated.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from hopsfs_tools.config import ClusterConfig
from hopsfs_tools.fs.backends.base import RangeReader
from hopsfs_tools.fs.errors import DataNodeLostError, transient

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_DELAY = 10.0  # seconds: the longest single wait between two attempts


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry: `retries` more attempts after the first, waiting
    `backoff`, 2*`backoff`, 4*`backoff`... (at most MAX_DELAY each). With a `deadline` (the
    timeout), no retry starts that would likely end later than `deadline` seconds after the
    first attempt (its wait plus as long as the last attempt took), so a NameNode that stays
    down is reported within about the timeout; a lost DataNode (the NameNode answered) is
    retried regardless, since the retry is sent to another one."""

    retries: int
    backoff: float
    deadline: float | None = None

    @classmethod
    def from_config(cls, config: ClusterConfig) -> RetryPolicy:
        return cls(config.retries, config.retry_backoff, config.timeout)

    def delay(self, retry: int) -> float:
        """The wait before retry number `retry` (0 for the first)."""
        return min(MAX_DELAY, self.backoff * 2**retry)

    def call(self, func: Callable[[], T], what: str) -> T:
        """func(), retried on transient failures; the last failure is raised."""
        started = time.monotonic()
        for retry in itertools.count():
            began = time.monotonic()
            try:
                return func()
            except Exception as e:
                delay = self._wait(e, retry, started, began, what)
                if delay is None:
                    raise
                time.sleep(delay)
        raise AssertionError("unreachable")

    async def acall(self, func: Callable[[], Awaitable[T]], what: str) -> T:
        """await func(), retried on transient failures as `call` does (the asyncio twin)."""
        started = time.monotonic()
        for retry in itertools.count():
            began = time.monotonic()
            try:
                return await func()
            except Exception as e:
                delay = self._wait(e, retry, started, began, what)
                if delay is None:
                    raise
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    def _wait(
        self, error: Exception, retry: int, started: float, began: float, what: str
    ) -> float | None:
        """The wait before retrying after `error` (attempt `retry` began at `began`, the first
        at `started`), or None to give up."""
        if not transient(error) or retry >= self.retries:
            return None
        delay = self.delay(retry)
        now = time.monotonic()
        late = self.deadline is not None and now + delay + (now - began) > started + self.deadline
        if late and not isinstance(error, DataNodeLostError):
            return None
        log.warning("%s failed (%s); retrying in %.1fs", what, error, delay)
        return delay


class RetryingReader:
    """A RangeReader that reopens the file and retries a range after a transient failure
    (e.g. the DataNode it read from died), so a long read survives a lost DataNode."""

    def __init__(self, open_reader: Callable[[], RangeReader], policy: RetryPolicy, path: str):
        self._open = open_reader
        self._policy = policy
        self._path = path
        self._reader: RangeReader | None = policy.call(open_reader, f"opening {path}")
        self.size: int = self._reader.size

    def read_range(self, offset: int, length: int) -> bytes:
        def attempt() -> bytes:
            if self._reader is None:
                self._reader = self._open()
            try:
                return self._reader.read_range(offset, length)
            except Exception as e:
                if transient(e):  # start over with a fresh reader (new DataNode connections)
                    self._drop()
                raise

        return self._policy.call(attempt, f"reading {self._path} at {offset}")

    def _drop(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            try:
                reader.close()
            except Exception as e:  # noqa: BLE001 - the reader is broken already
                log.debug("closing a failed reader of %s: %s", self._path, e)

    def close(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()
