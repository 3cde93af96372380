"""Crash safety: every writer SIGKILLed mid-write leaves its target absent (new) or unchanged
(overwrite); the hidden leftovers are skipped by ls, glob and readers; clean_tmp removes them.

One writer process (tests/faults/crash_writer.py) drives every writer kind into the middle of a write
(data sent to the cluster, stream not closed) and blocks it there; the test then SIGKILLs it:
one interpreter start (and one TensorFlow import) for all cases.
"""

from __future__ import annotations

import importlib.util
import os
import posixpath
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from hopsfs_tools import hdfs
from hopsfs_tools.cli.main import main
from hopsfs_tools.formats.parquet import parquet_batches
from hopsfs_tools.formats.tfrecord import encode_record, read_records
from hopsfs_tools.fs import HopsFileSystem, upload
from hopsfs_tools.fs.commit import is_leftover, replaced_path, temp_path
from hopsfs_tools.tensorflow import list_files

CRASH_WRITER = os.path.join(os.path.dirname(__file__), "crash_writer.py")
MODES = ["new", "overwrite"]
HOUR = 3600.0


def _parquet_bytes(values: list[int]) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"x": values}), sink)
    return sink.getvalue().to_pybytes()


OLD_PARQUET = _parquet_bytes([-1, -2, -3])
OLD_TFRECORD = encode_record(b"old record")
# Per writer kind (see crash_writer.WRITERS): the files it writes, with the content an
# "overwrite" case holds before the writer is killed.
OLD: dict[str, dict[str, bytes]] = {
    "open": {"data": b"old"},
    "put": {"data": b"old"},
    "pipe": {"data": b"old"},
    "copy_to_hdfs": {"data": b"old"},
    "copy_to_hdfs_tree": {"tree/a.txt": b"old a", "tree/sub/b.txt": b"old b"},
    "dump": {"data": b"old"},
    "to_parquet": {"data.parquet": OLD_PARQUET},
    "parquet_dataset": {"ds/old.parquet": OLD_PARQUET},
    "tfrecord_writer": {"data.tfrecord": OLD_TFRECORD},
    "write_tfrecords": {"part-0.tfrecord": OLD_TFRECORD, "part-1.tfrecord": OLD_TFRECORD},
    "save_model_file": {"model.keras": b"old model"},
    "save_model_dir": {"model/saved_model.pb": b"old pb", "model/variables/v.index": b"old v"},
    "checkpoint": {"ckpt/epoch-0001.keras": b"old ckpt", "ckpt/checkpoint": b"epoch-0001.keras\n"},
}
NEEDS_KERAS = {"save_model_file", "save_model_dir", "checkpoint"}
HAVE_TF = importlib.util.find_spec("tensorflow") is not None  # extra [tf]
KINDS = [
    pytest.param(
        kind,
        marks=pytest.mark.skipif(
            kind in NEEDS_KERAS and not HAVE_TF, reason="needs tensorflow (extra [tf])"
        ),
    )
    for kind in OLD
]
CASES = [f"{k}-{mode}" for k in OLD if HAVE_TF or k not in NEEDS_KERAS for mode in MODES]


def kill_mid_write(cluster, base: str, cases: list[str], timeout: float = 300) -> list[str]:
    """Run crash_writer.py until every case is paused mid-write, then SIGKILL it; its output."""
    env = {**os.environ, **cluster.env(), "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    for key in ("HADOOP_USER_NAME", "HOPSFS_PROJECT", "HOPSWORKS_PROJECT_NAME", "HOPSFS_BACKEND"):
        env.pop(key, None)
    with tempfile.TemporaryFile("w+") as stderr:
        proc = subprocess.Popen(
            [sys.executable, CRASH_WRITER, base, *cases],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=env,
        )
        lines: queue.Queue[str | None] = queue.Queue()

        def pump() -> None:
            for line in proc.stdout:  # type: ignore[union-attr]
                lines.put(line.strip())
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        out: list[str] = []
        deadline = time.monotonic() + timeout
        try:
            while not out or out[-1] != "all paused":
                try:
                    line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
                except queue.Empty:
                    line = "timed out"
                if line is None or not line.startswith(("paused", "all paused")):
                    stderr.seek(0)
                    pytest.fail(f"crash writer: {line}\n{out}\n{stderr.read()[-4000:]}")
                out.append(line)
        finally:
            proc.kill()  # SIGKILL: no finally blocks, no atexit, no close() in the writer
            proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    return out


def raw_tree(fs: HopsFileSystem, path: str) -> list[str]:
    """Every path below `path` as the namenode lists it (hidden leftovers included)."""
    out = []
    for entry in fs.backend.ls(path):
        out.append(entry["name"])
        if entry["type"] == "directory":
            out += raw_tree(fs, entry["name"])
    return out


def visible_files(fs: HopsFileSystem, path: str) -> dict[str, bytes]:
    """{relative path: content} of the files below `path` that listings show."""
    return {posixpath.relpath(p, path): fs.cat_file(p) for p in fs.find(path)}


@pytest.fixture(scope="module")
def fs(cluster) -> HopsFileSystem:
    return HopsFileSystem(
        backend="native", namenode=cluster.namenode_uri, webhdfs_url=cluster.webhdfs_url
    )


@pytest.fixture(scope="module")
def killed(cluster, fs, superuser_client) -> str:
    """A directory with one subdirectory per case, whose writer was SIGKILLed mid-write."""
    base = f"/tests/crash-{uuid.uuid4().hex[:8]}"
    superuser_client.mkdirs(base, permission=0o777, create_parent=True)
    for kind, files in OLD.items():
        fs.makedirs(f"{base}/{kind}-new")
        fs.pipe({f"{base}/{kind}-overwrite/{rel}": data for rel, data in files.items()})
    output = kill_mid_write(cluster, base, CASES)
    assert output == [f"paused {case}" for case in CASES] + ["all paused"]
    return base


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", KINDS)
def test_killed_writer_leaves_target_intact(killed, fs, kind, mode):
    case = f"{killed}/{kind}-{mode}"
    leftovers = [p for p in raw_tree(fs, case) if is_leftover(p)]
    assert leftovers, f"no temporary file in {case}: the writer was not killed mid-write"
    assert all(posixpath.basename(p).startswith(".") for p in leftovers)
    assert visible_files(fs, case) == (OLD[kind] if mode == "overwrite" else {})
    # the leftovers are hidden from listings and globs at every level
    listed = fs.ls(case, detail=False) + fs.glob(f"{case}/*") + fs.glob(f"{case}/**")
    assert not [p for p in listed if is_leftover(p)]
    if mode == "overwrite":
        top = {posixpath.basename(p) for p in fs.ls(case, detail=False)}
        assert top == {rel.split("/")[0] for rel in OLD[kind]}
    assert not [p for p in fs.find(case, withdirs=True) if is_leftover(p)]


def test_readers_skip_leftovers(killed, fs, cluster_env, monkeypatch):
    monkeypatch.delenv("HADOOP_USER_NAME", raising=False)
    monkeypatch.delenv("HOPSFS_PROJECT", raising=False)
    # TFRecord: tfrecord_dataset's file listing (globs and directories)
    for kind in ("tfrecord_writer", "write_tfrecords"):
        old = sorted(f"{killed}/{kind}-overwrite/{rel}" for rel in OLD[kind])
        assert [p for p, _ in list_files(f"{killed}/{kind}-overwrite/*.tfrecord", fs)] == old
        assert [p for p, _ in list_files(f"{killed}/{kind}-overwrite", fs)] == old
        assert [list(read_records(fs.open(p, "rb"))) for p in old] == [[b"old record"]] * len(old)
        with pytest.raises(FileNotFoundError, match="no files match"):
            list_files(f"{killed}/{kind}-new/*.tfrecord", fs)
    # Parquet: a dataset directory holding a killed writer's temp file, and a single file
    rows = [
        b["x"].to_pylist() for b in parquet_batches(f"{killed}/parquet_dataset-overwrite/ds", fs=fs)
    ]
    assert rows == [[-1, -2, -3]]
    frame = pd.read_parquet(f"hopsfs://{killed}/to_parquet-overwrite/data.parquet")
    assert frame["x"].tolist() == [-1, -2, -3]
    # the Hopsworks-style facade and the CLI list what fs.ls lists
    listed = hdfs.ls(f"hdfs://{killed}", recursive=True, project="crash")
    assert listed and not [p for p in listed if is_leftover(p)]
    assert not [p for p in hdfs.glob(f"hdfs://{killed}/*/*", project="crash") if is_leftover(p)]
    listing = CliRunner().invoke(main, ["ls", "-R", f"{killed}/open-overwrite"])
    assert listing.exit_code == 0 and listing.stdout.split() == [f"{killed}/open-overwrite/data"]


def test_tfrecord_dataset_skips_leftovers(killed, fs):
    pytest.importorskip("tensorflow")
    from hopsfs_tools.tensorflow import tfrecord_dataset

    for strategy in ("cache", "stream"):
        dataset = tfrecord_dataset(
            f"{killed}/write_tfrecords-overwrite/*.tfrecord", fs=fs, strategy=strategy
        )
        assert [r.numpy() for r in dataset] == [b"old record"] * 2


def test_clean_tmp_removes_only_stale_leftovers(cluster, fs, hdfs_dir):
    kill_mid_write(cluster, hdfs_dir, ["open-new"])
    case = f"{hdfs_dir}/open-new"
    (killed_temp,) = [p for p in raw_tree(fs, case) if is_leftover(p)]  # its lease is still held
    old = time.time() - 2 * HOUR
    stale = temp_path(f"{case}/other")
    deep = temp_path(f"{case}/sub/x")
    stale_aside = replaced_path(f"{case}/tree")  # a finished replacement's old tree
    only_copy = replaced_path(f"{case}/gone")  # an interrupted one's: "gone" is missing
    keep = [f"{case}/.keep", f"{case}/.data.hopsfs-tmp-not-a-uuid", f"{case}/tree/f"]
    fs.pipe({p: b"x" for p in [stale, deep, f"{stale_aside}/f", f"{only_copy}/f", *keep]})
    for path in (stale, deep, stale_aside, only_copy):
        fs.backend.set_times(path, mtime=old, atime=old)

    visible = sorted(posixpath.basename(p) for p in fs.ls(case, detail=False))
    assert visible == sorted([".data.hopsfs-tmp-not-a-uuid", ".keep", "sub", "tree"])

    assert fs.clean_tmp(case) == sorted([stale, stale_aside])  # 1 h old, this directory only
    assert fs.clean_tmp(case, older_than=0, recursive=True, dry_run=True) == [killed_temp, deep]
    assert fs.exists(killed_temp) and fs.exists(deep)
    assert fs.clean_tmp(case, older_than=0, recursive=True) == [killed_temp, deep]
    left = sorted(raw_tree(fs, case))
    assert left == sorted([*keep, f"{case}/sub", f"{case}/tree", only_copy, f"{only_copy}/f"])
    with pytest.raises(NotADirectoryError, match="give the directory"):
        fs.clean_tmp(keep[0])
    with pytest.raises(ValueError, match="non-negative"):
        fs.clean_tmp(case, older_than=-1)


def test_clean_tmp_command(fs, hdfs_dir, cluster_env, monkeypatch):
    monkeypatch.delenv("HADOOP_USER_NAME", raising=False)
    monkeypatch.delenv("HOPSFS_PROJECT", raising=False)
    stale, fresh = temp_path(f"{hdfs_dir}/a"), temp_path(f"{hdfs_dir}/b")
    fs.pipe({stale: b"x", fresh: b"y", f"{hdfs_dir}/a": b"kept"})
    fs.backend.set_times(stale, mtime=time.time() - 2 * HOUR, atime=time.time())

    def run(*args: str):
        return CliRunner().invoke(main, ["clean-tmp", *args])

    dry = run("--dry-run", hdfs_dir)
    assert dry.exit_code == 0 and dry.stdout.splitlines() == [f"would delete {stale}"]
    assert fs.exists(stale)
    assert run("--older-than", "3h", hdfs_dir).stdout == ""
    done = run("--older-than", "90m", hdfs_dir)
    assert done.exit_code == 0 and done.stdout.splitlines() == [stale]
    assert not fs.exists(stale) and fs.exists(fresh) and fs.cat(f"{hdfs_dir}/a") == b"kept"
    assert run("--older-than", "0s", hdfs_dir).stdout.splitlines() == [fresh]
    bad = run("--older-than", "soon", hdfs_dir)
    assert bad.exit_code == 2 and "not a duration such as 90s, 30m, 1h or 2d" in bad.stderr
    missing = run(f"{hdfs_dir}/nope")
    assert missing.exit_code == 1
    assert missing.stderr.strip().startswith("Error: ") and f"{hdfs_dir}/nope" in missing.stderr


def test_live_writer_keeps_its_temp_file_fresh(fs, hdfs_dir, monkeypatch):
    """HDFS leaves an open file's mtime at its creation; writers move it, so that clean_tmp
    tells a slow live writer from a dead one."""
    monkeypatch.setattr(upload, "TOUCH_INTERVAL", 1.0)
    with fs.open(f"{hdfs_dir}/big", "wb", block_size=2**20) as f:
        (temp,) = [p for p in raw_tree(fs, hdfs_dir) if is_leftover(p)]
        created = fs.info(temp)["mtime"]
        for _ in range(3):
            time.sleep(1.2)
            f.write(b"a" * 2**20)  # fills the buffer: an upload, which touches the temp file
        assert fs.info(temp)["mtime"] >= created + 3
        assert fs.clean_tmp(hdfs_dir, older_than=2) == []  # started 3.6 s ago, but alive
    assert fs.cat_file(f"{hdfs_dir}/big") == b"a" * 3 * 2**20
    assert not [p for p in raw_tree(fs, hdfs_dir) if is_leftover(p)]


def test_staged_dir_replaces_a_tree_or_leaves_it(fs, hdfs_dir):
    target = f"{hdfs_dir}/tree"
    fs.pipe({f"{target}/old/a": b"a", f"{target}/b": b"b"})
    with pytest.raises(RuntimeError, match="interrupted"), fs.staged_dir(target) as staging:
        fs.pipe(f"{staging}/new", b"partial")
        raise RuntimeError("interrupted")
    assert visible_files(fs, target) == {"old/a": b"a", "b": b"b"}
    with fs.staged_dir(target) as staging:
        fs.pipe(f"{staging}/new", b"n")
        assert visible_files(fs, target) == {"old/a": b"a", "b": b"b"}  # not yet
    assert visible_files(fs, target) == {"new": b"n"}
    fs.pipe(f"{hdfs_dir}/file", b"f")
    with fs.staged_dir(f"{hdfs_dir}/file") as staging:  # a tree may replace a file
        fs.pipe(f"{staging}/x", b"x")
    assert visible_files(fs, f"{hdfs_dir}/file") == {"x": b"x"}
    assert not [p for p in raw_tree(fs, hdfs_dir) if is_leftover(p)]  # no staging, no old tree
