"""The bad-input catalogue: each wrong path, URL, setting, file or argument raises a typed builtin
error whose message names the path (or value) and says what to do, and changes nothing.

One table, one test: a case is (id, action, expected type, message fragments). After every case
the test directory must hold exactly the files it held before (no data lost or corrupted) and no
temporary leftovers. docs/guarantees.md's "Bad input catalogue" lists the same cases.
"""

from __future__ import annotations

import io
import os
import posixpath
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests
from click.testing import CliRunner

from hopsfs_tools import hdfs
from hopsfs_tools.cli.main import main
from hopsfs_tools.formats.parquet import parquet_batches
from hopsfs_tools.formats.tfrecord import TFRecordError, TFRecordWriter, encode_record, read_records
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.fs.commit import is_leftover
from hopsfs_tools.tensorflow import write_tfrecords

RECORDS = [b"first record", b"second record", b"third record"]
SECOND = len(encode_record(RECORDS[0]))  # byte offset of the second record
THIRD = SECOND + len(encode_record(RECORDS[1]))
QUOTA = 1 << 20  # bytes of space quota on <dir>/quota


class CliError(Exception):
    """A `hopsfs-tools` command that failed with one `Error: ...` line (and its exit code)."""


@dataclass
class Ctx:
    """What a case acts on: the cluster, a directory of known files, two users."""

    fs: HopsFileSystem  # native, as the superuser who owns every file in `d`
    other: HopsFileSystem  # webhdfs, as "mallory", an unprivileged user
    d: str
    local: Path
    cluster: Any
    monkeypatch: pytest.MonkeyPatch

    def env(self, **values: str) -> None:
        for key, value in values.items():
            self.monkeypatch.setenv(key, value)

    def fs_with(self, **kwargs: Any) -> HopsFileSystem:
        """A new filesystem of the test cluster with some settings overridden; it connects."""
        options = {"namenode": self.cluster.namenode_uri, "webhdfs_url": self.cluster.webhdfs_url}
        fs = HopsFileSystem(**{**options, **kwargs}, skip_instance_cache=True)
        fs.ls("/")
        return fs

    def read_text(self, path: str) -> str:
        with self.fs.open(path, "r", encoding="utf-8") as f:
            return f.read()

    def cli(self, *args: str) -> None:
        """Run a command that must fail with exactly one `Error: ...` line on stderr."""
        result = CliRunner().invoke(main, list(args))
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
        raise CliError(f"exit {result.exit_code}: {lines[0]}")


@dataclass(frozen=True)
class Case:
    id: str
    action: Callable[[Ctx], Any]
    exc: type[BaseException]
    fragments: tuple[str, ...]  # "{d}" is the test directory, "{port}" a closed local port
    max_seconds: float | None = None  # how fast the error must come


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PORT = _closed_port()


def _seek(c: Ctx, *args: int) -> None:
    with c.fs.open(f"{c.d}/file", "rb") as f:
        f.seek(*args)


def _misuse(c: Ctx, path: str, mode: str, use: Callable[[Any], Any]) -> None:
    with c.fs.open(path, mode) as f:
        use(f)


def _write_after_close(c: Ctx) -> None:
    f = c.fs.open(f"{c.d}/new", "wb")
    f.close()
    c.fs.rm(f"{c.d}/new")
    f.write(b"late")


MISSING = ("{d}/missing", "check the path")
CASES = [
    # -- missing paths and wrong kinds of path
    Case("open-missing", lambda c: c.fs.open(f"{c.d}/missing"), FileNotFoundError, MISSING),
    Case("ls-missing", lambda c: c.fs.ls(f"{c.d}/missing"), FileNotFoundError, MISSING),
    Case("info-missing", lambda c: c.fs.info(f"{c.d}/missing"), FileNotFoundError, MISSING),
    Case("rm-missing", lambda c: c.fs.rm(f"{c.d}/missing"), FileNotFoundError, MISSING),
    Case(
        "get-missing",
        lambda c: c.fs.get(f"{c.d}/missing", str(c.local / "x")),
        FileNotFoundError,
        MISSING,
    ),
    Case(
        "load-missing",
        lambda c: (
            c.env(HOPSFS_PROJECT="bad", HOPSFS_BACKEND="webhdfs")
            or hdfs.load(f"hdfs://{c.d}/missing")
        ),
        FileNotFoundError,
        MISSING,
    ),
    Case(
        "open-dir-for-reading",
        lambda c: c.fs.open(f"{c.d}/dir", "rb"),
        IsADirectoryError,
        ("{d}/dir", "is a directory"),
    ),
    Case(
        "open-dir-for-writing",
        lambda c: c.fs.open(f"{c.d}/dir", "wb"),
        IsADirectoryError,
        ("{d}/dir", "is a directory"),
    ),
    Case(
        "cat-dir",
        lambda c: c.fs.cat_file(f"{c.d}/dir"),
        IsADirectoryError,
        ("{d}/dir", "is a directory"),
    ),
    Case(
        "ls-under-file",
        lambda c: c.fs.ls(f"{c.d}/file/child"),
        NotADirectoryError,
        ("{d}/file/child", "is a file"),
    ),
    Case(
        "mkdir-under-file",
        lambda c: c.fs.makedirs(f"{c.d}/file/sub"),
        NotADirectoryError,
        ("{d}/file/sub", "is a file"),
    ),
    Case(
        "write-under-file",
        lambda c: c.fs.pipe(f"{c.d}/file/child", b"x"),
        NotADirectoryError,
        ("{d}/file/child", "is a file"),
    ),
    Case(
        "mkdir-over-file",
        lambda c: c.fs.mkdir(f"{c.d}/file"),
        FileExistsError,
        ("{d}/file", "exists", "remove it first"),
    ),
    Case(
        "rm-non-empty-dir",
        lambda c: c.fs.rm(f"{c.d}/dir"),
        OSError,
        ("{d}/dir", "not empty", "recursive=True"),
    ),
    Case(
        "create-existing",
        lambda c: c.fs.open(f"{c.d}/file", "xb"),
        FileExistsError,
        ("{d}/file", "exists", "overwrite"),
    ),
    Case(
        "rename-onto-existing",
        lambda c: c.fs.mv(f"{c.d}/dir/inner", f"{c.d}/file", overwrite=False),
        FileExistsError,
        ("{d}/file", "exists", "overwrite"),
    ),
    Case(
        "facade-rename-onto-existing",
        lambda c: (
            c.env(HOPSFS_PROJECT="bad", HOPSFS_BACKEND="webhdfs")
            or hdfs.rename(f"hdfs://{c.d}/shared/file", f"hdfs://{c.d}/shared/dir/inner")
        ),
        FileExistsError,
        ("{d}/shared/dir/inner", "exists"),
    ),
    Case(
        "rename-missing-source",
        lambda c: c.fs.mv(f"{c.d}/missing", f"{c.d}/new"),
        FileNotFoundError,
        MISSING,
    ),
    # -- URLs, cluster settings, users and projects
    Case(
        "path-with-foreign-scheme",
        lambda c: c.fs.info("s3://bucket/x"),
        ValueError,
        ("s3://bucket/x", "hdfs://host:port/path"),
    ),
    Case(
        "hopsfs-url-with-host",
        lambda c: c.fs.info("hopsfs://nn:8020/Projects/x"),
        ValueError,
        ("hopsfs://nn:8020/Projects/x", "hopsfs:///Projects/x"),
    ),
    Case(
        "namenode-wrong-scheme",
        lambda c: c.fs_with(namenode="hopsfs://127.0.0.1:8020"),
        ValueError,
        ("hopsfs://127.0.0.1:8020", "HOPSFS_NAMENODE_URI"),
    ),
    Case(
        "namenode-without-host",
        lambda c: c.fs_with(namenode="hdfs://"),
        ValueError,
        ("hdfs://", "hdfs://host:port"),
    ),
    Case(
        "namenode-garbage",
        lambda c: c.fs_with(namenode="hdfs://nn:port:x"),
        ValueError,
        ("hdfs://nn:port:x", "hdfs://host:port"),
    ),
    Case(
        "unknown-backend",
        lambda c: c.fs_with(backend="hdfs3"),
        ValueError,
        ("hdfs3", "native, arrow, webhdfs"),
    ),
    Case(
        "namenode-port-closed",
        lambda c: c.fs_with(namenode=f"hdfs://127.0.0.1:{PORT}", timeout=10),
        ConnectionError,
        ("127.0.0.1:{port}", "cluster up"),
        12,
    ),  # retried within timeout: could be a restart
    Case(
        "namenode-host-unresolvable",
        lambda c: c.fs_with(namenode="hdfs://no-such-host.invalid:8020", timeout=10),
        ConnectionError,
        ("no-such-host.invalid", "namenode is up"),
        30,
    ),  # DNS: bounded by the resolver
    Case(
        "webhdfs-port-closed",
        lambda c: c.fs_with(backend="webhdfs", webhdfs_url=f"http://127.0.0.1:{PORT}", timeout=10),
        ConnectionError,
        ("127.0.0.1:{port}", "HOPSFS_WEBHDFS_URL"),
        12,
    ),
    Case(
        "timeout-negative",
        lambda c: c.fs_with(timeout=-1),
        ValueError,
        ("-1", "positive number of seconds"),
    ),
    Case(
        "conf-dir-missing",
        lambda c: c.fs_with(namenode=None, conf_dir="/no/such/conf"),
        FileNotFoundError,
        ("/no/such/conf", "HADOOP_CONF_DIR"),
    ),
    Case("project-empty", lambda c: c.fs_with(project=""), ValueError, ("''", "HOPSFS_PROJECT")),
    Case(
        "user-without-name",
        lambda c: c.env(HADOOP_USER_NAME="demo__") or c.fs_with(),
        ValueError,
        ("'demo__'", "<project>__<user>"),
    ),
    Case(
        "user-without-project",
        lambda c: c.env(HADOOP_USER_NAME="__alice") or c.fs_with(),
        ValueError,
        ("'__alice'", "<project>__<user>"),
    ),
    Case(
        "user-with-two-separators",
        lambda c: c.env(HADOOP_USER_NAME="a__b__c") or c.fs_with(),
        ValueError,
        ("'a__b__c'", "<project>__<user>"),
    ),
    Case(
        "fs-relative-path-without-project",
        lambda c: c.fs_with().open("hopsfs://Resources/missing.csv"),
        FileNotFoundError,
        ("/Resources/missing.csv", "no project is set", "HOPSFS_PROJECT=<project>"),
    ),
    Case(
        "relative-path-without-project",
        lambda c: c.env(HADOOP_USER_NAME="alice") or hdfs.project_path() + "Resources",
        ValueError,
        ("No project set", "HOPSFS_PROJECT"),
    ),
    # -- file formats and encodings
    Case(
        "tfrecord-corrupt",
        lambda c: list(read_records(c.fs.open(f"{c.d}/corrupt.tfrecord"))),
        TFRecordError,
        ("{d}/corrupt.tfrecord", f"byte offset {SECOND}", "CRC mismatch", "rewrite it"),
    ),
    Case(
        "tfrecord-truncated",
        lambda c: list(read_records(c.fs.open(f"{c.d}/truncated.tfrecord"))),
        TFRecordError,
        ("{d}/truncated.tfrecord", f"byte offset {THIRD}", "truncated", "cut short"),
    ),
    Case(
        "tfrecord-gzip-reader-on-plain-file",
        lambda c: list(read_records(c.fs.open(f"{c.d}/plain.tfrecord"), compression="GZIP")),
        TFRecordError,
        ("{d}/plain.tfrecord", "corrupt compressed data", "compression=None"),
    ),
    Case(
        "tfrecord-plain-reader-on-gzip-file",
        lambda c: list(read_records(c.fs.open(f"{c.d}/gz.tfrecord.gz"))),
        TFRecordError,
        ("{d}/gz.tfrecord.gz", "byte offset 0", "compression='GZIP'"),
    ),
    Case(
        "tfrecord-unknown-compression",
        lambda c: list(read_records(c.fs.open(f"{c.d}/plain.tfrecord"), compression="LZ4")),
        ValueError,
        ("'LZ4'", "'GZIP'"),
    ),
    Case(
        "parquet-not-parquet",
        lambda c: list(parquet_batches(f"{c.d}/not.parquet", fs=c.fs)),
        ValueError,
        ("{d}/not.parquet", "not a parquet file"),
    ),
    Case(
        "pandas-parquet-not-parquet",
        lambda c: pd.read_parquet(f"hopsfs://{c.d}/not.parquet"),
        ValueError,
        ("{d}/not.parquet", "not a parquet file"),
    ),
    Case(
        "text-mode-non-utf8",
        lambda c: c.read_text(f"{c.d}/latin1.txt"),
        UnicodeDecodeError,
        ("{d}/latin1.txt", "position 3", "encoding="),
    ),
    # -- permissions and quotas
    Case(
        "read-private-as-other-user",
        lambda c: c.other.cat_file(f"{c.d}/private"),
        PermissionError,
        ("{d}/private", "user=mallory", "HADOOP_USER_NAME"),
    ),
    Case(
        "overwrite-private-as-other-user",
        lambda c: c.other.pipe(f"{c.d}/private", b"mine"),
        PermissionError,
        ("{d}/private", "user=mallory", "HADOOP_USER_NAME"),
    ),
    Case(
        "write-into-locked-dir-as-other-user",
        lambda c: c.other.pipe(f"{c.d}/locked/new", b"x"),
        PermissionError,
        ("{d}/locked/new", "user=mallory", "HADOOP_USER_NAME"),
    ),
    Case(
        "quota-exceeded-new-file",
        lambda c: c.fs.pipe(f"{c.d}/quota/new", b"x" * 1000),
        OSError,
        ("{d}/quota/new", "quota", "free space"),
    ),
    Case(
        "quota-exceeded-overwrite",
        lambda c: c.fs.pipe(f"{c.d}/quota/kept", b"y" * 1000),
        OSError,
        ("{d}/quota/kept", "quota", "free space"),
    ),
    # -- invalid arguments and file-object misuse
    Case(
        "block-size-negative",
        lambda c: c.fs.open(f"{c.d}/file", "rb", block_size=-1),
        ValueError,
        ("{d}/file", "block_size", "-1"),
    ),
    Case(
        "replication-zero",
        lambda c: c.fs.open(f"{c.d}/new", "wb", replication=0),
        ValueError,
        ("{d}/new", "replication", "0"),
    ),
    Case(
        "set-replication-zero",
        lambda c: c.fs.set_replication(f"{c.d}/file", 0),
        ValueError,
        ("{d}/file", "replication", "0"),
    ),
    Case(
        "open-bad-mode",
        lambda c: c.fs.open(f"{c.d}/file", "rw+"),
        ValueError,
        ("{d}/file", "'rw+'", "'r', 'w', 'x' or 'a'"),
    ),
    Case("seek-negative", lambda c: _seek(c, -1), ValueError, ("{d}/file", "-1", "seek")),
    Case("seek-bad-whence", lambda c: _seek(c, 0, 3), ValueError, ("{d}/file", "whence")),
    Case(
        "write-to-read-only-file",
        lambda c: _misuse(c, f"{c.d}/file", "rb", lambda f: f.write(b"x")),
        io.UnsupportedOperation,
        ("{d}/file", "'wb'"),
    ),
    Case(
        "read-from-write-only-file",
        lambda c: _misuse(c, f"{c.d}/new", "wb", lambda f: f.read()),
        io.UnsupportedOperation,
        ("{d}/new", "'rb'"),
    ),
    Case("write-after-close", _write_after_close, ValueError, ("{d}/new", "closed")),
    Case(
        "num-shards-zero",
        lambda c: write_tfrecords([b"x"], f"{c.d}/t", 0, fs=c.fs),
        ValueError,
        ("num_shards", "0"),
    ),
    Case(
        "chmod-mode-not-octal",
        lambda c: (
            c.env(HOPSFS_PROJECT="bad", HOPSFS_BACKEND="webhdfs")
            or hdfs.chmod(f"hdfs://{c.d}/file", "rwx")
        ),
        ValueError,
        ("'rwx'", "octal ('750')", "symbolic"),
    ),
    Case(
        "open-file-bad-flags",
        lambda c: (
            c.env(HOPSFS_PROJECT="bad", HOPSFS_BACKEND="webhdfs")
            or hdfs.open_file(f"hdfs://{c.d}/file", flags="q")
        ),
        ValueError,
        ("'q'", "'r', 'w' or 'a'"),
    ),
    # -- the command line: one line naming the path and what to do, exit 1
    Case(
        "cli-cat-missing",
        lambda c: c.cli("cat", f"{c.d}/missing"),
        CliError,
        ("exit 1", "{d}/missing", "check the path"),
    ),
    Case(
        "cli-mkdir-over-file",
        lambda c: c.cli("mkdir", f"{c.d}/file"),
        CliError,
        ("exit 1", "{d}/file", "exists"),
    ),
    Case(
        "cli-put-over-existing",
        lambda c: c.cli("put", str(c.local / "up.txt"), f"{c.d}/file"),
        CliError,
        ("exit 1", "{d}/file", "-f"),
    ),
]


def _set_space_quota(cluster: Any, path: str, quota: int) -> None:
    """Set a space quota as the HDFS superuser (WebHDFS SETQUOTA: an administrator's command)."""
    response = requests.put(
        f"{cluster.webhdfs_url}/webhdfs/v1{path}",
        params={
            "op": "SETQUOTA",
            "namespacequota": -1,
            "storagespacequota": quota,
            "user.name": cluster.state.user,
        },
        timeout=30,
    )
    response.raise_for_status()


def _tfrecords(records: list[bytes], compression: str | None = None) -> bytes:
    sink = io.BytesIO()
    with TFRecordWriter(sink, compression) as writer:
        writer.write_all(records)
    return sink.getvalue()


@pytest.fixture(scope="module")
def catalogue_dir(cluster, superuser_client) -> tuple[str, HopsFileSystem]:
    """A directory of known files owned by the superuser, and the superuser's filesystem."""
    fs = HopsFileSystem(
        backend="native", namenode=cluster.namenode_uri, webhdfs_url=cluster.webhdfs_url
    )
    d = f"/tests/bad-input-{uuid.uuid4().hex[:8]}"
    plain = _tfrecords(RECORDS)
    corrupt = bytearray(plain)
    corrupt[SECOND + 14] ^= 0xFF  # a byte of the second record's data
    fs.pipe(
        {
            f"{d}/file": b"precious data\n",
            f"{d}/dir/inner": b"inner",
            f"{d}/latin1.txt": "café olé".encode("latin-1"),
            f"{d}/plain.tfrecord": plain,
            f"{d}/corrupt.tfrecord": bytes(corrupt),
            f"{d}/truncated.tfrecord": plain[: THIRD + 5],
            f"{d}/gz.tfrecord.gz": _tfrecords(RECORDS, "GZIP"),
            f"{d}/not.parquet": b"a,b\n1,2\n",
            f"{d}/private": b"secret",
            f"{d}/locked/f": b"locked",
            f"{d}/quota/kept": b"kept under quota",
            f"{d}/shared/file": b"shared",  # where the project user (not the superuser) may write
            f"{d}/shared/dir/inner": b"inner",
        }
    )
    fs.chmod(f"{d}/shared", 0o777)
    fs.chmod(f"{d}/shared/dir", 0o777)
    fs.chmod(d, 0o755)
    fs.chmod(f"{d}/private", 0o600)
    fs.chmod(f"{d}/locked", 0o755)
    _set_space_quota(cluster, f"{d}/quota", QUOTA)
    return d, fs


def _state(fs: HopsFileSystem, d: str) -> tuple[dict[str, bytes], list[str]]:
    """({visible file: content}, [temporary leftovers]) below `d`."""
    files = {posixpath.relpath(p, d): fs.cat_file(p) for p in fs.find(d)}
    leftovers, pending = [], [d]
    while pending:
        for entry in fs.backend.ls(pending.pop()):
            if is_leftover(entry["name"]):
                leftovers.append(entry["name"])
            elif entry["type"] == "directory":
                pending.append(entry["name"])
    return files, leftovers


def test_seek_past_the_end_is_not_an_error(catalogue_dir):
    """As with local files: seeking past the end is allowed, and reading there gives b""."""
    d, fs = catalogue_dir
    with fs.open(f"{d}/file", "rb") as f:
        assert f.seek(1000) == 1000 and f.read() == b"" and f.tell() == 1000


def test_catalogue_is_large_and_unique():
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case, catalogue_dir, cluster, cluster_env, monkeypatch, tmp_path):
    d, fs = catalogue_dir
    for key in ("HADOOP_USER_NAME", "HOPSFS_PROJECT", "HOPSWORKS_PROJECT_NAME", "HOPSFS_BACKEND"):
        monkeypatch.delenv(key, raising=False)
    (tmp_path / "up.txt").write_bytes(b"local")
    other = HopsFileSystem(
        backend="webhdfs",
        user="mallory",
        namenode=cluster.namenode_uri,
        webhdfs_url=cluster.webhdfs_url,
    )
    ctx = Ctx(fs, other, d, tmp_path, cluster, monkeypatch)
    before = _state(fs, d)
    start = time.monotonic()
    with pytest.raises(case.exc) as raised:
        case.action(ctx)
    elapsed = time.monotonic() - start
    message = str(raised.value)
    for fragment in case.fragments:
        assert fragment.format(d=d, port=PORT) in message, (fragment, message)
    if case.max_seconds is not None:
        assert elapsed < case.max_seconds, f"{case.id} took {elapsed:.1f}s"
    monkeypatch.undo()  # back to the superuser before looking at the data
    assert _state(fs, d) == before  # nothing lost, changed, or left half-written
    assert not os.path.exists(tmp_path / "x")
