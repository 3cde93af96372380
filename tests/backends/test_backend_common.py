"""What every raw backend does alike (the Backend protocol), run on each against a real cluster:
metadata, namespace changes, appends, permissions and their errors."""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from backend_io import get, make_backend, put

from hopsfs_tools.fs.backends.base import Backend

MiB = 1 << 20
# arrow acts as the cluster's user, as a Hopsworks job does; webhdfs as the default user
USERS = {"arrow": lambda cluster: {"user": cluster.state.user}, "webhdfs": lambda cluster: {}}


@pytest.fixture(scope="module", params=sorted(USERS))
def backend(request: pytest.FixtureRequest, cluster: Any) -> Iterator[Any]:
    b = make_backend(cluster, request.param, **USERS[request.param](cluster))
    yield b
    b.close()


@pytest.fixture(scope="module")
def stranger(cluster: Any, backend: Any) -> Iterator[Any]:
    """The same backend acting as an unprivileged user."""
    b = make_backend(cluster, backend.name, user="stranger")
    yield b
    b.close()


def test_implements_backend_protocol(backend: Any, request: pytest.FixtureRequest) -> None:
    assert isinstance(backend, Backend)
    assert backend.name == request.node.callspec.params["backend"]


def test_mkdir_info_ls(backend: Any, hdfs_dir: str) -> None:
    before = time.time()
    backend.mkdir(f"{hdfs_dir}/a/b", permission=0o750)
    put(backend, f"{hdfs_dir}/a/f.txt", b"hello")
    d = backend.info(f"{hdfs_dir}/a/b/")
    assert d["name"] == f"{hdfs_dir}/a/b" and d["type"] == "directory" and d["size"] == 0
    assert d["permission"] == 0o750 and d["replication"] == 0 and d["blocksize"] == 0
    assert isinstance(d["mtime"], float) and before - 5 < d["mtime"] < time.time() + 5
    f = backend.info(f"{hdfs_dir}/a/f.txt")
    assert (f["type"], f["size"], f["owner"]) == ("file", 5, backend.user)
    assert f["replication"] >= 1 and f["blocksize"] > 0 and f["group"]
    assert isinstance(f["permission"], int)
    listing = sorted(backend.ls(f"{hdfs_dir}/a"), key=lambda i: i["name"])
    assert [(i["name"], i["type"]) for i in listing] == [
        (f"{hdfs_dir}/a/b", "directory"),
        (f"{hdfs_dir}/a/f.txt", "file"),
    ]
    assert backend.ls(f"{hdfs_dir}/a/f.txt") == [f]
    backend.mkdir(f"{hdfs_dir}/a/b")  # existing directory: no error, as in HDFS
    assert backend.ls(f"{hdfs_dir}/a/b") == []
    assert backend.info("/")["name"] == "/" and backend.info("/")["type"] == "directory"


def test_mkdir_errors(backend: Any, hdfs_dir: str) -> None:
    put(backend, f"{hdfs_dir}/file", b"x")
    with pytest.raises(FileNotFoundError, match="does not exist") as e:
        backend.mkdir(f"{hdfs_dir}/missing/child", parents=False)
    assert e.value.filename == f"{hdfs_dir}/missing/child"
    with pytest.raises(NotADirectoryError):
        backend.mkdir(f"{hdfs_dir}/file/child", parents=False)
    with pytest.raises(NotADirectoryError):
        backend.mkdir(f"{hdfs_dir}/file/child")
    with pytest.raises(FileExistsError):
        backend.mkdir(f"{hdfs_dir}/file")
    backend.mkdir(f"{hdfs_dir}/new", parents=False)
    assert backend.info(f"{hdfs_dir}/new")["type"] == "directory"


def test_append(backend: Any, hdfs_dir: str) -> None:
    path = f"{hdfs_dir}/log.txt"
    put(backend, path, b"one\n")
    with backend.append(path) as f:
        f.write(b"two\n")
    assert get(backend, path) == b"one\ntwo\n"
    with pytest.raises(FileNotFoundError):
        backend.append(f"{hdfs_dir}/missing")
    with pytest.raises(IsADirectoryError):
        backend.append(hdfs_dir)


def test_rm(backend: Any, hdfs_dir: str) -> None:
    put(backend, f"{hdfs_dir}/d/f", b"x")
    put(backend, f"{hdfs_dir}/g", b"y")
    backend.rm(f"{hdfs_dir}/g")
    assert not backend.exists(f"{hdfs_dir}/g")
    with pytest.raises(OSError) as e:
        backend.rm(f"{hdfs_dir}/d")
    assert e.value.errno == errno.ENOTEMPTY and e.value.filename == f"{hdfs_dir}/d"
    assert backend.exists(f"{hdfs_dir}/d/f")
    backend.rm(f"{hdfs_dir}/d/f")
    put(backend, f"{hdfs_dir}/d/g", b"x")
    backend.rm(f"{hdfs_dir}/d", recursive=True)
    assert not backend.exists(f"{hdfs_dir}/d")
    backend.mkdir(f"{hdfs_dir}/empty")
    backend.rm(f"{hdfs_dir}/empty")
    assert not backend.exists(f"{hdfs_dir}/empty")
    assert backend.ls(hdfs_dir) == []
    with pytest.raises(FileNotFoundError):
        backend.rm(f"{hdfs_dir}/d")


def test_rename(backend: Any, hdfs_dir: str) -> None:
    """rename without overwrite (with it: each backend's own tests)."""
    put(backend, f"{hdfs_dir}/a", b"A")
    put(backend, f"{hdfs_dir}/b", b"B")
    backend.rename(f"{hdfs_dir}/a", f"{hdfs_dir}/c")
    assert get(backend, f"{hdfs_dir}/c") == b"A" and not backend.exists(f"{hdfs_dir}/a")
    with pytest.raises(FileExistsError) as e:
        backend.rename(f"{hdfs_dir}/c", f"{hdfs_dir}/b")
    assert e.value.filename == f"{hdfs_dir}/b"
    assert get(backend, f"{hdfs_dir}/b") == b"B" and get(backend, f"{hdfs_dir}/c") == b"A"
    backend.mkdir(f"{hdfs_dir}/dir")
    with pytest.raises(FileExistsError):  # no silent move *into* the directory
        backend.rename(f"{hdfs_dir}/c", f"{hdfs_dir}/dir")
    assert backend.ls(f"{hdfs_dir}/dir") == []
    with pytest.raises(FileNotFoundError) as e:
        backend.rename(f"{hdfs_dir}/missing", f"{hdfs_dir}/x")
    assert e.value.filename == f"{hdfs_dir}/missing"
    with pytest.raises(FileNotFoundError, match="parent") as e:
        backend.rename(f"{hdfs_dir}/b", f"{hdfs_dir}/no/such/dir/b")
    assert e.value.filename == f"{hdfs_dir}/no/such/dir/b"
    backend.rename(f"{hdfs_dir}/c", f"{hdfs_dir}/dir/c")
    backend.rename(f"{hdfs_dir}/dir", f"{hdfs_dir}/dir2")
    assert get(backend, f"{hdfs_dir}/dir2/c") == b"A"


def test_set_permission_owner_replication_times(backend: Any, hdfs_dir: str) -> None:
    path = f"{hdfs_dir}/f"
    put(backend, path, b"data")
    backend.set_permission(path, 0o604)
    backend.set_owner(path, "alice", "staff")
    backend.set_replication(path, 3)
    backend.set_times(path, mtime=1_600_000_000, atime=1_700_000_000)
    info = backend.info(path)
    assert (info["permission"], info["owner"], info["group"], info["replication"]) == (
        0o604,
        "alice",
        "staff",
        3,
    )
    assert (info["mtime"], info["atime"]) == (1_600_000_000.0, 1_700_000_000.0)
    backend.set_times(path, atime=1_650_000_000)  # mtime untouched
    assert backend.info(path)["mtime"] == 1_600_000_000.0
    backend.set_times(path, mtime=1_700_000_000.0)  # atime untouched
    assert backend.info(path)["atime"] == 1_650_000_000.0
    backend.set_owner(path, group="other")
    assert (backend.info(path)["owner"], backend.info(path)["group"]) == ("alice", "other")
    backend.set_replication(path, 2)
    assert backend.info(path)["replication"] == 2
    with pytest.raises(IsADirectoryError):
        backend.set_replication(hdfs_dir, 2)
    for call in (
        lambda p: backend.set_permission(p, 0o700),
        lambda p: backend.set_owner(p, "x"),
        lambda p: backend.set_times(p, mtime=1.0),
        lambda p: backend.set_replication(p, 1),
    ):
        with pytest.raises(FileNotFoundError):
            call(f"{hdfs_dir}/nope")


def test_permission_errors(backend: Any, stranger: Any, hdfs_dir: str) -> None:
    private = f"{hdfs_dir}/private"
    backend.mkdir(private, permission=0o755)
    put(backend, f"{private}/secret", b"s")
    with pytest.raises(PermissionError) as e:
        stranger.open_write(f"{private}/g").close()
    assert e.value.errno == errno.EACCES and "stranger" in str(e.value)
    # the datanode refuses it: raised at write or close
    with pytest.raises(PermissionError), stranger.open_write(f"{private}/big") as f:
        for _ in range(4):
            f.write(os.urandom(MiB))
    assert not backend.exists(f"{private}/big")
    backend.set_permission(private, 0o700)
    for call in (
        stranger.ls,
        lambda p: stranger.open_write(f"{p}/x"),
        lambda p: stranger.info(f"{p}/secret"),
        lambda p: stranger.open_read(f"{p}/secret"),
        lambda p: stranger.set_permission(p, 0o777),
        lambda p: stranger.rm(f"{p}/secret"),
        lambda p: stranger.rm(p, recursive=True),
    ):
        with pytest.raises(PermissionError, match="HADOOP_USER_NAME") as e:
            call(private)
        assert e.value.errno == errno.EACCES and e.value.filename.startswith(private)
    put(stranger, f"{hdfs_dir}/mine", b"m")
    assert backend.info(f"{hdfs_dir}/mine")["owner"] == "stranger"
    with pytest.raises(PermissionError):  # only the superuser may chown
        stranger.set_owner(f"{hdfs_dir}/mine", "root")
    assert backend.exists(f"{private}/secret")


def test_content_summary(backend: Any, hdfs_dir: str) -> None:
    put(backend, f"{hdfs_dir}/x/1", b"a" * 100)
    put(backend, f"{hdfs_dir}/x/y/2", b"b" * 50, replication=2)
    cs = backend.content_summary(f"{hdfs_dir}/x")
    assert cs == {
        "length": 150,
        "file_count": 2,
        "directory_count": 2,
        "space_consumed": 100 * backend.info(f"{hdfs_dir}/x/1")["replication"] + 100,
        "quota": -1,
        "space_quota": -1,
    }
    with pytest.raises(FileNotFoundError):
        backend.content_summary(f"{hdfs_dir}/missing")
