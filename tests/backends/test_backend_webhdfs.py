"""The webhdfs backend against a real cluster: what is its own (names, ranges, options, checksums,
streaming, threads, endpoints); what every backend does alike: test_backend_common.py."""

from __future__ import annotations

import errno
import hashlib
import os
import socket
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from backend_io import get, make_backend, put

from hopsfs_tools.config import ClusterConfig
from hopsfs_tools.fs.backends import webhdfs

MiB = 1 << 20


@pytest.fixture(scope="module")
def backend(cluster: Any) -> webhdfs.WebHdfsBackend:
    b = make_backend(cluster, "webhdfs")
    yield b
    b.close()


def test_connect_needs_a_webhdfs_url() -> None:
    config = ClusterConfig("hdfs://127.0.0.1:9000", None, "webhdfs", None, None, {}, 5.0)
    with pytest.raises(ValueError, match="webhdfs_url"):
        webhdfs.connect(config)


def test_special_characters_in_names(backend: webhdfs.WebHdfsBackend, hdfs_dir: str) -> None:
    name = f"{hdfs_dir}/sp ace;semi+plus%pct#hash?q=1&x=ü"
    put(backend, name, b"odd")
    assert get(backend, name) == b"odd"
    assert [i["name"] for i in backend.ls(hdfs_dir)] == [name]
    backend.rename(name, name + " moved")
    assert backend.info(name + " moved")["size"] == 3


def test_write_read_ranges(backend: webhdfs.WebHdfsBackend, hdfs_dir: str) -> None:
    data = os.urandom(3 * MiB + 123)
    put(backend, f"{hdfs_dir}/r.bin", data)
    reader = backend.open_read(f"{hdfs_dir}/r.bin")
    assert reader.size == len(data)
    assert reader.read_range(0, 10) == data[:10]
    assert reader.read_range(MiB - 5, 2 * MiB) == data[MiB - 5 : 3 * MiB - 5]
    assert reader.read_range(len(data) - 3, 100) == data[-3:]  # short only at end of file
    assert reader.read_range(len(data), 10) == b""
    assert reader.read_range(5, 0) == b""
    reader.close()
    put(backend, f"{hdfs_dir}/empty", b"")
    assert (
        backend.info(f"{hdfs_dir}/empty")["size"] == 0 and get(backend, f"{hdfs_dir}/empty") == b""
    )


def test_open_write_options_and_overwrite(backend: webhdfs.WebHdfsBackend, hdfs_dir: str) -> None:
    path = f"{hdfs_dir}/opts.bin"
    put(backend, path, b"first", replication=2, blocksize=MiB, permission=0o600)
    st = backend.info(path)
    assert (st["replication"], st["blocksize"], st["permission"]) == (2, MiB, 0o600)
    with pytest.raises(FileExistsError) as e:
        backend.open_write(path)
    assert (
        e.value.filename == path and e.value.errno == errno.EEXIST and "overwrite" in str(e.value)
    )
    put(backend, path, b"second!", overwrite=True)
    assert get(backend, path) == b"second!"


def test_data_errors(backend: webhdfs.WebHdfsBackend, hdfs_dir: str) -> None:
    with pytest.raises(FileNotFoundError) as e:
        backend.open_read(f"{hdfs_dir}/nope")
    assert e.value.filename == f"{hdfs_dir}/nope" and "does not exist" in str(e.value)
    with pytest.raises(FileNotFoundError):
        backend.info(f"{hdfs_dir}/nope")
    with pytest.raises(IsADirectoryError):
        backend.open_read(hdfs_dir)
    with pytest.raises(IsADirectoryError):
        backend.open_write(hdfs_dir, overwrite=True)
    put(backend, f"{hdfs_dir}/f", b"x")
    with pytest.raises(NotADirectoryError):  # found by the datanode: raised at write or close
        backend.open_write(f"{hdfs_dir}/f/child").close()
    with pytest.raises(ValueError, match="absolute"):
        backend.info("relative/path")


def test_rename_overwrite_replaces_the_file(backend: webhdfs.WebHdfsBackend, hdfs_dir: str) -> None:
    put(backend, f"{hdfs_dir}/a", b"A")
    put(backend, f"{hdfs_dir}/b", b"B")
    assert backend.renames_over
    backend.rename(f"{hdfs_dir}/a", f"{hdfs_dir}/b", overwrite=True)
    assert get(backend, f"{hdfs_dir}/b") == b"A" and not backend.exists(f"{hdfs_dir}/a")


def test_set_times_keeps_milliseconds(backend: webhdfs.WebHdfsBackend, hdfs_dir: str) -> None:
    path = f"{hdfs_dir}/meta"
    put(backend, path, b"data")
    backend.set_times(path, mtime=1_600_000_000.25, atime=1_600_000_100.5)
    st = backend.info(path)
    assert (st["mtime"], st["atime"]) == (1_600_000_000.25, 1_600_000_100.5)


def test_user_name_is_sent(cluster: Any, hdfs_dir: str) -> None:
    alice = make_backend(cluster, "webhdfs", user="alice")
    put(alice, f"{hdfs_dir}/by-alice", b"hi")
    assert alice.info(f"{hdfs_dir}/by-alice")["owner"] == "alice"
    alice.close()


def test_checksum(backend: webhdfs.WebHdfsBackend, hdfs_dir: str) -> None:
    data = os.urandom(MiB + 7)
    put(backend, f"{hdfs_dir}/one", data)
    put(backend, f"{hdfs_dir}/two", data)
    put(backend, f"{hdfs_dir}/three", data[:-1] + bytes([data[-1] ^ 1]))
    one = backend.checksum(f"{hdfs_dir}/one")
    assert len(one) == 56 and int(one, 16) >= 0  # bytesPerCRC, crcPerBlock, MD5: 28 bytes in hex
    assert backend.checksum(f"{hdfs_dir}/two") == one
    assert backend.checksum(f"{hdfs_dir}/three") != one
    with pytest.raises(IsADirectoryError):
        backend.checksum(hdfs_dir)
    with pytest.raises(FileNotFoundError):
        backend.checksum(f"{hdfs_dir}/missing")


def test_block_locations(backend: webhdfs.WebHdfsBackend, hdfs_dir: str) -> None:
    path = f"{hdfs_dir}/blocks"
    size = 3 * MiB + MiB // 2
    put(backend, path, os.urandom(size), blocksize=MiB)
    blocks = backend.block_locations(path)
    assert [(b["offset"], b["length"]) for b in blocks] == [
        (0, MiB),
        (MiB, MiB),
        (2 * MiB, MiB),
        (3 * MiB, MiB // 2),
    ]
    assert all(b["hosts"] and all(isinstance(h, str) and h for h in b["hosts"]) for b in blocks)
    assert [b["offset"] for b in backend.block_locations(path, MiB + 10, MiB)] == [MiB, 2 * MiB]
    assert backend.block_locations(path, size + 1) == []

    # The Hadoop 2 / HopsFS fallback agrees (the NameNode orders replicas anew on each call).
    def replicas(found: list) -> list:
        return [(b["offset"], b["length"], sorted(b["hosts"]), sorted(b["names"])) for b in found]

    assert replicas(backend._located_blocks(path, 0, size)) == replicas(blocks)
    assert all(len(b["names"]) == len(b["hosts"]) for b in blocks)
    put(backend, f"{hdfs_dir}/empty", b"")
    assert backend.block_locations(f"{hdfs_dir}/empty") == []
    with pytest.raises(FileNotFoundError):
        backend.block_locations(f"{hdfs_dir}/missing")


@pytest.mark.slow
def test_streams_large_file_in_bounded_memory(
    backend: webhdfs.WebHdfsBackend, hdfs_dir: str
) -> None:
    path, size = f"{hdfs_dir}/large.bin", 80 * MiB
    block = os.urandom(MiB)
    written = hashlib.md5()
    tracemalloc.start()
    try:
        with backend.open_write(path, blocksize=16 * MiB) as f:
            for i in range(size // MiB):
                piece = i.to_bytes(8, "big") + block[8:]
                written.update(piece)
                f.write(piece)
        _, write_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        reader = backend.open_read(path)
        read = hashlib.md5()
        for offset in range(0, reader.size, 4 * MiB):
            read.update(reader.read_range(offset, 4 * MiB))
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert reader.size == size and read.hexdigest() == written.hexdigest()
    assert write_peak < 24 * MiB, f"upload held {write_peak / MiB:.1f} MiB"
    assert read_peak < 24 * MiB, f"ranged reads held {read_peak / MiB:.1f} MiB"


def test_concurrent_use_from_8_threads(backend: webhdfs.WebHdfsBackend, hdfs_dir: str) -> None:
    shared = os.urandom(2 * MiB)
    put(backend, f"{hdfs_dir}/shared", shared)
    reader = backend.open_read(f"{hdfs_dir}/shared")

    def work(i: int) -> tuple[bytes, bytes, str]:
        data = os.urandom(256 * 1024 + i)
        path = f"{hdfs_dir}/t{i}/f"
        backend.mkdir(f"{hdfs_dir}/t{i}")
        put(backend, path, data)
        backend.rename(path, path + ".done")
        offset = i * 200_000
        return (
            get(backend, path + ".done") == data,
            reader.read_range(offset, 100_000),
            backend.ls(f"{hdfs_dir}/t{i}")[0]["name"],
        )

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(8)))
    for i, (same, chunk, name) in enumerate(results):
        assert same and chunk == shared[i * 200_000 : i * 200_000 + 100_000]
        assert name == f"{hdfs_dir}/t{i}/f.done"
    assert backend.content_summary(hdfs_dir)["file_count"] == 9


def test_unreachable_server_raises_connection_error(cluster: Any) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: connection refused
    refused = make_backend(cluster, "webhdfs", webhdfs_url=f"http://127.0.0.1:{port}", timeout=2)
    with pytest.raises(ConnectionError, match=f"127.0.0.1:{port}"):
        refused.info("/")
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        mute = make_backend(
            cluster, "webhdfs", webhdfs_url=f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=1
        )
        start = time.monotonic()
        with pytest.raises(ConnectionError, match="no answer within 1s"):
            mute.ls("/")
        assert time.monotonic() - start < 5


def test_url_may_include_the_api_prefix(cluster: Any) -> None:
    b = make_backend(cluster, "webhdfs", webhdfs_url=cluster.webhdfs_url + "/webhdfs/v1/")
    assert b.info("/")["type"] == "directory"
    b.close()


def test_non_webhdfs_endpoint_is_explained(cluster: Any) -> None:
    """A URL that is an HTTP server but not WebHDFS (the namenode's web UI root path is)."""
    b = make_backend(cluster, "webhdfs", webhdfs_url=cluster.webhdfs_url + "/nothing-here")
    with pytest.raises(FileNotFoundError, match="WebHDFS endpoint"):
        b.info("/")
