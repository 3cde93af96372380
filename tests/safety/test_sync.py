"""`sync` against the real cluster, both ways, on every backend: only what is missing or differs
is copied, --delete moves extras to the trash, --dry-run changes nothing, a sync killed with
SIGKILL leaves only whole files visible and the next run finishes it; bad input changes nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from hopsfs_tools.cli.main import main
from hopsfs_tools.cluster import LocalCluster
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.hopsworks.sync import LOCAL_TMP, sync

BACKENDS = ("native", "arrow", "webhdfs")


def make_tree(top: Path, files: int = 6, size: int = 1000) -> dict[str, bytes]:
    """Files in nested directories under `top`: {relative path: content}."""
    tree = {f"d{i % 3}/sub/f{i}.bin": os.urandom(size) for i in range(files)}
    tree["top.txt"] = b"top"
    for rel, data in tree.items():
        (top / rel).parent.mkdir(parents=True, exist_ok=True)
        (top / rel).write_bytes(data)
    return tree


def local_tree(top: Path) -> dict[str, bytes]:
    return {str(p.relative_to(top)): p.read_bytes() for p in sorted(top.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("backend", BACKENDS)
def test_sync_copies_only_what_differs_both_ways(
    cluster_env: dict[str, str], hdfs_dir: str, tmp_path: Path, backend: str
) -> None:
    fs = HopsFileSystem(backend=backend, skip_instance_cache=True)
    src, dst = tmp_path / "src", f"{hdfs_dir}/dst"
    tree = make_tree(src)
    first = sync(str(src), dst, fs=fs)
    assert (len(first.copies), first.unchanged) == (len(tree), 0)
    assert {rel: fs.cat_file(f"{dst}/{rel}") for rel in tree} == tree
    assert sync(str(src), dst, fs=fs).copies == []  # nothing changed: nothing copied
    (src / "d1/sub/f1.bin").write_bytes(os.urandom(1000))  # same size, new content and time
    (src / "new.txt").write_bytes(b"new")
    assert sync(str(src), dst, fs=fs).copies == ["d1/sub/f1.bin", "new.txt"]
    before = os.stat(src / "top.txt")
    (src / "top.txt").write_bytes(b"TOP")  # same size, and the time put back: only a checksum
    os.utime(src / "top.txt", ns=(before.st_atime_ns, before.st_mtime_ns))  # tells it changed
    assert sync(str(src), dst, fs=fs, checksum=True).copies == ["top.txt"]
    (src / "d2/sub/f2.bin").unlink()
    planned = sync(str(src), dst, fs=fs, delete=True, dry_run=True)
    assert planned.deletes == ["d2/sub/f2.bin"] and fs.exists(f"{dst}/d2/sub/f2.bin")
    sync(str(src), dst, fs=fs, delete=True)
    assert not fs.exists(f"{dst}/d2/sub/f2.bin")
    assert [e.path for e in fs.trash_list(f"{dst}/d2")] == [f"{dst}/d2/sub/f2.bin"]
    back = tmp_path / "back"
    down = sync(dst, str(back), fs=fs)
    assert local_tree(back) == local_tree(src) and len(down.copies) == len(local_tree(src))
    assert sync(dst, str(back), fs=fs).copies == []
    fs.close()


def test_bad_input_changes_nothing(
    cluster_env: dict[str, str], hdfs_dir: str, tmp_path: Path
) -> None:
    fs = HopsFileSystem(skip_instance_cache=True)
    make_tree(tmp_path / "src")
    fs.pipe_file(f"{hdfs_dir}/file.txt", b"a file")
    done = CliRunner().invoke(main, ["sync", str(tmp_path / "src"), f"{hdfs_dir}/file.txt"])
    assert done.exit_code == 1 and len(done.output.strip().splitlines()) == 1
    assert "cannot sync directory" in done.output and "onto file" in done.output
    assert fs.cat_file(f"{hdfs_dir}/file.txt") == b"a file"
    dry = CliRunner().invoke(main, ["sync", "--dry-run", str(tmp_path / "src"), f"{hdfs_dir}/d"])
    assert dry.exit_code == 0 and "7 to copy" in dry.output, dry.output
    assert not fs.exists(f"{hdfs_dir}/d")
    fs.close()


@pytest.mark.parametrize("upload", [True, False], ids=["upload", "download"])
def test_killed_sync_leaves_whole_files_and_resumes(
    cluster: LocalCluster, cluster_env: dict[str, str], hdfs_dir: str, tmp_path: Path, upload: bool
) -> None:
    fs = HopsFileSystem(skip_instance_cache=True)
    local, remote = tmp_path / "tree", f"{hdfs_dir}/tree"
    tree = {f"f{i:02d}.bin": os.urandom(2 * 2**20) for i in range(30)}
    if upload:
        local.mkdir()
        for rel, data in tree.items():
            (local / rel).write_bytes(data)
        src, dst = str(local), remote
    else:
        for rel, data in tree.items():
            fs.pipe_file(f"{remote}/{rel}", data)
        src, dst = remote, str(local)

    def visible() -> list[str]:
        if upload:
            return (
                [os.path.basename(p) for p in fs.ls(remote, detail=False)]
                if fs.exists(remote)
                else []
            )
        return (
            [p.name for p in local.iterdir() if not p.name.startswith(".")]
            if local.exists()
            else []
        )

    child = subprocess.Popen(
        [sys.executable, "-m", "hopsfs_tools.cli", "sync", "-j", "2", "--no-progress", src, dst],
        env={**os.environ, **cluster_env},
    )
    deadline = time.monotonic() + 120
    while len(visible()) < 4 and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    seen = visible()
    assert 0 < len(seen) < len(tree), seen  # killed midway
    for name in seen:  # every visible file is whole
        data = fs.cat_file(f"{remote}/{name}") if upload else (local / name).read_bytes()
        assert data == tree[name], name
    rest = sync(src, dst, fs=fs)
    assert 0 < len(rest.copies) <= len(tree) - len(seen) + 2  # (files renamed in at the kill)
    final = {n: fs.cat_file(f"{remote}/{n}") for n in tree} if upload else local_tree(local)
    assert final == tree
    if not upload:
        assert not [p for p in local.iterdir() if p.name.startswith(LOCAL_TMP)]
    fs.close()
