"""Shard assignment: disjoint and complete for 1..5 workers (explicit, TF_CONFIG, environment),
and block locality against the real cluster's block placement."""

from __future__ import annotations

import json
import random

import pytest

from hopsfs_tools import HopsFileSystem
from hopsfs_tools.cluster import LocalCluster
from hopsfs_tools.sharding import (
    epoch_shard,
    locality_assignment,
    shard_files,
    shard_from_env,
    worker_hosts_from_env,
)

FILES = [f"/data/part-{i:05d}.tfrecord" for i in range(13)]
ELSEWHERE = "192.0.2.1"  # TEST-NET-1: a host holding no block of this cluster


def assert_partition(shards: list[list[str]], files: list[str]) -> None:
    """Every file in exactly one shard."""
    flat = [f for shard in shards for f in shard]
    assert sorted(flat) == sorted(set(files))
    assert len(flat) == len(set(flat))


@pytest.fixture
def fs(cluster: LocalCluster) -> HopsFileSystem:
    return HopsFileSystem(namenode=cluster.namenode_uri, webhdfs_url=cluster.webhdfs_url)


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5])
def test_explicit_shards_are_disjoint_complete_and_independent_of_input_order(count: int) -> None:
    shuffled = random.Random(count).sample(FILES, len(FILES))
    shards = [shard_files(FILES, i, count) for i in range(count)]
    assert_partition(shards, FILES)
    assert [shard_files(shuffled + shuffled[:3], i, count) for i in range(count)] == shards
    assert max(map(len, shards)) - min(map(len, shards)) <= 1


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5])
def test_tf_config_shards(count: int, monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = {"chief": ["host0:2222"], "worker": [f"host{i}:2222" for i in range(1, count)]}
    positions = []
    for kind, index in [("chief", 0)] + [("worker", i) for i in range(count - 1)]:
        monkeypatch.setenv(
            "TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": kind, "index": index}})
        )
        positions.append(shard_from_env())
    assert positions == [(i, count) for i in range(count)]
    assert_partition([shard_files(FILES, i, n) for i, n in positions], FILES)
    assert worker_hosts_from_env() == [f"host{i}" for i in range(count)]


def test_tf_config_without_chief_and_for_evaluators(monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = {"worker": ["a:1", "b:1"], "evaluator": ["c:1"]}
    monkeypatch.setenv(
        "TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 1}})
    )
    assert shard_from_env() == (1, 2)
    monkeypatch.setenv(
        "TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "evaluator", "index": 0}})
    )
    assert shard_from_env() is None
    monkeypatch.setenv(
        "TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 2}})
    )
    with pytest.raises(ValueError, match="TF_CONFIG task worker:2"):
        shard_from_env()
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="TF_CONFIG is not valid JSON"):
        shard_from_env()


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5])
def test_env_shards(count: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TF_CONFIG", raising=False)
    monkeypatch.setenv("HOPSFS_SHARD_COUNT", str(count))
    shards = []
    for i in range(count):
        monkeypatch.setenv("HOPSFS_SHARD_INDEX", str(i))
        index, n = shard_from_env() or (-1, -1)
        shards.append(shard_files(FILES, index, n))
    assert_partition(shards, FILES)


def test_no_configuration_means_no_sharding(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TF_CONFIG", "HOPSFS_SHARD_INDEX", "HOPSFS_SHARD_COUNT"):
        monkeypatch.delenv(name, raising=False)
    assert shard_from_env() is None
    assert worker_hosts_from_env() is None


@pytest.mark.parametrize(
    ("index", "count", "message"),
    [
        ("x", "2", "HOPSFS_SHARD_INDEX='x' is not an integer"),
        ("0", "two", "HOPSFS_SHARD_COUNT='two' is not an integer"),
        ("2", "2", r"index must be in \[0, 2\)"),
        ("0", "0", "count must be at least 1"),
        ("0", None, "HOPSFS_SHARD_COUNT is not set"),
    ],
)
def test_invalid_env_names_the_variable(
    index: str, count: str | None, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TF_CONFIG", raising=False)
    monkeypatch.setenv("HOPSFS_SHARD_INDEX", index)
    if count is None:
        monkeypatch.delenv("HOPSFS_SHARD_COUNT", raising=False)
    else:
        monkeypatch.setenv("HOPSFS_SHARD_COUNT", count)
    with pytest.raises(ValueError, match=message):
        shard_from_env()


def test_invalid_explicit_shard() -> None:
    with pytest.raises(ValueError, match=r"index must be in \[0, 3\)"):
        shard_files(FILES, 3, 3)
    with pytest.raises(TypeError, match="list of file paths"):
        shard_files("/data/one.tfrecord", 0, 1)
    with pytest.raises(ValueError, match="needs fs="):
        shard_files(FILES, 0, 1, prefer_local=True)


def write_files(fs: HopsFileSystem, directory: str, sizes: list[int]) -> list[str]:
    """Files of the given sizes, one block each on one datanode (replication 1)."""
    paths = [f"{directory}/f{i}.bin" for i in range(len(sizes))]
    for path, size in zip(paths, sizes):
        with fs.open(path, "wb", replication=1) as f:
            f.write(b"x" * size)
    return paths


def test_locality_prefers_the_host_holding_the_blocks(fs: HopsFileSystem, hdfs_dir: str) -> None:
    paths = write_files(fs, hdfs_dir, [5000, 1000, 1000, 1000, 1000, 1000])
    assert {h for p in paths for b in fs.block_locations(p) for h in b["hosts"]} == {"127.0.0.1"}
    shards = locality_assignment(fs, paths, [ELSEWHERE, "127.0.0.1"])
    assert_partition(shards, paths)
    assert paths[0] in shards[1]  # the largest file goes to the worker on its host, not to worker 0
    assert sum(map(len, shards)) == 6 and all(shards)  # and the other worker still gets work
    # the same assignment through shard_files, with the worker hosts taken from TF_CONFIG
    config = {
        "cluster": {"worker": [f"{ELSEWHERE}:2222", "127.0.0.1:2222"]},
        "task": {"type": "worker", "index": 0},
    }
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TF_CONFIG", json.dumps(config))
        assert [shard_files(paths, i, 2, prefer_local=True, fs=fs) for i in (0, 1)] == shards


def test_locality_per_datanode(fs: HopsFileSystem, cluster: LocalCluster, hdfs_dir: str) -> None:
    """All datanodes run on 127.0.0.1 here, so workers name their datanode as host:port."""
    paths = write_files(fs, hdfs_dir, [1000] * 9)
    locations = {p: fs.block_locations(p) for p in paths}
    holder = {p: locations[p][0]["names"][0] for p in paths}
    workers = [f"127.0.0.1:{cluster.state.ports[dn]['xfer']}" for dn in cluster.datanode_names]
    assert set(holder.values()) <= set(workers)
    shards = locality_assignment(fs, paths, workers)
    assert_partition(shards, paths)
    share = -(-len(paths) // len(workers))
    for worker, shard in zip(workers, shards):
        local = [p for p in shard if holder[p] == worker]
        held = sum(1 for p in paths if holder[p] == worker)
        assert len(local) == min(held, share), (worker, shard)
        assert shard[: len(local)] == local  # local files come first
    assert max(map(len, shards)) - min(map(len, shards)) <= 1


def test_shuffled_epochs_keep_the_local_files(fs: HopsFileSystem, hdfs_dir: str) -> None:
    """With prefer_local and shuffle, locality decides each reader's files (the same in every
    epoch) and the shuffle only their order per epoch: readers still partition the files."""
    paths = write_files(fs, hdfs_dir, [3000] + [1000] * 11)
    config = {
        "cluster": {"worker": [f"{ELSEWHERE}:2222", "127.0.0.1:2222"]},
        "task": {"type": "worker", "index": 0},
    }
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TF_CONFIG", json.dumps(config))
        local = [shard_files(paths, i, 2, prefer_local=True, fs=fs) for i in (0, 1)]
        epochs = [
            [
                epoch_shard(paths, (i, 2), epoch, shuffle=True, seed=7, prefer_local=True, fs=fs)
                for i in (0, 1)
            ]
            for epoch in range(3)
        ]
    assert paths[0] in local[1]  # the largest file stays with the worker on its host
    for shards in epochs:
        assert_partition(shards, paths)
        assert [sorted(s) for s in shards] == [sorted(s) for s in local]
    assert len({tuple(shards[1]) for shards in epochs}) > 1  # a new order per epoch
