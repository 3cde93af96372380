"""Parallel find/glob/walk/du/expand_path on the cluster: fsspec's results and order, bounded
listings in flight, pruning, errors naming the directory, cancellation, the listings cache."""

from __future__ import annotations

import threading
import time

import pytest
from fsspec.spec import AbstractFileSystem

from hopsfs_tools.fs import HopsFileSystem


class SequentialHopsFS(HopsFileSystem):
    """The same filesystem with fsspec's own sequential walk, glob and du (the reference)."""

    walk = AbstractFileSystem.walk
    glob = AbstractFileSystem.glob
    du = AbstractFileSystem.du


def make_fs(cluster, cls=HopsFileSystem, **kwargs):
    return cls(namenode=cluster.namenode_uri, skip_instance_cache=True, **kwargs)


@pytest.fixture
def tree(cluster, hdfs_dir):
    """hdfs_dir/{a0..a2}/{b0..b2}/{c0,c1}/ with f.csv, g.txt, .hidden.csv at each level, all empty
    (NameNode work only: no block to place on the shared cluster's DataNodes)."""
    fs = make_fs(cluster)
    files = {}
    for a in range(3):
        files[f"{hdfs_dir}/a{a}/top.csv"] = b""
        for b in range(3):
            files[f"{hdfs_dir}/a{a}/b{b}/mid.txt"] = b""
            for c in range(2):
                base = f"{hdfs_dir}/a{a}/b{b}/c{c}"
                for name in ("f.csv", "g.txt", ".hidden.csv"):
                    files[f"{base}/{name}"] = b""
    fs.pipe(files)
    fs.makedirs(f"{hdfs_dir}/empty/deeper")
    return hdfs_dir


class CountingLs:
    """Wraps a filesystem's backend `ls` (the real RPC) to count calls and calls in flight."""

    def __init__(self, fs, before=None):
        self.backend = fs.client.backend
        self.real = self.backend.ls
        self.before = before
        self.calls: list[str] = []
        self.in_flight = self.peak = 0
        self.lock = threading.Lock()
        self.backend.ls = self

    def __call__(self, path):
        with self.lock:
            self.calls.append(path)
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            if self.before:
                self.before(path)
            time.sleep(0.01)  # keep each listing in flight long enough to overlap
            return self.real(path)
        finally:
            with self.lock:
                self.in_flight -= 1


def test_results_and_order_match_fsspecs_sequential_default(cluster, tree):
    ours, ref = make_fs(cluster, walk_concurrency=8), make_fs(cluster, SequentialHopsFS)
    rel = ours.resolve("").rstrip("/")
    forms = [tree, tree.removeprefix(rel).lstrip("/")] if tree.startswith(rel) else [tree]
    for top in forms:
        for kwargs in ({}, {"withdirs": True}, {"maxdepth": 2}, {"detail": True}):
            assert ours.find(top, **kwargs) == ref.find(top, **kwargs)
        for pattern in (
            "**/*.csv",
            "*/b1/*/*.csv",
            "a?/b[02]/c1/*",
            "a*/**/g.txt",
            "**/",
            "*/*/",
            "a1/**",
            "*/top.csv",
            "nomatch*/x",
        ):
            assert ours.glob(f"{top}/{pattern}") == ref.glob(f"{top}/{pattern}"), pattern
        assert ours.glob(f"{top}/**/*.csv", maxdepth=2) == ref.glob(f"{top}/**/*.csv", maxdepth=2)
        for kwargs in ({}, {"topdown": False}, {"maxdepth": 2}, {"detail": True}):
            assert list(ours.walk(top, **kwargs)) == list(ref.walk(top, **kwargs))
        for kwargs in ({"total": False}, {"total": False, "withdirs": True}, {"maxdepth": 2}):
            assert ours.du(top, **kwargs) == ref.du(top, **kwargs)
        assert ours.expand_path(f"{top}/a1", recursive=True) == ref.expand_path(
            f"{top}/a1", recursive=True
        )
        assert ours.expand_path([f"{top}/a*/b2"], recursive=True, maxdepth=2) == (
            ref.expand_path([f"{top}/a*/b2"], recursive=True, maxdepth=2)
        )
    assert ours.du(tree) == ref.du(tree) == sum(ours.du(tree, total=False).values())
    assert ours.find(f"{tree}/a0/top.csv") == [f"{tree}/a0/top.csv"]  # a file: itself
    assert ours.find(f"{tree}/missing") == ref.find(f"{tree}/missing") == []


def test_topdown_pruning_skips_directories(cluster, tree):
    fs = make_fs(cluster, walk_concurrency=2)
    seen = []
    for path, dirs, _ in fs.walk(tree):
        seen.append(path)
        dirs[:] = [d for d in dirs if d not in ("a1", "b0")]
    assert f"{tree}/a0/b1/c0" in seen and f"{tree}/a2/b2" in seen
    assert not any("/a1" in p or "/b0" in p for p in seen)


def test_listings_in_flight_are_bounded(cluster, tree):
    for limit in (1, 4):
        fs = make_fs(cluster, walk_concurrency=limit)
        counter = CountingLs(fs)
        fs.find(tree)
        assert len(counter.calls) == 1 + 3 + 9 + 18 + 2  # every directory once
        assert counter.peak == limit


def test_glob_lists_only_directories_the_pattern_can_match(cluster, tree):
    fs = make_fs(cluster)
    counter = CountingLs(fs)
    found = fs.glob(f"{tree}/a1/*/c0/*.csv")
    assert found == [f"{tree}/a1/b{b}/c0/{n}" for b in range(3) for n in (".hidden.csv", "f.csv")]
    # a1, its three b*, their c0: not the other a*, nor the c1 directories
    assert sorted(counter.calls) == sorted(
        [f"{tree}/a1"]
        + [f"{tree}/a1/b{b}" for b in range(3)]
        + [f"{tree}/a1/b{b}/c0" for b in range(3)]
    )


def test_a_directory_deleted_mid_walk_is_named(cluster, tree):
    fs = make_fs(cluster, walk_concurrency=4)
    admin = make_fs(cluster)
    victim = f"{tree}/a2/b1"

    def delete_first(path):
        if path == victim:
            admin.rm(victim, recursive=True)

    CountingLs(fs, before=delete_first)
    with pytest.raises(FileNotFoundError) as error:
        fs.find(tree, on_error="raise")
    assert victim in str(error.value)
    admin.makedirs(f"{victim}/c0")  # again, to be deleted again: omitted by default
    seen = []
    found = fs.find(tree, on_error=seen.append)
    assert [type(e) for e in seen] == [FileNotFoundError] and victim in str(seen[0])
    assert f"{tree}/a2/b2/c0/f.csv" in found and not any(victim in p for p in found)


def test_a_directory_made_unreadable_mid_walk_is_named(cluster, tree):
    """As a plain user (over WebHDFS: the superuser is never refused)."""
    admin = make_fs(cluster)
    admin.chmod(tree, 0o777)
    fs = make_fs(cluster, backend="webhdfs", webhdfs_url=cluster.webhdfs_url, user="walker")
    victim = f"{tree}/a0/b2"

    def lock_first(path):
        if path == victim:
            admin.chmod(victim, 0o000)

    CountingLs(fs, before=lock_first)
    try:
        with pytest.raises(PermissionError) as error:
            fs.find(tree, on_error="raise")
        assert victim in str(error.value)
    finally:
        admin.chmod(victim, 0o755)


def test_stopping_a_walk_cancels_the_queued_listings(cluster, tree):
    fs = make_fs(cluster, walk_concurrency=1)
    counter = CountingLs(fs)
    walker = fs.walk(tree)
    path, dirs, _ = next(walker)
    assert path == tree and dirs == ["a0", "a1", "a2", "empty"]
    walker.close()
    time.sleep(0.3)
    assert len(counter.calls) < 10  # of 33 directories
    deadline = time.monotonic() + 5
    while any(t.name.startswith("hopsfs-walk") for t in threading.enumerate()):
        assert time.monotonic() < deadline, "walk threads still running after close()"
        time.sleep(0.05)


def test_listings_are_cached_only_when_asked(cluster, tree):
    other = make_fs(cluster)
    plain = make_fs(cluster)
    cached = make_fs(cluster, use_listings_cache=True)
    for fs in (plain, cached):
        fs.ls(f"{tree}/a0")
    other.pipe_file(f"{tree}/a0/new.csv", b"")  # another client changes the directory
    assert f"{tree}/a0/new.csv" in plain.ls(f"{tree}/a0", detail=False)
    assert f"{tree}/a0/new.csv" not in cached.ls(f"{tree}/a0", detail=False)
    assert f"{tree}/a0/new.csv" in cached.ls(f"{tree}/a0", detail=False, refresh=True)
    cached.pipe_file(f"{tree}/a0/own.csv", b"")  # its own writes invalidate
    assert f"{tree}/a0/own.csv" in cached.ls(f"{tree}/a0", detail=False)
    cached.rm(f"{tree}/a0/own.csv")
    assert f"{tree}/a0/own.csv" not in cached.ls(f"{tree}/a0", detail=False)
