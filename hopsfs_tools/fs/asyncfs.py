"""AsyncHopsFileSystem: fsspec's AsyncFileSystem for "hopsfs" (`HopsFileSystem(asynchronous=True)`,
`fsspec.filesystem("hopsfs", asynchronous=True)`), so dask, zarr and fsspec's own batching overlap
many small requests on one event loop.

On a backend with an asyncio face (native: hdfs-native's asyncio client) the hot calls (`_info`,
`_ls`, `_cat_file`, `_cat_ranges`, `_pipe_file`, `_put_file`, `_get_file`, `_rm_file`) go through
the `Client` of the synchronous `HopsFileSystem` it holds (`.sync`): the one place that calls a
backend, with the same retry policy, error translation and hints. Everything else, and every
call of the arrow and webhdfs backends (their clients block), runs `.sync` in a worker thread.
That filesystem owns path resolution, names, uploads and the parallel walks (`_find`, `_glob`,
`_du`): one copy of the logic.

Pickling makes the filesystem again from its settings. After os.fork, a filesystem made with
`asynchronous=False` (sync calls on fsspec's IO loop) keeps working in the child on the child's
loop and a new backend; one made with `asynchronous=True` belongs to its event loop: make it
again in the child.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from fsspec.asyn import AsyncFileSystem, get_loop
from fsspec.callbacks import DEFAULT_CALLBACK

from hopsfs_tools.fs import commit, errors
from hopsfs_tools.fs.batch import DEFAULT_BATCH_SIZE
from hopsfs_tools.fs.client import Client
from hopsfs_tools.fs.filesystem import HopsFileSystem, SettingsCached
from hopsfs_tools.fs.ranges import range_jobs, read_ranges, span

log = logging.getLogger(__name__)

CHUNK = 8 * 2**20  # bytes per local read/write in _put_file/_get_file

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
    "ukey",
    "trash",
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
    def client(self) -> Client:
        """The sync filesystem's Client: this filesystem calls the backend through it too."""
        return self.sync.client

    async def _in_thread(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(getattr(self.sync, name), *args, **kwargs)

    # -- metadata ------------------------------------------------------------------------------

    async def _info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        if not self.client.asynchronous:
            return await self._in_thread("info", path)
        target = self.sync.resolve(path)
        info = dict(await self.client.acall("info", target))
        info["name"] = self.sync.named_like(path, target)
        return info

    async def _ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        if not self.client.asynchronous:
            return await self._in_thread("ls", path, detail=detail, **kwargs)
        target = self.sync.resolve(path)
        listing = None if kwargs.get("refresh") else self.sync.dircache.get(target)
        if listing is None:
            listing = self.sync.cache_listing(target, await self.client.acall("ls", target))
        return self.sync.listing_as_asked(path, listing, detail)

    async def _find(self, path: str, *args: Any, **kwargs: Any) -> Any:
        return await self._in_thread("find", path, *args, **kwargs)

    async def _glob(self, path: str, **kwargs: Any) -> Any:
        return await self._in_thread("glob", path, **kwargs)

    async def _du(self, path: str, *args: Any, **kwargs: Any) -> Any:
        return await self._in_thread("du", path, *args, **kwargs)

    # -- data ----------------------------------------------------------------------------------

    async def _cat_file(
        self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any
    ) -> bytes:
        if not self.client.asynchronous:
            return await self._in_thread("cat_file", path, start, end)
        target = self.sync.resolve(path)
        reader = await self.client.aopen_reader(target)
        return await self.client.aread(reader, target, *span(start, end, reader.size))

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
        if not self.client.asynchronous:
            return await self._in_thread(
                "cat_ranges", paths, starts, ends, on_error=on_error, batch_size=batch_size
            )
        jobs = [
            (self.sync.resolve(p), start, end) for p, start, end in range_jobs(paths, starts, ends)
        ]
        return await read_ranges(self.client, jobs, batch_size or self.batch_size, on_error)

    async def _pipe_file(
        self, path: str, value: bytes, mode: str = "overwrite", **kwargs: Any
    ) -> None:
        """Write `value` to a temporary file and rename it over `path` (mode "create": fail if
        it exists); a transient failure writes a new temporary file (`value` is the copy)."""
        if not self.client.asynchronous or kwargs:
            return await self._in_thread("pipe_file", path, value, mode=mode, **kwargs)
        target = self.sync.resolve(path)
        await self._upload(target, mode, lambda: [value])

    async def _upload(
        self, target: str, mode: str, chunks: Callable[[], Any], callback: Any = None
    ) -> None:
        """Write what `chunks()` yields (again on a restart) through a temporary file renamed
        over `target` on the backend's asyncio face; a transient failure restarts the upload
        into a new temporary file, as the sync `Upload` does."""
        client, policy = self.client, self.client.policy
        existing = await self._maybe_info(target)
        if existing and existing["type"] == "directory":
            raise errors.make(
                IsADirectoryError, target, f"cannot write to {target}: it is a directory"
            )
        if existing and mode == "create":
            raise errors.make(FileExistsError, target, f"cannot create {target}: it exists")
        failures = 0
        while True:
            temp = commit.temp_path(target)
            try:
                writer = await client.acall("open_write", temp)
                for chunk in chunks():
                    await writer.write(chunk)
                    if callback is not None:
                        callback.relative_update(len(chunk))
                await writer.close()
                await client.acall("rename", temp, target, overwrite=mode != "create")
                break
            except BaseException as e:
                await client.atry_rm(temp)
                if not isinstance(e, OSError):
                    raise
                if not errors.transient(e) or failures >= policy.retries:
                    raise errors.retarget(e, temp, target) from e  # the path the caller knows
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
        if not self.client.asynchronous or kwargs:
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
        if not self.client.asynchronous or kwargs.get("outfile") is not None:
            return await self._in_thread("get_file", rpath, lpath, callback, **kwargs)
        target = self.sync.resolve(rpath)
        if (await self._info(target))["type"] == "directory":
            os.makedirs(lpath, exist_ok=True)
            return
        reader = await self.client.aopen_reader(target)
        callback.set_size(reader.size)
        os.makedirs(os.path.dirname(os.path.abspath(lpath)), exist_ok=True)
        out = await asyncio.to_thread(open, lpath, "wb")
        try:
            for offset in range(0, reader.size, CHUNK):
                end = min(reader.size, offset + CHUNK)
                chunk = await self.client.aread(reader, target, offset, end)
                await asyncio.to_thread(out.write, chunk)
                callback.relative_update(len(chunk))
        finally:
            out.close()

    async def _rm_file(self, path: str, **kwargs: Any) -> None:
        if not self.client.asynchronous:
            return await self._in_thread("rm_file", path)
        target = self.sync.resolve(path)
        if (await self._info(target))["type"] == "directory":
            raise errors.make(
                IsADirectoryError, target, f"rm_file: {target} is a directory (use rmdir or rm)"
            )
        await self.client.acall("rm", target)
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

HopsFileSystem.async_class = AsyncHopsFileSystem

__all__ = ["AsyncHopsFileSystem"]
