"""AsyncHopsFileSystem: fsspec's AsyncFileSystem for "hopsfs" (`HopsFileSystem(asynchronous=True)`,
`fsspec.filesystem("hopsfs", asynchronous=True)`), so dask, zarr and fsspec's own batching overlap
many small requests on one event loop.

With the native backend the hot calls (`_info`, `_ls`, `_cat_file`, `_cat_ranges`, `_pipe_file`,
`_put_file`, `_get_file`, `_rm_file`) go through hdfs-native's asyncio client; everything else,
and every call of the arrow and webhdfs backends (their clients block), runs the synchronous
`HopsFileSystem` it holds (`.sync`) in a worker thread. That filesystem owns path resolution,
names, errors, retries, uploads and the parallel walks (`_find`, `_glob`, `_du`): one copy of the
logic.

Pickling makes the filesystem again from its settings. After os.fork, a filesystem made with
`asynchronous=False` (sync calls on fsspec's IO loop) keeps working in the child on the child's
loop and a new backend; one made with `asynchronous=True` belongs to its event loop: make it
again in the child.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fsspec.asyn import AsyncFileSystem, _run_coros_in_chunks, get_loop
from fsspec.callbacks import DEFAULT_CALLBACK

from hopsfs_tools.fs import commit, errors
from hopsfs_tools.fs.backends.base import FILE_MODE
from hopsfs_tools.fs.backends.native import WRITE_STALL_TIMEOUTS, file_info
from hopsfs_tools.fs.batch import DEFAULT_BATCH_SIZE
from hopsfs_tools.fs.content import range_jobs, span
from hopsfs_tools.fs.filesystem import HopsFileSystem, SettingsCached

T = TypeVar("T")
log = logging.getLogger(__name__)

CHUNK = 8 * 2**20  # bytes per local read/write in _put_file/_get_file
MODE_TTL = 2.0  # seconds a directory's "new files inherit a default ACL" answer is reused

# Methods run by the synchronous filesystem in a worker thread (sync and async forms alike).
_THREADED = (
    "mkdir",
    "makedirs",
    "rmdir",
    "rm",
    "mv",
    "cp_file",
    "touch",
    "du",
    "find",
    "glob",
    "walk",
    "expand_path",
    "checksum",
    "modified",
    "open",
    "_open",
    "invalidate_cache",
)


class AsyncHopsFileSystem(AsyncFileSystem, metaclass=SettingsCached):
    """The "hopsfs" filesystem with fsspec's async interface (see the module docstring)."""

    protocol = ("hopsfs",)
    root_marker = "/"
    _strip_protocol = HopsFileSystem._strip_protocol
    _get_kwargs_from_urls = HopsFileSystem._get_kwargs_from_urls

    def __init__(
        self,
        *args: Any,
        asynchronous: bool = False,
        loop: Any = None,
        batch_size: int | None = None,
        **options: Any,
    ) -> None:
        """`batch_size`: requests in flight in batch calls (cat, pipe, cat_ranges...: fsspec's
        default of 1280 overwhelms DataNodes with writes); `options`: HopsFileSystem's (backend,
        project, user, namenode, ...)."""
        batch_size = batch_size or DEFAULT_BATCH_SIZE
        super().__init__(*args, asynchronous=asynchronous, loop=loop, batch_size=batch_size)
        self.sync: HopsFileSystem = HopsFileSystem(batch_size=batch_size, **options)
        self._modes: dict[str, tuple[float, int]] = {}

    @property
    def loop(self) -> Any:
        """The event loop of the sync calls; in a forked child, the child's IO loop."""
        if self._pid != os.getpid() and not self.asynchronous:
            self._loop, self._pid = get_loop(), os.getpid()
        return super().loop

    def __getattr__(self, name: str) -> Any:
        """HopsFileSystem's own extras (resolve, content_summary, staged_dir, config...)."""
        if name.startswith("__") or name == "sync":
            raise AttributeError(name)
        return getattr(self.sync, name)

    # -- plumbing ------------------------------------------------------------------------------

    @property
    def _native(self) -> Any:
        """The native backend (its asyncio client serves the hot calls), else None (without
        connecting another backend here, in the event loop)."""
        return self.sync.backend if self.sync.config.backend == "native" else None

    async def _in_thread(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(getattr(self.sync, name), *args, **kwargs)

    async def _call(
        self, path: str, call: Callable[[], Awaitable[T]], *, stall: float | None = None
    ) -> T:
        """await call() (an hdfs-native request about `path`), errors translated as the
        backend's, transient ones retried as the sync client's; a call that takes more than
        `stall` seconds is given up (TimeoutError: hdfs-native may wait for a frozen DataNode's
        ack forever)."""
        backend, policy = self._native, self.sync.client.policy
        failures = 0
        while True:
            try:
                with self.sync.client._hinted(path):
                    try:
                        return await asyncio.wait_for(call(), stall)
                    except TimeoutError:
                        raise TimeoutError(
                            errno.ETIMEDOUT,
                            f"writing {path}: no progress for {stall:g}s (a DataNode pipeline "
                            "stalled); the upload restarts if it can",
                        ) from None
                    except (OSError, RuntimeError, ValueError) as e:
                        raise backend._error(e, path) from e
            except OSError as e:
                if not errors.transient(e) or failures >= policy.retries:
                    raise
                await asyncio.sleep(policy.delay(failures))
                failures += 1

    async def _create_mode(self, path: str) -> int:
        """The mode of a new file at `path` (see NativeBackend._create_mode), the parent's
        answer reused for MODE_TTL seconds: one ACL-status call per directory, not per file."""
        parent = os.path.dirname(path)
        now = time.monotonic()
        known = self._modes.get(parent)
        if known is None or now - known[0] > MODE_TTL:
            mode = await asyncio.to_thread(self._native._create_mode, path, None, FILE_MODE)
            known = self._modes[parent] = (now, mode)
        return known[1]

    # -- metadata ------------------------------------------------------------------------------

    async def _info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        if self._native is None:
            return await self._in_thread("info", path)
        target = self.sync.resolve(path)
        client = self._native.async_client()
        info = dict(file_info(await self._call(target, lambda: client.get_file_info(target))))
        info["name"] = self.sync._named_like(path, target)
        return info

    async def _ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        if self._native is None:
            return await self._in_thread("ls", path, detail=detail, **kwargs)
        target = self.sync.resolve(path)
        listing = None if kwargs.get("refresh") else self.sync.dircache.get(target)
        if listing is None:
            client = self._native.async_client()

            async def statuses() -> list[Any]:
                return [file_info(st) async for st in client.list_status(target)]

            listing = self.sync._listed(target, await self._call(target, statuses))
        return self.sync._entries(path, listing, detail)

    async def _find(self, path: str, *args: Any, **kwargs: Any) -> Any:
        return await self._in_thread("find", path, *args, **kwargs)

    async def _glob(self, path: str, **kwargs: Any) -> Any:
        return await self._in_thread("glob", path, **kwargs)

    async def _du(self, path: str, *args: Any, **kwargs: Any) -> Any:
        return await self._in_thread("du", path, *args, **kwargs)

    # -- data ----------------------------------------------------------------------------------

    async def _open_reader(self, target: str) -> Any:
        client = self._native.async_client()
        return await self._call(target, lambda: client.read(target))

    async def _read(self, target: str, reader: Any, start: int, end: int) -> bytes:
        """Bytes [start, end) of an open reader (asking again after a short read)."""
        parts, offset = [], start
        while offset < end:
            chunk = await self._call(target, lambda o=offset: reader.read_range(o, end - o))
            if not chunk:
                break
            parts.append(chunk)
            offset += len(chunk)
        return b"".join(parts)

    async def _cat_file(
        self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any
    ) -> bytes:
        if self._native is None:
            return await self._in_thread("cat_file", path, start, end)
        target = self.sync.resolve(path)
        reader = await self._open_reader(target)
        return await self._read(target, reader, *span(start, end, len(reader)))

    async def _cat_ranges(
        self,
        paths: list[str],
        starts: Any,
        ends: Any,
        max_gap: Any = None,
        batch_size: int | None = None,
        on_error: str = "return",
        **kwargs: Any,
    ) -> list[Any]:
        """Byte ranges of files: each file opened once, its ranges read concurrently."""
        if self._native is None:
            return await self._in_thread(
                "cat_ranges", paths, starts, ends, on_error=on_error, batch_size=batch_size
            )
        jobs = range_jobs(paths, starts, ends)
        readers: dict[str, asyncio.Task[Any]] = {}
        for path in paths:
            target = self.sync.resolve(path)
            if target not in readers:
                readers[target] = asyncio.ensure_future(self._open_reader(target))

        async def one(path: str, start: int | None, end: int | None) -> bytes:
            target = self.sync.resolve(path)
            reader = await readers[target]
            return await self._read(target, reader, *span(start, end, len(reader)))

        out = await _run_coros_in_chunks(
            [one(*job) for job in jobs],
            batch_size=batch_size or self.batch_size,
            nofiles=True,
            return_exceptions=True,
        )
        for task in readers.values():
            if not task.done():
                task.cancel()
            elif not task.cancelled():
                task.exception()  # retrieved: reported per range
        if on_error == "raise":
            error = next((o for o in out if isinstance(o, BaseException)), None)
            if error is not None:
                raise error
        return out

    async def _pipe_file(
        self, path: str, value: bytes, mode: str = "overwrite", **kwargs: Any
    ) -> None:
        """Write `value` to a temporary file and rename it over `path` (mode "create": fail if
        it exists); a transient failure writes a new temporary file (`value` is the copy)."""
        if self._native is None or kwargs:
            return await self._in_thread("pipe_file", path, value, mode=mode, **kwargs)
        target = self.sync.resolve(path)
        await self._upload(target, mode, lambda: [value])

    async def _upload(
        self, target: str, mode: str, chunks: Callable[[], Any], callback: Any = None
    ) -> None:
        """Write what `chunks()` yields (again on a restart) through a temporary file renamed
        over `target` on the native backend's asyncio client."""
        from hdfs_native import WriteOptions

        client, policy = self._native.async_client(), self.sync.client.policy
        existing = await self._maybe_info(target)
        if existing and existing["type"] == "directory":
            raise errors.make(
                IsADirectoryError, target, f"cannot write to {target}: it is a directory"
            )
        if existing and mode == "create":
            raise errors.make(FileExistsError, target, f"cannot create {target}: it exists")
        options = WriteOptions(permission=await self._create_mode(target), create_parent=True)
        stall = WRITE_STALL_TIMEOUTS * self.sync.config.timeout
        failures = 0
        while True:
            temp = commit.temp_path(target)
            try:
                writer = await self._call(target, lambda t=temp: client.create(t, options))
                for chunk in chunks():
                    await self._call(target, lambda c=chunk, w=writer: w.write(c), stall=stall)
                    if callback is not None:
                        callback.relative_update(len(chunk))
                await self._call(target, writer.close, stall=stall)
                await self._call(target, lambda t=temp: client.rename(t, target, mode != "create"))
                break
            except BaseException as e:
                await self._discard(client, temp)
                if not isinstance(e, OSError) or not errors.transient(e):
                    raise
                if failures >= policy.retries:
                    raise
                delay = policy.delay(failures)
                log.warning(
                    "writing %s failed (%s); restarting the upload in %.1fs", target, e, delay
                )
                await asyncio.sleep(delay)
                failures += 1
        self.sync.invalidate_cache(target)

    async def _maybe_info(self, target: str) -> dict[str, Any] | None:
        try:
            return await self._info(target)
        except FileNotFoundError:
            return None

    async def _discard(self, client: Any, temp: str) -> None:
        """Delete a temporary file if it is there (best effort: clean_tmp finds leftovers)."""
        try:
            await asyncio.shield(client.delete(temp, False))
        except Exception as e:  # noqa: BLE001 - only a leftover: clean_tmp finds it
            log.debug("could not delete the temporary file %s: %s", temp, e)

    async def _put_file(
        self,
        lpath: str,
        rpath: str,
        callback: Any = DEFAULT_CALLBACK,
        mode: str = "overwrite",
        **kwargs: Any,
    ) -> None:
        """Upload a local file; a restart reads the local file again (no spooled copy)."""
        if os.path.isdir(lpath):
            return await self._in_thread("makedirs", rpath, exist_ok=True)
        if self._native is None or kwargs:
            return await self._in_thread("put_file", lpath, rpath, callback, mode=mode, **kwargs)
        callback.set_size(os.path.getsize(lpath))

        def chunks() -> Any:
            with open(lpath, "rb") as src:
                while chunk := src.read(CHUNK):
                    yield chunk

        await self._upload(self.sync.resolve(rpath), mode, chunks, callback)

    async def _get_file(
        self, rpath: str, lpath: str, callback: Any = DEFAULT_CALLBACK, **kwargs: Any
    ) -> None:
        if self._native is None or kwargs.get("outfile") is not None:
            return await self._in_thread("get_file", rpath, lpath, callback, **kwargs)
        target = self.sync.resolve(rpath)
        if (await self._info(target))["type"] == "directory":
            os.makedirs(lpath, exist_ok=True)
            return
        reader = await self._open_reader(target)
        callback.set_size(len(reader))
        os.makedirs(os.path.dirname(os.path.abspath(lpath)), exist_ok=True)
        out = await asyncio.to_thread(open, lpath, "wb")
        try:
            for offset in range(0, len(reader), CHUNK):
                chunk = await self._read(target, reader, offset, min(len(reader), offset + CHUNK))
                await asyncio.to_thread(out.write, chunk)
                callback.relative_update(len(chunk))
        finally:
            out.close()

    async def _rm_file(self, path: str, **kwargs: Any) -> None:
        if self._native is None:
            return await self._in_thread("rm_file", path)
        target = self.sync.resolve(path)
        if (await self._info(target))["type"] == "directory":
            raise errors.make(
                IsADirectoryError, target, f"rm_file: {target} is a directory (use rmdir or rm)"
            )
        client = self._native.async_client()
        await self._call(target, lambda: client.delete(target, False))
        self.sync.invalidate_cache(target)


def _threaded(name: str) -> tuple[Callable[..., Any], Callable[..., Awaitable[Any]]]:
    """The sync and async forms of HopsFileSystem method `name`, run by `.sync`."""

    def sync_form(self: AsyncHopsFileSystem, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.sync, name)(*args, **kwargs)

    async def async_form(self: AsyncHopsFileSystem, *args: Any, **kwargs: Any) -> Any:
        return await self._in_thread(name, *args, **kwargs)

    sync_form.__doc__ = async_form.__doc__ = f"HopsFileSystem.{name} (see there)."
    return sync_form, async_form


for _name in _THREADED:
    _sync, _async = _threaded(_name)
    setattr(AsyncHopsFileSystem, _name, _sync)
    if _name not in ("_open", "open", "find", "glob", "du", "walk", "invalidate_cache"):
        setattr(AsyncHopsFileSystem, "_" + _name, _async)

__all__ = ["AsyncHopsFileSystem"]
