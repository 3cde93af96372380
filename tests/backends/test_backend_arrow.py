"""The arrow backend (pyarrow.fs.HadoopFileSystem over libhdfs) against a real cluster: what is its
own (what every backend does alike: test_backend_common.py)."""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from backend_io import get, make_backend, put

from hopsfs_tools.config import load_config
from hopsfs_tools.fs.backends import arrow, webhdfs
from hopsfs_tools.fs.client import Client
from hopsfs_tools.hadoop import jvm

MiB = 1 << 20


@pytest.fixture(scope="module")
def backend(cluster: Any) -> arrow.ArrowBackend:
    b = make_backend(cluster, "arrow", user=cluster.state.user)
    yield b
    b.close()


@pytest.fixture(scope="module")
def no_web(backend: arrow.ArrowBackend) -> arrow.ArrowBackend:
    """The same cluster with no WebHDFS URL: only what libhdfs itself can do."""
    b = arrow.connect(dataclasses.replace(backend.config, webhdfs_url=None))
    yield b
    b.close()


def test_libhdfs_environment_goes_to_the_jvm(backend: arrow.ArrowBackend) -> None:
    env = jvm.libhdfs_environment(backend.config.conf_dir)
    assert env["ARROW_LIBHDFS_DIR"] and "hadoop-hdfs-client" in env["CLASSPATH"]
    assert "ARROW_LIBHDFS_DIR" not in os.environ  # given to the JVM, not left in the process


def test_info_and_ls_missing(backend: arrow.ArrowBackend, hdfs_dir: str) -> None:
    for call in (backend.info, backend.ls):
        with pytest.raises(FileNotFoundError) as e:
            call(f"{hdfs_dir}/nope")
        assert e.value.filename == f"{hdfs_dir}/nope" and e.value.errno == errno.ENOENT
    put(backend, f"{hdfs_dir}/f", b"x")
    with pytest.raises(FileNotFoundError):
        backend.info(f"{hdfs_dir}/f/below-a-file")
    with pytest.raises(NotADirectoryError, match="is a file"):  # HDFS says AccessControlException
        backend.ls(f"{hdfs_dir}/f/below-a-file")
    with pytest.raises(ValueError, match="absolute"):
        backend.info("relative/path")


def test_round_trip_a_few_mib(backend: arrow.ArrowBackend, hdfs_dir: str) -> None:
    data = os.urandom(5 * MiB + 12345)
    path = f"{hdfs_dir}/big.bin"
    put(backend, path, data, blocksize=MiB, replication=2, permission=0o640)
    info = backend.info(path)
    assert (info["size"], info["blocksize"], info["replication"], info["permission"]) == (
        len(data),
        MiB,
        2,
        0o640,
    )
    reader = backend.open_read(path)
    try:
        assert reader.size == len(data)
        whole = reader.read_range(0, reader.size)
        assert hashlib.sha256(whole).hexdigest() == hashlib.sha256(data).hexdigest()
        across = reader.read_range(MiB - 100, 300)  # spans a block boundary
        assert across == data[MiB - 100 : MiB + 200]
        assert reader.read_range(len(data) - 10, 100) == data[-10:]
        assert reader.read_range(len(data), 10) == b""
        offsets = list(range(0, len(data), 700_000))
        with ThreadPoolExecutor(4) as pool:  # positional reads from threads share one handle
            parts = list(pool.map(lambda o: reader.read_range(o, 700_000), offsets))
        assert b"".join(parts) == data
    finally:
        reader.close()


def test_open_write_overwrite_and_errors(backend: arrow.ArrowBackend, hdfs_dir: str) -> None:
    path = f"{hdfs_dir}/f.txt"
    put(backend, path, b"first")
    with pytest.raises(FileExistsError, match="exists"):
        backend.open_write(path)
    put(backend, path, b"second!", overwrite=True)
    assert get(backend, path) == b"second!"
    backend.mkdir(f"{hdfs_dir}/d")
    with pytest.raises(IsADirectoryError):
        backend.open_write(f"{hdfs_dir}/d", overwrite=True)
    with pytest.raises(NotADirectoryError):
        backend.open_write(f"{hdfs_dir}/f.txt/child")
    put(backend, f"{hdfs_dir}/new/parents/x", b"p")  # like HDFS create: parents are made
    assert backend.info(f"{hdfs_dir}/new/parents")["type"] == "directory"


def test_open_read_errors(backend: arrow.ArrowBackend, hdfs_dir: str) -> None:
    with pytest.raises(FileNotFoundError):
        backend.open_read(f"{hdfs_dir}/nope")
    with pytest.raises(IsADirectoryError):
        backend.open_read(hdfs_dir)


def test_rename_over_a_file_moves_it_aside(backend: arrow.ArrowBackend, hdfs_dir: str) -> None:
    """libhdfs cannot rename over a file: the Client moves the old one aside (fs.commit)."""
    put(backend, f"{hdfs_dir}/b", b"B")
    put(backend, f"{hdfs_dir}/c", b"A")
    assert not backend.renames_over
    with pytest.raises(NotImplementedError, match="aside"):
        backend.rename(f"{hdfs_dir}/c", f"{hdfs_dir}/b", overwrite=True)
    client = Client(backend.config, backend)
    client.rename(f"{hdfs_dir}/c", f"{hdfs_dir}/b", overwrite=True)
    assert get(backend, f"{hdfs_dir}/b") == b"A" and not backend.exists(f"{hdfs_dir}/c")
    put(backend, f"{hdfs_dir}/dir/inner", b"i")
    with pytest.raises(OSError) as e:
        client.rename(f"{hdfs_dir}/b", f"{hdfs_dir}/dir", overwrite=True)
    assert e.value.errno == errno.ENOTEMPTY and backend.exists(f"{hdfs_dir}/b")
    backend.rename(f"{hdfs_dir}/dir", f"{hdfs_dir}/dir2")
    assert get(backend, f"{hdfs_dir}/dir2/inner") == b"i"
    backend.mkdir(f"{hdfs_dir}/empty")
    client.rename(f"{hdfs_dir}/b", f"{hdfs_dir}/empty", overwrite=True)  # an empty dir is replaced
    assert get(backend, f"{hdfs_dir}/empty") == b"A"
    names = sorted(i["name"].rsplit("/", 1)[1] for i in backend.ls(hdfs_dir))
    assert names == ["dir2", "empty"]  # nothing left aside by the overwrite


def test_concurrent_overwriting_renames_last_one_wins(
    backend: arrow.ArrowBackend, hdfs_dir: str
) -> None:
    """Renamers race for `target` while others have just moved it aside (several rounds:
    the windows are narrow)."""
    target = f"{hdfs_dir}/target"
    put(backend, target, b"old")
    client = Client(backend.config, backend)
    for round_ in range(5):
        sources = [f"{hdfs_dir}/src{round_}-{i}" for i in range(6)]
        for i, src in enumerate(sources):
            put(backend, src, str(i).encode() * 100)
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(lambda src: client.rename(src, target, overwrite=True), sources))
        assert get(backend, target) in {str(i).encode() * 100 for i in range(6)}
        assert [i["name"] for i in backend.ls(hdfs_dir)] == [target]  # nothing left aside


def test_content_summary_summed_from_listings_without_webhdfs(
    backend: arrow.ArrowBackend, no_web: arrow.ArrowBackend, hdfs_dir: str
) -> None:
    put(backend, f"{hdfs_dir}/a/x", b"12345", replication=2)
    put(backend, f"{hdfs_dir}/a/b/y", b"123", replication=1)
    backend.mkdir(f"{hdfs_dir}/c")
    want = {"length": 8, "file_count": 2, "directory_count": 4, "space_consumed": 13}
    exact = backend.content_summary(hdfs_dir)  # through WebHDFS
    walked = no_web.content_summary(hdfs_dir)  # summed from listings
    for summary in (exact, walked):
        assert {k: summary[k] for k in want} == want
    assert exact["quota"] == walked["quota"] == -1
    file_summary = no_web.content_summary(f"{hdfs_dir}/a/x")
    assert (
        file_summary["length"],
        file_summary["file_count"],
        file_summary["directory_count"],
    ) == (5, 1, 0)


def test_checksum_and_block_locations_via_webhdfs(
    cluster: Any, backend: arrow.ArrowBackend, no_web: arrow.ArrowBackend, hdfs_dir: str
) -> None:
    data = os.urandom(3 * MiB + 7)
    put(backend, f"{hdfs_dir}/f", data, blocksize=MiB)
    web = webhdfs.connect(
        load_config(
            namenode=cluster.namenode_uri,
            webhdfs_url=cluster.webhdfs_url,
            backend="webhdfs",
            user=cluster.state.user,
        )
    )
    try:
        assert backend.checksum(f"{hdfs_dir}/f") == web.checksum(f"{hdfs_dir}/f")
    finally:
        web.close()
    blocks = backend.block_locations(f"{hdfs_dir}/f")
    assert [b["offset"] for b in blocks] == [0, MiB, 2 * MiB, 3 * MiB]
    assert sum(b["length"] for b in blocks) == len(data) and all(b["hosts"] for b in blocks)
    for call in (no_web.checksum, no_web.block_locations):
        with pytest.raises(NotImplementedError, match="WebHDFS"):
            call(f"{hdfs_dir}/f")


def test_pyarrow_filesystem_is_exposed(backend: arrow.ArrowBackend, hdfs_dir: str) -> None:
    table = pa.table({"x": list(range(1000)), "y": [str(i) for i in range(1000)]})
    pq.write_table(table, f"{hdfs_dir}/t.parquet", filesystem=backend.pyarrow_fs)
    assert backend.info(f"{hdfs_dir}/t.parquet")["size"] > 0
    assert pq.read_table(f"{hdfs_dir}/t.parquet", filesystem=backend.pyarrow_fs).equals(table)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_namenode_is_a_connection_error(cluster: Any) -> None:
    uri = f"hdfs://127.0.0.1:{_free_port()}"
    start = time.monotonic()
    with pytest.raises(ConnectionError, match=f"{uri}.*namenode is up"):
        arrow.connect(load_config(namenode=uri, webhdfs_url=None, backend="arrow", timeout=5))
    assert time.monotonic() - start < 6


def test_namenode_not_answering_times_out(cluster: Any) -> None:
    """A port that accepts TCP but never speaks RPC: ConnectionError after config.timeout."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        uri = f"hdfs://127.0.0.1:{silent.getsockname()[1]}"
        start = time.monotonic()
        with pytest.raises(ConnectionError, match=uri):
            arrow.connect(load_config(namenode=uri, webhdfs_url=None, backend="arrow", timeout=3))
        assert time.monotonic() - start < 10


@pytest.mark.slow
def test_namenode_going_away_is_a_connection_error_not_not_found(fault_cluster: Any) -> None:
    """pyarrow alone reports a dead namenode as FileType.NotFound; we must say what is wrong."""
    cluster = fault_cluster
    hdfs_dir = ""  # the root of its own cluster
    b = make_backend(cluster, "arrow", webhdfs_url=None, timeout=10)
    try:
        put(b, f"{hdfs_dir}/f", b"x")
        cluster.stop("namenode")
        try:
            for call in (b.info, b.ls, b.open_read, b.rm):
                with pytest.raises(ConnectionError, match=cluster.namenode_uri):
                    call(f"{hdfs_dir}/f")
        finally:
            cluster.start("namenode")
            cluster.wait_ready(120)
        assert b.info(f"{hdfs_dir}/f")["size"] == 1
    finally:
        b.close()


def test_closed_backend_raises_instead_of_crashing(cluster: Any) -> None:
    b = make_backend(cluster, "arrow")
    assert b.info("/")["type"] == "directory"
    b.close()
    b.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        b.info("/")
