"""The one place that calls a backend (as s3fs's `_call_s3`): connects on first use, retries
what is safe to repeat, and makes rm/rename idempotent across a lost answer.

The filesystem, its files, uploads and `commit` all go through a `Client`; nothing else holds
a backend. The asyncio filesystem (`fs.asyncfs`) goes through the same `Client`: its `a*` calls
reach the backend's asyncio face with the same retry policy and hints.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

from hopsfs_tools.config import ClusterConfig
from hopsfs_tools.fs import commit, errors
from hopsfs_tools.fs.backends import ASYNC_BACKENDS, connect
from hopsfs_tools.fs.backends.base import (
    AsyncBackend,
    AsyncRangeReader,
    Backend,
    FileInfo,
    FsStatus,
    ServerDefaults,
)
from hopsfs_tools.fs.malloc import tune_for_large_reads
from hopsfs_tools.fs.retry import RetryingReader, RetryPolicy

log = logging.getLogger(__name__)

PROJECTS_PREFIX = "/Projects/"  # missing paths below it get no "no project is set" hint


class Client:
    """A backend for `config`, connected on first use, called with retries."""

    def __init__(
        self, config: ClusterConfig, backend: Backend | None = None, missing_hint: str = ""
    ) -> None:
        """`backend`: an already connected backend for `config` (else one connects on first use);
        `missing_hint`: what to do about a missing path outside /Projects (no project set)."""
        self.config = config
        self.policy = RetryPolicy.from_config(config)
        self.missing_hint = missing_hint
        self._backend = backend
        self._lock = threading.Lock()

    @property
    def backend(self) -> Backend:
        """The connected backend (connects on first use: ConnectionError if unreachable)."""
        if self._backend is None:
            with self._lock:
                if self._backend is None:
                    tune_for_large_reads()
                    self._backend = connect(self.config)
        return self._backend

    def close(self) -> None:
        """Release the backend's connections (a later call reconnects)."""
        backend = self.forget()
        if backend is not None:
            backend.close()

    def forget(self) -> Backend | None:
        """Drop the backend without closing it (the next call connects anew); the dropped one."""
        with self._lock:
            backend, self._backend = self._backend, None
        return backend

    def call(self, op: str, path: str, *args: Any, **kwargs: Any) -> Any:
        """backend.<op>(path, ...) for an operation that is safe to repeat, with retries."""
        with self.hinted(path):
            return self.policy.call(
                lambda: getattr(self.backend, op)(path, *args, **kwargs), f"{op} {path}"
            )

    @contextmanager
    def hinted(self, path: str) -> Iterator[None]:
        """A missing `path` outside /Projects gets `missing_hint` (no project is set)."""
        try:
            yield
        except FileNotFoundError as exc:
            if not self.missing_hint or path.startswith(PROJECTS_PREFIX):
                raise
            raise errors.rehint(exc, self.missing_hint) from exc

    def info(self, path: str) -> FileInfo:
        return self.call("info", path)

    def ls(self, path: str) -> list[FileInfo]:
        return self.call("ls", path)

    def exists(self, path: str) -> bool:
        return self.call("exists", path)

    def fs_status(self) -> FsStatus:
        """The filesystem's raw capacity and use."""
        return self.policy.call(lambda: self.backend.fs_status(), "getting the filesystem status")

    def server_defaults(self) -> ServerDefaults:
        """The NameNode's server defaults (trash interval, block size, replication)."""
        return self.policy.call(lambda: self.backend.server_defaults(), "getting server defaults")

    def open_reader(self, path: str) -> RetryingReader:
        """A reader of `path` that survives lost connections (reopens, resumes at the range)."""
        with self.hinted(path):
            return RetryingReader(lambda: self.backend.open_read(path), self.policy, path)

    def open_writer(self, path: str, **options: Any) -> BinaryIO:
        """A raw stream creating `path` (not retried here: an upload restarts as a whole)."""
        return self.backend.open_write(path, overwrite=False, **options)

    def append(self, path: str) -> BinaryIO:
        """A raw stream appending to the existing file `path` (never repeated)."""
        return self.backend.append(path)

    def rm(self, path: str, *, recursive: bool = False) -> None:
        """backend.rm with retries; after a lost answer, a path that is gone counts as deleted."""
        retried = False

        def attempt() -> None:
            nonlocal retried
            try:
                self.backend.rm(path, recursive=recursive)
            except FileNotFoundError:
                if not retried:
                    raise
            except Exception as e:
                retried = retried or errors.transient(e)
                raise

        self.policy.call(attempt, f"deleting {path}")

    def rename(self, src: str, dst: str, *, overwrite: bool = False) -> None:
        """backend.rename with retries; after a lost answer, `src` gone and `dst` present means
        the lost attempt did it. With `overwrite` on a backend that cannot rename over `dst`,
        `commit.replace` moves any old `dst` aside first (and copes with concurrent renamers)."""
        retried = False

        def attempt() -> None:
            nonlocal retried
            try:
                backend = self.backend
                if overwrite and not backend.renames_over:
                    commit.replace(backend, src, dst)  # dst may appear or vanish meanwhile
                else:
                    backend.rename(src, dst, overwrite=overwrite)
            except FileNotFoundError:
                if not (retried and self.exists(dst) and not self.exists(src)):
                    raise
            except Exception as e:
                retried = retried or errors.transient(e)
                raise

        self.policy.call(attempt, f"renaming {src} to {dst}")

    # -- the asyncio face (backends with one: `asynchronous`) ----------------------------------

    @property
    def asynchronous(self) -> bool:
        """Whether the backend has an asyncio face for the `a*` calls (known without connecting,
        so an event loop never waits for a blocking client to connect)."""
        return self.config.backend in ASYNC_BACKENDS

    @property
    def aio(self) -> AsyncBackend:
        """The backend's asyncio face (connects on first use)."""
        aio = self.backend.aio
        if aio is None:
            raise NotImplementedError(f"the {self.backend.name} backend has no asyncio client")
        return aio

    async def acall(self, op: str, path: str, *args: Any, **kwargs: Any) -> Any:
        """await backend.aio.<op>(path, ...) for an operation that is safe to repeat, with the
        same retries and hints as `call`."""
        with self.hinted(path):
            return await self.policy.acall(
                lambda: getattr(self.aio, op)(path, *args, **kwargs), f"{op} {path}"
            )

    async def aopen_reader(self, path: str) -> AsyncRangeReader:
        """An asyncio reader of `path` (opening it retried)."""
        return await self.acall("open_read", path)

    async def aread(self, reader: AsyncRangeReader, path: str, start: int, end: int) -> bytes:
        """Bytes [start, end) of `path` from `reader`, asking again after a short read; each
        request retried (fewer bytes only at end of file)."""
        parts, offset = [], start
        while offset < end:
            chunk = await self.policy.acall(
                lambda o=offset: reader.read_range(o, end - o), f"reading {path} at {offset}"
            )
            if not chunk:
                break
            parts.append(chunk)
            offset += len(chunk)
        return b"".join(parts)

    async def atry_rm(self, path: str) -> None:
        """Delete a temporary file if possible, in one attempt that a cancellation does not stop
        (best effort: `clean_tmp` finds a leftover)."""
        try:
            await asyncio.shield(self.aio.rm(path))
        except Exception as e:  # noqa: BLE001 - only a leftover
            log.debug("could not delete the temporary file %s: %s", path, e)

    def try_rm(self, path: str, *, retry: bool = True) -> None:
        """Delete a temporary file if possible (best effort: `clean_tmp` finds a leftover);
        `retry=False` for a single attempt right after a failure."""
        try:
            self.rm(path) if retry else self.backend.rm(path)
        except FileNotFoundError:
            pass
        except Exception as e:  # noqa: BLE001 - e.g. the namenode went away: only a leftover
            log.warning("could not delete the temporary file %s: %s", path, e)


__all__ = ["Client"]
