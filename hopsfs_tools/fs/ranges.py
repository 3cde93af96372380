"""Byte ranges of files: slice arithmetic, exact reads over short ones, and many ranges read
concurrently on a backend's asyncio face (each file opened once). The sync and the async
filesystem both read ranges through here."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from fsspec.asyn import _run_coros_in_chunks

if TYPE_CHECKING:
    from hopsfs_tools.fs.backends.base import RangeReader
    from hopsfs_tools.fs.client import Client


def range_jobs(paths: list[str], starts: Any, ends: Any) -> list[tuple[str, Any, Any]]:
    """cat_ranges' (path, start, end) triples; an int or None start/end applies to all."""
    starts = [starts] * len(paths) if isinstance(starts, int) or starts is None else starts
    ends = [ends] * len(paths) if isinstance(ends, int) or ends is None else ends
    if not len(paths) == len(starts) == len(ends):
        raise ValueError("cat_ranges: paths, starts and ends must have the same length")
    return list(zip(paths, starts, ends, strict=True))


def span(start: int | None, end: int | None, size: int) -> tuple[int, int]:
    """Python-slice-like [start, end) clamped to a file of `size` bytes."""
    start = 0 if start is None else (max(0, size + start) if start < 0 else min(start, size))
    end = size if end is None else (max(0, size + end) if end < 0 else min(end, size))
    return start, max(start, end)


def read_exactly(reader: RangeReader, offset: int, length: int) -> bytes:
    """Exactly `length` bytes at `offset` (looping over short reads), fewer only at end of file."""
    if length <= 0:
        return b""
    data = reader.read_range(offset, length)
    if len(data) >= length or not data:
        return data
    parts = [data]
    got = len(data)
    while got < length:
        more = reader.read_range(offset + got, length - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


async def read_ranges(
    client: Client, jobs: list[tuple[str, Any, Any]], batch_size: int, on_error: str = "return"
) -> list[Any]:
    """The bytes of each (absolute path, start, end) job through `client`'s asyncio face: each
    file opened once, `batch_size` ranges in flight; a failed range gives its exception
    (on_error="return") or raises it ("raise")."""
    readers: dict[str, asyncio.Task[Any]] = {}
    for target, _, _ in jobs:
        if target not in readers:
            readers[target] = asyncio.ensure_future(client.aopen_reader(target))

    async def one(target: str, start: int | None, end: int | None) -> bytes:
        reader = await readers[target]
        return await client.aread(reader, target, *span(start, end, reader.size))

    out = await _run_coros_in_chunks(
        [one(*job) for job in jobs], batch_size=batch_size, nofiles=True, return_exceptions=True
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


__all__ = ["range_jobs", "read_exactly", "read_ranges", "span"]
