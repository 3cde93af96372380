"""The content operations of HopsFileSystem: cat, cat_ranges, pipe, copy, put and get of one file or
of many at once (`Batch`: threads, `batch_size` at a time)."""

from __future__ import annotations

import os
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from fsspec.asyn import get_loop, sync
from fsspec.callbacks import DEFAULT_CALLBACK

from hopsfs_tools.fs.ranges import range_jobs, read_exactly, read_ranges, span

if TYPE_CHECKING:
    from hopsfs_tools.fs.batch import Batch
    from hopsfs_tools.fs.client import Client


class ContentOps:
    """cat/pipe/copy/put/get of HopsFileSystem (mixed in before fsspec's AbstractFileSystem)."""

    client: Client
    blocksize: int
    batch_size: int
    _batch: Batch

    def cat_file(
        self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any
    ) -> bytes:
        path = self.resolve(path)
        reader = self.client.open_reader(path)
        try:
            start, end = span(start, end, reader.size)
            return read_exactly(reader, start, end - start)
        finally:
            reader.close()

    def cat(
        self, path: Any, recursive: bool = False, on_error: str = "raise", **kwargs: Any
    ) -> Any:
        batch_size = kwargs.pop("batch_size", None)
        paths = self.expand_path(path, recursive=recursive)
        if (
            len(paths) == 1
            and not isinstance(path, list)
            and paths[0] == self._strip_protocol(path)
        ):
            return self.cat_file(paths[0], **kwargs)
        results = self._batch.map(lambda p: self.cat_file(p, **kwargs), paths, batch_size)
        out: dict[str, Any] = {}
        for p, data, error in results:
            if recursive and isinstance(error, IsADirectoryError):
                continue  # directories of a recursive expansion have no content
            if error is None:
                out[p] = data
            elif on_error == "raise":
                raise error
            elif on_error == "return":
                out[p] = error
        return out

    def cat_ranges(
        self,
        paths: list[str],
        starts: Any,
        ends: Any,
        max_gap: Any = None,
        on_error: str = "return",
        **kwargs: Any,
    ) -> list[Any]:
        jobs = range_jobs(paths, starts, ends)
        batch_size = kwargs.get("batch_size")
        if len(jobs) > 1 and self.client.asynchronous:
            # the backend's asyncio client, each file opened once: measured 2x the threads below
            targets = [(self.resolve(p), start, end) for p, start, end in jobs]
            return sync(
                get_loop(),
                read_ranges,
                self.client,
                targets,
                batch_size or self.batch_size,
                on_error,
            )
        results = self._batch.map(lambda j: self.cat_file(j[0], j[1], j[2]), jobs, batch_size)
        out = []
        for _, data, error in results:
            if error is not None and on_error == "raise":
                raise error
            out.append(error if error is not None else data)
        return out

    def pipe_file(self, path: str, value: bytes, mode: str = "overwrite", **kwargs: Any) -> None:
        """Write `value` to `path` atomically (mode "create": fail if it exists)."""
        self._batch.run_or_defer(self._pipe_one, path, value, mode, **kwargs)

    def _pipe_one(self, path: str, value: bytes, mode: str, **kwargs: Any) -> None:
        with self.open(path, "xb" if mode == "create" else "wb", **kwargs) as f:
            f.write(value)

    def pipe(self, path: Any, value: bytes | None = None, **kwargs: Any) -> None:
        with self._batch.deferred(kwargs.pop("batch_size", None)):
            super().pipe(path, value, **kwargs)

    def cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        """Copy one file by streaming it through this client (HDFS has no server-side copy)."""
        self._batch.run_or_defer(self._cp_one, path1, path2, **kwargs)

    def _cp_one(self, path1: str, path2: str, **kwargs: Any) -> None:
        src = self.resolve(path1)
        if self.isdir(src):
            self.makedirs(path2, exist_ok=True)
            return
        reader = self.client.open_reader(src)
        try:
            with self.open(path2, "wb", **kwargs) as out:
                for offset in range(0, reader.size, self.blocksize):
                    out.write(
                        read_exactly(reader, offset, min(self.blocksize, reader.size - offset))
                    )
        finally:
            reader.close()

    def copy(self, path1: Any, path2: Any, recursive: bool = False, **kwargs: Any) -> None:
        with self._batch.deferred(kwargs.pop("batch_size", None)):
            super().copy(path1, path2, recursive=recursive, **kwargs)

    def put_file(
        self,
        lpath: str,
        rpath: str,
        callback: Any = DEFAULT_CALLBACK,
        mode: str = "overwrite",
        **kwargs: Any,
    ) -> None:
        self._batch.run_or_defer(self._put_one, lpath, rpath, callback, mode, **kwargs)

    def _put_one(self, lpath: str, rpath: str, callback: Any, mode: str, **kwargs: Any) -> None:
        if os.path.isdir(lpath):
            self.makedirs(rpath, exist_ok=True)
            return
        with (
            open(lpath, "rb") as src,
            # a restart reads the local file again (no spooled copy)
            self.open(
                rpath, "xb" if mode == "create" else "wb", source=os.path.abspath(lpath), **kwargs
            ) as out,
        ):
            callback.set_size(os.fstat(src.fileno()).st_size)
            while chunk := src.read(self.blocksize):
                out.write(chunk)
                callback.relative_update(len(chunk))

    def put(self, lpath: Any, rpath: Any, recursive: bool = False, **kwargs: Any) -> None:
        with self._batch.deferred(kwargs.pop("batch_size", None)):
            super().put(lpath, rpath, recursive=recursive, **kwargs)

    def get_file(
        self,
        rpath: str,
        lpath: Any,
        callback: Any = DEFAULT_CALLBACK,
        outfile: Any = None,
        **kwargs: Any,
    ) -> None:
        self._batch.run_or_defer(self._get_one, rpath, lpath, callback, outfile, **kwargs)

    def _get_one(self, rpath: str, lpath: Any, callback: Any, outfile: Any, **kwargs: Any) -> None:
        rpath = self.resolve(rpath)
        if outfile is None and hasattr(lpath, "write"):
            outfile = lpath
        if outfile is None and self.isdir(rpath):
            os.makedirs(lpath, exist_ok=True)
            return
        reader = self.client.open_reader(rpath)
        try:
            callback.set_size(reader.size)
            if outfile is None:
                os.makedirs(os.path.dirname(os.path.abspath(lpath)), exist_ok=True)
            with open(lpath, "wb") if outfile is None else nullcontext(outfile) as out:
                for offset in range(0, reader.size, self.blocksize):
                    chunk = read_exactly(reader, offset, min(self.blocksize, reader.size - offset))
                    out.write(chunk)
                    callback.relative_update(len(chunk))
        finally:
            reader.close()

    def get(self, rpath: Any, lpath: Any, recursive: bool = False, **kwargs: Any) -> None:
        with self._batch.deferred(kwargs.pop("batch_size", None)):
            super().get(rpath, lpath, recursive=recursive, **kwargs)


__all__ = ["ContentOps"]
