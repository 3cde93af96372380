"""HopsFile: the buffered file of HopsFileSystem (ranged reads with readahead; writes through an
`Upload`, committed atomically on close), and its text-mode wrapper."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from fsspec.caching import ReadAheadCache
from fsspec.spec import AbstractBufferedFile

from hopsfs_tools.fs.ranges import read_exactly
from hopsfs_tools.fs.upload import Upload

if TYPE_CHECKING:
    from hopsfs_tools.fs.backends.base import RangeReader
    from hopsfs_tools.fs.client import Client

DEFAULT_BLOCK_SIZE = 8 * 2**20  # readahead / write buffer: 8 MiB, as HopsFS's TF readers use


class Owner(Protocol):
    """What a HopsFile needs of its filesystem (a HopsFileSystem, which builds on this module)."""

    client: Client

    def invalidate_cache(self, path: str | None = None) -> None: ...


class HopsFile(AbstractBufferedFile):
    """A buffered HDFS file: ranged reads with readahead; writes committed atomically on close.

    Writing goes to a hidden temporary file renamed over the target on close (see `upload`); an
    exception inside `with` deletes the temporary file and leaves the target untouched.
    """

    DEFAULT_BLOCK_SIZE = DEFAULT_BLOCK_SIZE
    fs: Owner

    def __init__(self, fs: Owner, path: str, mode: str = "rb", **kwargs: Any) -> None:
        self._reader: RangeReader | None = None
        self._upload: Upload | None = None
        write_options = {
            k: kwargs.pop(k)
            for k in ("replication", "permission", "restartable", "source")
            if k in kwargs
        }
        if kwargs.get("block_size", "default") != "default":
            check_positive(path, "block_size", kwargs["block_size"])
        if write_options.get("replication") is not None:
            check_positive(path, "replication", write_options["replication"])
        if mode == "rb":
            self._reader = fs.client.open_reader(path)
            kwargs.setdefault("size", self._reader.size)
        elif mode not in ("wb", "xb", "ab"):
            raise ValueError(f"Unsupported mode {mode!r} for {path}: use rb, wb, xb or ab")
        super().__init__(fs, path, mode, **kwargs)
        if mode != "rb":  # open the temporary file now: permission errors show up at open()
            self._upload = Upload(fs.client, path, mode, **write_options)
            with self._closing_on_error():
                self._upload.start()
            self.offset = 0

    @property
    def temp_path(self) -> str | None:
        """The hidden temporary file being written (None when reading or committed)."""
        return self._upload.temp_path if self._upload else None

    def _fetch_range(self, start: int, end: int) -> bytes:
        assert self._reader is not None
        return read_exactly(self._reader, start, min(end, self.size) - start)

    def _upload_chunk(self, final: bool = False) -> bool:
        assert self._upload is not None
        with self._closing_on_error():
            data = self.buffer.getbuffer()
            if data.nbytes:
                self._upload.write(data)
            del data
            if final:
                self._upload.finish()
        if final and self.autocommit:
            self.commit()
        elif not final:
            self._upload.touch()
        return True

    @contextmanager
    def _closing_on_error(self) -> Iterator[None]:
        """An error inside (the upload has discarded its data) closes the file."""
        try:
            yield
        except BaseException:
            self.closed = True
            raise

    def commit(self) -> None:
        """Move the finished temporary file over the target (atomic on the namenode)."""
        if self._upload is not None:
            with self._closing_on_error():
                self._upload.commit()
            self.fs.invalidate_cache(self.path)

    def discard(self) -> None:
        """Drop what was written: the target stays as it was."""
        if self._upload is not None:
            self._upload.discard()

    def read(self, length: int | None = -1) -> bytes:
        if self.mode != "rb" and not self.closed:
            raise io.UnsupportedOperation(
                f"{self.path} is open for writing: open it with 'rb' to read it"
            )
        if length is None or length < 0:
            length = self.size - self.loc if self.mode == "rb" else -1
        if self._past_readahead(length):
            data = self._fetch_range(self.loc, self.loc + length)
            self.loc += len(data)
            return data
        return super().read(length)

    def _past_readahead(self, length: int) -> bool:
        """Whether a read of `length` at the position is for a whole block or more outside
        fsspec's readahead cache: it is fetched and handed over as is (the cache would fetch a
        block more and copy the caller's part out of it)."""
        cache = self.cache
        return (
            type(cache) is ReadAheadCache
            and not self.closed
            and length >= self.blocksize
            and not cache.start <= self.loc < cache.end
            and self.loc < self.size
        )

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError(f"I/O operation on closed file {self.path}: open it again")
        if self.mode == "rb":
            raise io.UnsupportedOperation(
                f"{self.path} is open for reading: open it with 'wb' (replace) or 'ab' (append) "
                "to write"
            )
        if self.buffer.tell() == 0 and type(data) is bytes and len(data) >= self.blocksize:
            return self._send_whole(data)
        return super().write(data)

    def _send_whole(self, data: bytes) -> int:
        """Send a block-sized or larger `data` straight to the upload: no copy into the buffer
        (nor out of it), the cost that made a buffered write slower than the bare client."""
        if self.forced:
            raise ValueError(f"{self.path} has been force-flushed: it can only be closed")
        assert self._upload is not None
        with self._closing_on_error():
            self._upload.write(data)
        self._upload.touch()
        self.loc += len(data)
        self.offset += len(data)
        return len(data)

    def seek(self, loc: int, whence: int = 0) -> int:
        try:
            return super().seek(loc, whence)
        except ValueError as e:
            raise ValueError(f"{self.path}: cannot seek to {loc} (whence {whence}): {e}") from None

    def abort(self) -> None:
        """Close without committing (used when the writer's `with` block raised)."""
        if not self.closed:
            self.closed = True
            self.buffer = io.BytesIO()
            self.discard()

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._reader is not None:
                self._reader.close()
                self._reader = None

    def __exit__(self, exc_type: type[BaseException] | None, *args: object) -> None:
        if exc_type is not None and self.mode != "rb":
            self.abort()
        else:
            self.close()


class TextFile(io.TextIOWrapper):
    """A text-mode HopsFile: decoding errors name the file; a writer's `with` block discards
    the file on an exception."""

    def read(self, size: int | None = -1) -> str:
        with self._decoding():
            return super().read(size)

    def readline(self, size: int | None = -1) -> str:
        with self._decoding():
            return super().readline(size)

    def __next__(self) -> str:
        with self._decoding():
            return super().__next__()

    @contextmanager
    def _decoding(self) -> Iterator[None]:
        try:
            yield
        except UnicodeDecodeError as e:
            path = getattr(self.buffer, "path", "")
            raise UnicodeDecodeError(
                e.encoding,
                e.object,
                e.start,
                e.end,
                f"{e.reason}, reading {path} as {e.encoding} (pass the file's encoding=, e.g. "
                "'latin-1', or open it in binary mode 'rb')",
            ) from None

    def __exit__(self, exc_type: type[BaseException] | None, *args: object) -> None:
        if exc_type is not None and isinstance(self.buffer, HopsFile):
            self.buffer.abort()
        super().__exit__(exc_type, *args)


def check_positive(path: str, name: str, value: Any) -> None:
    """ValueError unless `value` is a positive int (an argument about `path`)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, not {value!r} (for {path})")


__all__ = ["DEFAULT_BLOCK_SIZE", "HopsFile", "TextFile", "check_positive"]
