"""The native reader's read-ahead (hopsfs_tools.fs.readahead) on the real cluster: every byte
arrives once and in order across block boundaries, seeks and closes mid read-ahead, and its
thread keeps fetching ahead for later files (no slot is lost)."""

from __future__ import annotations

import os
import threading

import pytest
from hdfs_native import WriteOptions

from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.fs.readahead import READ_AHEAD_MIN, ReadAhead

MiB = 2**20
CHUNK = READ_AHEAD_MIN + 12345  # every read crosses a 1 MiB block boundary at some point


@pytest.fixture
def fs(cluster) -> HopsFileSystem:
    return HopsFileSystem(backend="native", namenode=cluster.namenode_uri)


@pytest.fixture
def small_blocks(fs, hdfs_dir) -> tuple[str, bytes]:
    """A file of 1 MiB HDFS blocks (so reads cross blocks) and its bytes."""
    data = os.urandom(9 * MiB + 777)
    path = f"{hdfs_dir}/blocks.bin"
    with fs.client.backend.client.create(path, WriteOptions(block_size=MiB)) as out:
        out.write(data)
    return path, data


def recorded(reader: ReadAhead, monkeypatch) -> list[tuple[int, int, str]]:
    """(offset, length, thread name) of each range `reader` fetches from the native reader."""
    fetched: list[tuple[int, int, str]] = []
    fetch = reader._reader.read_range

    def recording(offset: int, length: int) -> bytes:
        fetched.append((offset, length, threading.current_thread().name))
        return fetch(offset, length)

    monkeypatch.setattr(reader._reader, "read_range", recording)
    return fetched


def test_sequential_reads_fetch_ahead_in_the_thread_and_hand_over_every_byte_once(
    fs, small_blocks, monkeypatch
):
    path, data = small_blocks
    reader = fs.client.backend.open_read(path)
    assert isinstance(reader, ReadAhead)
    fetched = recorded(reader, monkeypatch)
    got = b"".join(reader.read_range(o, CHUNK) for o in range(0, len(data), CHUNK))
    reader.close()
    assert got == data
    ranges = sorted((o, n) for o, n, _ in fetched)
    assert ranges == [(o, min(CHUNK, len(data) - o)) for o in range(0, len(data), CHUNK)]
    assert any(name.startswith("hopsfs-ahead") for *_, name in fetched), fetched


def test_random_reads_fetch_nothing_ahead(fs, small_blocks, monkeypatch):
    path, data = small_blocks
    reader = fs.client.backend.open_read(path)
    fetched = recorded(reader, monkeypatch)
    for offset in (3 * CHUNK, CHUNK, 5 * CHUNK, 2 * CHUNK):
        assert reader.read_range(offset, CHUNK) == data[offset : offset + CHUNK]
    reader.close()
    assert [(o, n) for o, n, _ in fetched] == [
        (3 * CHUNK, CHUNK),
        (CHUNK, CHUNK),
        (5 * CHUNK, CHUNK),
        (2 * CHUNK, CHUNK),
    ]


def test_seeks_and_closes_mid_read_ahead(fs, small_blocks):
    """A seek while the next range is being fetched reads the right bytes; a file closed
    mid read-ahead reads no more; closed files give their read-ahead slots back (a later file
    still fetches ahead in the thread)."""
    path, data = small_blocks
    with fs.open(path, "rb", block_size=CHUNK, cache_type="none") as f:
        assert f.read(CHUNK) + f.read(CHUNK) == data[: 2 * CHUNK]  # the next one is ahead
        f.seek(CHUNK // 2)
        assert f.read(CHUNK) == data[CHUNK // 2 : CHUNK // 2 + CHUNK]
        f.seek(7 * MiB + 1)
        assert f.read(CHUNK) + f.read(CHUNK) == data[7 * MiB + 1 : 7 * MiB + 1 + 2 * CHUNK]
        assert f.read() == data[7 * MiB + 1 + 2 * CHUNK :]
    for _ in range(4):  # more files than read-ahead slots, each closed with a fetch under way
        f = fs.open(path, "rb", block_size=CHUNK, cache_type="none")
        f.read(CHUNK), f.read(CHUNK)
        f.close()
        with pytest.raises(ValueError, match="closed"):
            f.read(CHUNK)
    with fs.open(path, "rb", block_size=CHUNK, cache_type="none") as f:
        reader = f._reader._reader  # RetryingReader -> ReadAhead
        f.read(CHUNK), f.read(CHUNK)
        assert reader._piece is not None and reader._piece.future.result(timeout=30)
        assert f.read() == data[2 * CHUNK :]


def test_block_sized_reads_skip_fsspec_readahead_copy(fs, small_blocks):
    """Reads of a block or more past the readahead cache are the reader's bytes as they are;
    smaller reads still go through the cache."""
    path, data = small_blocks
    with fs.open(path, "rb", block_size=CHUNK) as f:
        assert f.read(CHUNK) == data[:CHUNK]
        assert (f.cache.hit_count, f.cache.miss_count) == (0, 0)
        assert f.read(100) == data[CHUNK : CHUNK + 100]  # fills the cache
        assert f.read(CHUNK) == data[CHUNK + 100 : 2 * CHUNK + 100]  # from the cache
        assert (f.cache.hit_count, f.cache.miss_count) == (1, 1)
        f.seek(5 * CHUNK)
        assert f.read(2 * CHUNK) + f.read() == data[5 * CHUNK :]
        assert (f.cache.hit_count, f.cache.miss_count) == (1, 1)
