"""HopsFileSystem and the native backend against the real test cluster."""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import replace

import fsspec
import pytest

from hopsfs_tools.config import load_config
from hopsfs_tools.config.project import Project
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.fs.backends import native
from hopsfs_tools.fs.commit import TEMP_MARKER


@pytest.fixture
def fs(cluster) -> HopsFileSystem:
    return HopsFileSystem(
        backend="native", namenode=cluster.namenode_uri, webhdfs_url=cluster.webhdfs_url
    )


def names(fs: HopsFileSystem, path: str) -> list[str]:
    return sorted(os.path.basename(p) for p in fs.ls(path, detail=False))


def closed_port() -> int:
    """A local TCP port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- paths, registration, instances -----------------------------------------------------------


def test_paths_resolve_against_project_or_root(cluster, monkeypatch):
    plain = HopsFileSystem(namenode=cluster.namenode_uri)
    assert plain.resolve("hopsfs://Resources/x.csv") == "/Resources/x.csv"
    assert plain._strip_protocol("hopsfs:///abs/x/") == "/abs/x"
    assert plain._strip_protocol(f"{cluster.namenode_uri}/a/../b") == "/b"
    demo = HopsFileSystem(namenode=cluster.namenode_uri, project=Project("demo", "demo__alice"))
    assert demo.resolve("hopsfs://Resources/x.csv") == "/Projects/demo/Resources/x.csv"
    assert demo.resolve("Resources/./x.csv") == "/Projects/demo/Resources/x.csv"
    assert demo.resolve("/abs") == "/abs"
    # _strip_protocol (also on the class: fsspec.open / pandas URL parsing) only strips the
    # scheme, whatever the environment's project: each instance resolves against its own
    monkeypatch.setenv("HOPSFS_PROJECT", "envproj")
    for strip in (HopsFileSystem._strip_protocol, demo._strip_protocol):
        assert strip("hopsfs://Resources/./x.csv/") == "Resources/x.csv"
        assert strip("Resources/x.csv") == "Resources/x.csv"
        assert strip("hopsfs://") == ""
        assert strip("hopsfs:///abs/x/") == "/abs/x"
        assert strip(f"{cluster.namenode_uri}/a/../b") == "/b"
    assert demo.unstrip_protocol("/Projects/demo/x") == "hopsfs:///Projects/demo/x"


def test_registered_protocol_and_instance_cache(cluster, monkeypatch):
    cls = fsspec.get_filesystem_class("hopsfs")
    assert cls is HopsFileSystem
    a = fsspec.filesystem("hopsfs", namenode=cluster.namenode_uri)
    assert fsspec.filesystem("hopsfs", namenode=cluster.namenode_uri) is a
    assert (
        fsspec.filesystem(
            "hopsfs",
            namenode=cluster.namenode_uri,
            backend="webhdfs",
            webhdfs_url=cluster.webhdfs_url,
        )
        is not a
    )
    assert fsspec.filesystem("hopsfs", namenode=cluster.namenode_uri, project="p1") is not a
    monkeypatch.setenv("HOPSFS_PROJECT", "other")
    b = fsspec.filesystem("hopsfs", namenode=cluster.namenode_uri)
    assert b is not a and b.project is not None and b.project.name == "other"


def test_import_is_light():
    code = "import sys, hopsfs_tools.fs; print('pyarrow' in sys.modules, 'pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# -- metadata ---------------------------------------------------------------------------------


def test_info_ls_and_modified(fs, hdfs_dir):
    fs.pipe(f"{hdfs_dir}/a.csv", b"x,y\n1,2\n")
    fs.makedirs(f"{hdfs_dir}/sub")
    info = fs.info(f"hopsfs://{hdfs_dir}/a.csv")
    assert info["name"] == f"{hdfs_dir}/a.csv" and info["type"] == "file" and info["size"] == 8
    assert abs(info["mtime"] - time.time()) < 300 and info["replication"] >= 1
    assert info["permission"] == 0o644 and info["owner"]
    listing = {e["name"]: e["type"] for e in fs.ls(hdfs_dir)}
    assert listing == {f"{hdfs_dir}/a.csv": "file", f"{hdfs_dir}/sub": "directory"}
    assert fs.ls(f"{hdfs_dir}/a.csv", detail=False) == [f"{hdfs_dir}/a.csv"]
    assert fs.modified(f"{hdfs_dir}/a.csv").timestamp() == pytest.approx(info["mtime"])
    assert fs.isdir(f"{hdfs_dir}/sub") and fs.isfile(f"{hdfs_dir}/a.csv")
    assert not fs.exists(f"{hdfs_dir}/nope")


def test_find_glob_walk_du(fs, hdfs_dir):
    fs.pipe(
        {f"{hdfs_dir}/d/x.txt": b"12", f"{hdfs_dir}/d/e/y.txt": b"345", f"{hdfs_dir}/z.csv": b"6"}
    )
    assert fs.find(hdfs_dir) == [
        f"{hdfs_dir}/d/e/y.txt",
        f"{hdfs_dir}/d/x.txt",
        f"{hdfs_dir}/z.csv",
    ]
    assert fs.glob(f"{hdfs_dir}/**/*.txt") == [f"{hdfs_dir}/d/e/y.txt", f"{hdfs_dir}/d/x.txt"]
    assert fs.glob(f"hopsfs://{hdfs_dir}/*.csv") == [f"{hdfs_dir}/z.csv"]
    walked = {root: sorted(files) for root, _, files in fs.walk(hdfs_dir)}
    assert walked[f"{hdfs_dir}/d"] == ["x.txt"] and walked[f"{hdfs_dir}/d/e"] == ["y.txt"]
    assert fs.du(hdfs_dir) == 6
    assert fs.du(hdfs_dir, total=False)[f"{hdfs_dir}/d/e/y.txt"] == 3
    summary = fs.content_summary(hdfs_dir)
    assert (summary["length"], summary["file_count"], summary["directory_count"]) == (6, 3, 3)
    assert summary["quota"] == -1


def test_chmod_chown_replication_touch(fs, hdfs_dir):
    path = f"{hdfs_dir}/f"
    fs.touch(path)
    assert fs.info(path)["size"] == 0
    fs.chmod(path, 0o600)
    assert fs.info(path)["permission"] == 0o600
    fs.chown(path, "alice", "analysts")  # the tests run as the HDFS superuser
    assert (fs.info(path)["owner"], fs.info(path)["group"]) == ("alice", "analysts")
    fs.set_replication(path, 2)
    assert fs.info(path)["replication"] == 2
    before = fs.info(path)["mtime"]
    time.sleep(0.01)
    fs.touch(path, truncate=False)
    assert fs.info(path)["mtime"] >= before
    fs.pipe(path, b"data")
    fs.touch(path)  # truncate=True empties it
    assert fs.cat(path) == b""


def test_checksum_and_block_locations(fs, hdfs_dir, cluster):
    data = os.urandom(3 * 2**20)
    fs.pipe(f"{hdfs_dir}/a", data)
    fs.pipe(f"{hdfs_dir}/b", data)
    fs.pipe(f"{hdfs_dir}/c", data[:-1] + b"!")
    assert (
        fs.checksum(f"{hdfs_dir}/a") == fs.checksum(f"{hdfs_dir}/b") != fs.checksum(f"{hdfs_dir}/c")
    )
    blocks = fs.block_locations(f"{hdfs_dir}/a")
    assert sum(b["length"] for b in blocks) == len(data) and blocks[0]["offset"] == 0
    assert all(b["hosts"] for b in blocks)


def test_checksum_without_webhdfs_says_what_to_do(cluster, hdfs_dir):
    config = replace(load_config(namenode=cluster.namenode_uri, backend="native"), webhdfs_url=None)
    backend = native.connect(config)
    try:
        with pytest.raises(NotImplementedError, match="WebHDFS"):
            backend.checksum(hdfs_dir)
        with pytest.raises(NotImplementedError, match="WebHDFS"):
            backend.block_locations(hdfs_dir)
    finally:
        backend.close()


# -- namespace --------------------------------------------------------------------------------


def test_mkdir_makedirs_rmdir(fs, hdfs_dir):
    fs.mkdir(f"{hdfs_dir}/a/b/c")
    assert fs.isdir(f"{hdfs_dir}/a/b/c")
    with pytest.raises(FileExistsError):
        fs.mkdir(f"{hdfs_dir}/a")
    with pytest.raises(FileExistsError):
        fs.makedirs(f"{hdfs_dir}/a")
    fs.makedirs(f"{hdfs_dir}/a", exist_ok=True)
    with pytest.raises(FileNotFoundError):
        fs.mkdir(f"{hdfs_dir}/x/y", create_parents=False)
    with pytest.raises(OSError) as exc:
        fs.rmdir(f"{hdfs_dir}/a/b")
    assert exc.value.errno == errno.ENOTEMPTY
    fs.rmdir(f"{hdfs_dir}/a/b/c")
    assert not fs.exists(f"{hdfs_dir}/a/b/c")


def test_rm_variants(fs, hdfs_dir):
    fs.pipe({f"{hdfs_dir}/t/1": b"1", f"{hdfs_dir}/t/d/2": b"2", f"{hdfs_dir}/t/d/e/3": b"3"})
    with pytest.raises(OSError, match="recursive=True") as exc:
        fs.rm(f"{hdfs_dir}/t")
    assert exc.value.errno == errno.ENOTEMPTY and fs.exists(f"{hdfs_dir}/t/1")
    fs.rm(f"{hdfs_dir}/t", recursive=True, maxdepth=2)  # keeps what lies deeper than maxdepth
    assert fs.find(f"{hdfs_dir}/t") == [f"{hdfs_dir}/t/d/e/3"]
    fs.rm(f"{hdfs_dir}/t", recursive=True)
    assert not fs.exists(f"{hdfs_dir}/t")
    fs.pipe({f"{hdfs_dir}/g1.txt": b"", f"{hdfs_dir}/g2.txt": b"", f"{hdfs_dir}/keep.csv": b""})
    fs.rm(f"{hdfs_dir}/g*.txt")
    assert names(fs, hdfs_dir) == ["keep.csv"]
    fs.rm_file(f"{hdfs_dir}/keep.csv")
    assert names(fs, hdfs_dir) == []
    fs.mkdir(f"{hdfs_dir}/dir")
    with pytest.raises(IsADirectoryError):
        fs.rm_file(f"{hdfs_dir}/dir")
    with pytest.raises(FileNotFoundError, match="nope"):
        fs.rm(f"{hdfs_dir}/nope")


def test_mv_renames_on_the_namenode(fs, hdfs_dir):
    fs.pipe(f"{hdfs_dir}/a", b"A")
    fs.mv(f"{hdfs_dir}/a", f"{hdfs_dir}/b")
    assert names(fs, hdfs_dir) == ["b"]
    fs.pipe(f"{hdfs_dir}/c", b"C")
    fs.mv(f"{hdfs_dir}/c", f"{hdfs_dir}/b")  # onto a file: replaces it, like POSIX rename
    assert fs.cat(f"{hdfs_dir}/b") == b"C"
    fs.pipe(f"{hdfs_dir}/d", b"D")
    with pytest.raises(FileExistsError, match=f"{hdfs_dir}/b"):
        fs.mv(f"{hdfs_dir}/d", f"{hdfs_dir}/b", overwrite=False)
    fs.pipe({f"{hdfs_dir}/tree/x/1": b"1", f"{hdfs_dir}/tree/2": b"2"})
    fs.mkdir(f"{hdfs_dir}/into")
    fs.mv(f"{hdfs_dir}/tree", f"{hdfs_dir}/into", recursive=True)  # into an existing directory
    assert fs.find(f"{hdfs_dir}/into") == [f"{hdfs_dir}/into/tree/2", f"{hdfs_dir}/into/tree/x/1"]
    fs.mv([f"{hdfs_dir}/b", f"{hdfs_dir}/d"], f"{hdfs_dir}/into/")
    assert names(fs, f"{hdfs_dir}/into") == ["b", "d", "tree"]
    with pytest.raises(FileNotFoundError):
        fs.mv(f"{hdfs_dir}/missing", f"{hdfs_dir}/x")


# -- data -------------------------------------------------------------------------------------


def test_cat_file_ranges(fs, hdfs_dir):
    data = bytes(range(256)) * 1000
    fs.pipe(f"{hdfs_dir}/r", data)
    path = f"{hdfs_dir}/r"
    assert fs.cat_file(path) == data
    assert fs.cat_file(path, start=1000, end=1010) == data[1000:1010]
    assert fs.cat_file(path, start=-10) == data[-10:]
    assert fs.cat_file(path, start=5, end=-5) == data[5:-5]
    assert fs.cat_file(path, start=len(data) + 5) == b""
    assert fs.cat_ranges([path, path], [0, 100], [3, 103]) == [data[:3], data[100:103]]
    assert fs.cat_ranges([path], [5], [-5]) == [data[5:-5]]
    missing = f"{hdfs_dir}/missing"
    got = fs.cat_ranges([path, missing, path], [0, 0, -3], [2, 1, None])
    assert got[0] == data[:2] and got[2] == data[-3:]
    assert isinstance(got[1], FileNotFoundError) and missing in str(got[1])
    with pytest.raises(FileNotFoundError, match="missing"):
        fs.cat_ranges([path, missing], [0, 0], [1, 1], on_error="raise")
    with pytest.raises(ValueError, match="same length"):
        fs.cat_ranges([path, path], [0], [1, 2])
    assert fs.read_block(path, 10, 20) == data[10:30]


def test_buffered_reads_are_ranged(fs, hdfs_dir):
    data = os.urandom(20 * 2**20)
    fs.pipe(f"{hdfs_dir}/big", data)
    with fs.open(f"{hdfs_dir}/big", "rb") as f:
        assert f.blocksize == 8 * 2**20 and f.size == len(data)
        f.seek(15 * 2**20)
        assert f.read(10) == data[15 * 2**20 : 15 * 2**20 + 10]
        # readahead holds about one block, never the whole file
        assert len(f.cache.cache) <= f.blocksize + 10
        f.seek(-5, os.SEEK_END)
        assert f.read() == data[-5:]
        f.seek(0)
        assert f.read(3) == data[:3] and f.tell() == 3
    with fs.open(f"{hdfs_dir}/big", "rb", block_size=2**20) as f:
        chunks = iter(lambda: f.read(3 * 2**20 + 7), b"")
        assert b"".join(chunks) == data


def test_text_mode_round_trip(fs, hdfs_dir):
    with fs.open(f"{hdfs_dir}/t.txt", "w", encoding="utf-8") as f:
        f.write("héllo\nwörld\n")
    with fs.open(f"{hdfs_dir}/t.txt", "r", encoding="utf-8") as f:
        assert f.read().splitlines() == ["héllo", "wörld"]


def test_write_is_atomic(fs, hdfs_dir):
    target = f"{hdfs_dir}/model.bin"
    with fs.open(target, "wb") as f:
        f.write(b"part 1")
        f.flush(force=False)
        assert not fs.exists(target)  # readers never see a partial file
        raw = [os.path.basename(e["name"]) for e in fs.backend.ls(hdfs_dir)]
        temp = [n for n in raw if TEMP_MARKER in n]
        assert temp and temp[0].startswith(".model.bin")
        assert names(fs, hdfs_dir) == []  # ls hides the in-progress write
        f.write(b", part 2")
    assert fs.cat(target) == b"part 1, part 2"
    assert names(fs, hdfs_dir) == ["model.bin"]


def test_exception_inside_with_leaves_target_untouched(fs, hdfs_dir):
    target = f"{hdfs_dir}/data.csv"
    fs.pipe(target, b"original")
    for mode in ("wb", "w"):
        with pytest.raises(RuntimeError, match="boom"), fs.open(target, mode) as f:
            f.write(b"partial" if mode == "wb" else "partial")
            raise RuntimeError("boom")
        assert fs.cat(target) == b"original"
        assert names(fs, hdfs_dir) == ["data.csv"]  # the temporary file is gone too


def test_transaction_commits_at_the_end(fs, hdfs_dir):
    with fs.transaction:
        fs.pipe_file(f"{hdfs_dir}/t1", b"1")
        with fs.open(f"{hdfs_dir}/t2", "wb") as f:
            f.write(b"2")
        assert not fs.exists(f"{hdfs_dir}/t1") and not fs.exists(f"{hdfs_dir}/t2")
    assert fs.cat([f"{hdfs_dir}/t1", f"{hdfs_dir}/t2"]) == {
        f"{hdfs_dir}/t1": b"1",
        f"{hdfs_dir}/t2": b"2",
    }
    with pytest.raises(RuntimeError), fs.transaction:
        fs.pipe_file(f"{hdfs_dir}/t3", b"3")
        raise RuntimeError("roll back")
    assert names(fs, hdfs_dir) == ["t1", "t2"]


def test_big_write_spans_blocks_and_flushes(fs, hdfs_dir):
    data = os.urandom(20 * 2**20 + 123)
    with fs.open(f"{hdfs_dir}/big", "wb", block_size=4 * 2**20) as f:
        for i in range(0, len(data), 3 * 2**20):
            f.write(data[i : i + 3 * 2**20])
        assert f.buffer.tell() < 4 * 2**20  # buffered data is streamed out, not held
    assert fs.cat(f"{hdfs_dir}/big") == data


@pytest.mark.parametrize("backend", ["native", "arrow", "webhdfs"])
def test_whole_block_writes_skip_the_buffer_and_keep_order(cluster, hdfs_dir, backend):
    """A write of at least block_size bytes into an empty buffer goes straight to the upload
    (no copy into the buffer); mixed with small writes the bytes keep their order."""
    fs = HopsFileSystem(
        backend=backend,
        namenode=cluster.namenode_uri,
        webhdfs_url=cluster.webhdfs_url,
        skip_instance_cache=True,
    )
    block = 2**20
    pieces = [os.urandom(n) for n in (3 * block, 100, block, 5, 2 * block + 7, block)]
    with fs.open(f"{hdfs_dir}/mixed", "wb", block_size=block) as f:
        f.write(pieces[0])
        assert f.buffer.tell() == 0 and f.tell() == len(pieces[0])  # sent, not buffered
        for piece in pieces[1:]:
            f.write(piece)
        assert f.tell() == sum(map(len, pieces))
    assert fs.cat_file(f"{hdfs_dir}/mixed") == b"".join(pieces)
    assert fs.ls(hdfs_dir, detail=False) == [f"{hdfs_dir}/mixed"]  # committed, no temp file


def test_exclusive_create_and_append(fs, hdfs_dir):
    path = f"{hdfs_dir}/x"
    with fs.open(path, "xb") as f:
        f.write(b"one")
    with pytest.raises(FileExistsError):
        fs.open(path, "xb")
    with pytest.raises(FileExistsError):
        fs.pipe_file(path, b"two", mode="create")
    with fs.open(path, "ab") as f:
        f.write(b"+two")
    assert fs.cat(path) == b"one+two"
    with fs.open(f"{hdfs_dir}/new", "ab") as f:
        f.write(b"fresh")
    assert fs.cat(f"{hdfs_dir}/new") == b"fresh"


def test_write_options(fs, hdfs_dir):
    with fs.open(f"{hdfs_dir}/r2", "wb", replication=2, permission=0o600) as f:
        f.write(b"x")
    info = fs.info(f"{hdfs_dir}/r2")
    assert (info["replication"], info["permission"]) == (2, 0o600)


def test_cp_file_and_copy(fs, hdfs_dir):
    data = os.urandom(9 * 2**20)
    fs.pipe(f"{hdfs_dir}/src/a", data)
    fs.pipe(f"{hdfs_dir}/src/sub/b", b"b")
    fs.cp_file(f"{hdfs_dir}/src/a", f"{hdfs_dir}/a2")
    assert fs.cat(f"{hdfs_dir}/a2") == data
    fs.copy(f"{hdfs_dir}/src", f"{hdfs_dir}/dst", recursive=True)
    assert fs.find(f"{hdfs_dir}/dst") == [f"{hdfs_dir}/dst/a", f"{hdfs_dir}/dst/sub/b"]
    assert fs.checksum(f"{hdfs_dir}/dst/a") == fs.checksum(f"{hdfs_dir}/src/a")


def test_put_get_round_trip(fs, hdfs_dir, tmp_path):
    local = tmp_path / "up"
    (local / "sub").mkdir(parents=True)
    (local / "a.bin").write_bytes(os.urandom(2**20))
    (local / "sub" / "b.txt").write_text("b")
    fs.put(str(local), f"{hdfs_dir}/up", recursive=True)
    assert fs.find(f"{hdfs_dir}/up") == [f"{hdfs_dir}/up/a.bin", f"{hdfs_dir}/up/sub/b.txt"]
    down = tmp_path / "down"
    fs.get(f"{hdfs_dir}/up", str(down), recursive=True)
    assert (down / "a.bin").read_bytes() == (local / "a.bin").read_bytes()
    assert (down / "sub" / "b.txt").read_text() == "b"
    fs.put_file(str(local / "a.bin"), f"{hdfs_dir}/single.bin")
    fs.get_file(f"{hdfs_dir}/single.bin", str(tmp_path / "single.bin"))
    assert (tmp_path / "single.bin").read_bytes() == (local / "a.bin").read_bytes()


@pytest.mark.slow
def test_many_small_files_run_concurrently(fs, hdfs_dir, monkeypatch):
    """pipe/cat of many files run `batch_size` at a time in a thread pool, all content intact.

    (How much faster that is lives in benchmarks/bench_fs.py, not in a timed test.)
    """
    files = {f"{hdfs_dir}/many/f{i:05d}": b"%d" % i for i in range(200)}
    threads: set[str] = set()
    backend = fs.backend
    for name in ("open_write", "open_read"):
        real = getattr(backend, name)

        def recording(*args, _real=real, **kwargs):
            threads.add(threading.current_thread().name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(backend, name, recording)
    fs.pipe(files)
    writers = {t for t in threads if t.startswith("hopsfs")}
    threads.clear()
    assert fs.cat(list(files)) == files
    readers = {t for t in threads if t.startswith("hopsfs")}
    assert len(writers) > 1 and len(readers) > 1, (writers, readers)
    assert sorted(fs.ls(f"{hdfs_dir}/many", detail=False)) == sorted(files)


def test_cat_on_error_modes(fs, hdfs_dir):
    fs.pipe(f"{hdfs_dir}/ok", b"ok")
    paths = [f"{hdfs_dir}/ok", f"{hdfs_dir}/missing"]
    with pytest.raises(FileNotFoundError):
        fs.cat(paths)
    assert fs.cat(paths, on_error="omit") == {f"{hdfs_dir}/ok": b"ok"}
    out = fs.cat(paths, on_error="return")
    assert isinstance(out[f"{hdfs_dir}/missing"], FileNotFoundError)


# -- errors -----------------------------------------------------------------------------------


def test_error_mapping(fs, hdfs_dir):
    fs.pipe(f"{hdfs_dir}/file", b"x")
    fs.mkdir(f"{hdfs_dir}/dir")
    with pytest.raises(FileNotFoundError, match=f"{hdfs_dir}/missing") as missing:
        fs.open(f"{hdfs_dir}/missing")
    assert missing.value.filename == f"{hdfs_dir}/missing" and "check the path" in str(
        missing.value
    )
    with pytest.raises(FileNotFoundError):
        fs.info(f"{hdfs_dir}/missing")
    with pytest.raises(FileNotFoundError):
        fs.ls(f"{hdfs_dir}/missing")
    with pytest.raises(IsADirectoryError):
        fs.open(f"{hdfs_dir}/dir", "rb")
    with pytest.raises(IsADirectoryError):
        fs.open(f"{hdfs_dir}/dir", "wb")
    with pytest.raises(NotADirectoryError):
        fs.ls(f"{hdfs_dir}/file/child")
    with pytest.raises(NotADirectoryError):
        fs.pipe(f"{hdfs_dir}/file/child", b"x")
    with pytest.raises(FileExistsError):
        fs.mkdir(f"{hdfs_dir}/file")
    with pytest.raises(FileExistsError):
        fs.makedirs(f"{hdfs_dir}/file", exist_ok=True)
    with pytest.raises(FileExistsError):
        fs.backend.rename(f"{hdfs_dir}/dir", f"{hdfs_dir}/file")
    with pytest.raises(FileNotFoundError):
        fs.backend.rename(f"{hdfs_dir}/missing", f"{hdfs_dir}/x")
    with pytest.raises(OSError) as notempty:
        fs.pipe(f"{hdfs_dir}/dir/inner", b"x")
        fs.rm(f"{hdfs_dir}/dir")
    assert notempty.value.errno == errno.ENOTEMPTY


def test_permission_denied_names_the_path(cluster, hdfs_dir, fs):
    fs.mkdir(f"{hdfs_dir}/private")
    fs.chmod(f"{hdfs_dir}/private", 0o700)
    other = HopsFileSystem(
        backend="webhdfs",
        user="mallory",
        namenode=cluster.namenode_uri,
        webhdfs_url=cluster.webhdfs_url,
    )
    with pytest.raises(PermissionError, match="private"):
        other.pipe(f"{hdfs_dir}/private/x", b"x")


def test_native_permission_denied_as_another_user(cluster, hdfs_dir, fs):
    """The native backend acting as user=mallory (in its own process: one user per process)."""
    fs.mkdir(f"{hdfs_dir}/private")
    fs.chmod(f"{hdfs_dir}/private", 0o700)
    code = (
        "import sys\n"
        "from hopsfs_tools.fs import HopsFileSystem\n"
        "fs = HopsFileSystem(backend='native', user='mallory', namenode=sys.argv[1])\n"
        "fs.pipe(sys.argv[2] + '/mine', b'x')\n"
        "print(fs.info(sys.argv[2] + '/mine')['owner'])\n"
        "try:\n"
        "    fs.pipe(sys.argv[2] + '/private/x', b'x')\n"
        "except PermissionError as e:\n"
        "    print(type(e).__name__, e.filename, e.strerror)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "HADOOP_USER_NAME"}
    out = subprocess.run(
        [sys.executable, "-c", code, cluster.namenode_uri, hdfs_dir],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    ).stdout.splitlines()
    assert out[0] == "mallory"
    assert out[1].startswith(
        f"PermissionError {hdfs_dir}/private/x Permission denied: user=mallory"
    )


def test_unreachable_namenode_fails_fast():
    fs = HopsFileSystem(
        backend="native",
        namenode=f"hdfs://127.0.0.1:{closed_port()}",
        timeout=3,
        skip_instance_cache=True,
    )
    start = time.monotonic()
    with pytest.raises(ConnectionError, match="cannot reach the HDFS namenode"):
        fs.ls("/")
    assert time.monotonic() - start < 3


def test_namenode_going_away_raises_within_timeout(cluster):
    """A namenode that refuses connections after the backend connected: bounded retries."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    fs = HopsFileSystem(
        backend="native", namenode=f"hdfs://127.0.0.1:{port}", timeout=2, skip_instance_cache=True
    )
    backend = fs.backend  # TCP check passes while the socket listens
    listener.close()
    start = time.monotonic()
    with pytest.raises(ConnectionError):
        backend.info("/")
    assert time.monotonic() - start < 2 * 2


def test_ha_nameservice_uses_the_live_namenode(cluster, hdfs_dir):
    """hdfs://<nameservice> with HA properties: the dead first namenode is skipped."""
    live = cluster.namenode_uri.split("//", 1)[1]
    props = {
        "dfs.nameservices": "ns1",
        "dfs.ha.namenodes.ns1": "nn1,nn2",
        "dfs.namenode.rpc-address.ns1.nn1": f"127.0.0.1:{closed_port()}",
        "dfs.namenode.rpc-address.ns1.nn2": live,
        "dfs.client.failover.proxy.provider.ns1": (
            "org.apache.hadoop.hdfs.server.namenode.ha.ConfiguredFailoverProxyProvider"
        ),
    }
    config = load_config(namenode=cluster.namenode_uri, backend="native")
    backend = native.connect(replace(config, namenode_uri="hdfs://ns1", properties=props))
    try:
        assert backend.info(hdfs_dir)["type"] == "directory"
    finally:
        backend.close()


def test_native_user_is_per_process(cluster):
    """hdfs-native takes its user from HADOOP_USER_NAME process-wide: a second user is refused."""
    before = os.environ.get("HADOOP_USER_NAME")
    first = native.connect(load_config(namenode=cluster.namenode_uri, backend="native"))
    try:
        other = f"someone-{uuid.uuid4().hex[:6]}"
        with pytest.raises(ValueError, match="backend='webhdfs'"):
            native.connect(load_config(namenode=cluster.namenode_uri, backend="native", user=other))
    finally:
        first.close()
    assert os.environ.get("HADOOP_USER_NAME") == before


def test_close_releases_and_reconnects(fs, hdfs_dir):
    fs.pipe(f"{hdfs_dir}/a", b"a")
    backend = fs.backend
    fs.close()
    assert fs.cat(f"{hdfs_dir}/a") == b"a" and fs.backend is not backend


def test_pickle_round_trip(fs, hdfs_dir):
    import pickle

    fs.pipe(f"{hdfs_dir}/p", b"pickled")
    clone = pickle.loads(pickle.dumps(fs))
    assert clone.cat(f"{hdfs_dir}/p") == b"pickled"
    with fs.open(f"{hdfs_dir}/p") as f:
        again = pickle.loads(pickle.dumps(f))
        assert again.read() == b"pickled"


def test_concurrent_writers_to_one_target(fs, hdfs_dir):
    target = f"{hdfs_dir}/race"
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            fs.pipe_file(target, str(i).encode() * 1000)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    content = fs.cat(target)
    assert len(content) == 1000 and len(set(content)) == 1  # one whole version, never a mix
    assert names(fs, hdfs_dir) == ["race"]


@pytest.mark.parametrize("backend", ["native", "arrow", "webhdfs"])
def test_acl_entries_round_trip(cluster, hdfs_dir, backend):
    """ACLs through every backend (native: RPC; arrow: delegated to WebHDFS; webhdfs: REST)."""
    fs = HopsFileSystem(
        backend=backend, namenode=cluster.namenode_uri, webhdfs_url=cluster.webhdfs_url
    )
    fs.makedirs(f"{hdfs_dir}/shared", exist_ok=True)
    fs.modify_acl_entries(f"{hdfs_dir}/shared", ["user:acl__bob:r-x", "default:user:acl__bob:r-x"])
    assert "user:acl__bob:r-x" in fs.acl_entries(f"{hdfs_dir}/shared")
    fs.pipe(f"{hdfs_dir}/shared/f", b"x")  # the default entry reaches new children
    assert any(e.startswith("user:acl__bob:") for e in fs.acl_entries(f"{hdfs_dir}/shared/f"))
    with pytest.raises(FileNotFoundError, match="missing"):
        fs.acl_entries(f"{hdfs_dir}/missing")


FORK_AFTER_HDFS_NATIVE_FSSPEC = """
import os, subprocess, sys
import fsspec
import hopsfs_tools.fs  # installs the at-fork hook
host, port = sys.argv[1], int(sys.argv[2])
from hdfs_native.fsspec import HdfsFileSystem  # hdfs-native's own fsspec class ("hdfs" is ours)
h = HdfsFileSystem(host=host, port=port)
h.pipe_file(sys.argv[3], os.urandom(3 << 20))
assert len(h.cat_file(sys.argv[3])) == 3 << 20
del h  # now only fsspec's instance cache holds the client, as after pd.read_csv("hdfs://...")
subprocess.run(["true"], preexec_fn=lambda: None, check=True)  # a fork running at-fork hooks
print("forked")
"""


def test_fork_after_hdfs_native_fsspec_use_does_not_hang(cluster, hdfs_dir):
    """fsspec's after-fork hook clears every fsspec class's cache in the child; freeing an
    hdfs-native client there blocked forever (pyspark's gateway launch forks like this)."""
    host, port = cluster.namenode_uri.split("//")[1].rsplit(":", 1)
    out = subprocess.run(
        [sys.executable, "-c", FORK_AFTER_HDFS_NATIVE_FSSPEC, host, port, f"{hdfs_dir}/f.bin"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "forked"
