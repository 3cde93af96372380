"""PyTorch datasets against the real cluster: every record exactly once across DataLoader workers
and ranks. Skipped as a whole when torch is not importable."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")


from hopsfs_tools import HopsFileSystem
from hopsfs_tools.adapters.torch import (
    ParquetIterableDataset,
    TFRecordIterableDataset,
    data_loader,
    worker_shard,
)
from hopsfs_tools.cluster import LocalCluster
from hopsfs_tools.formats.tfrecord import TFRecordWriter

FILES, PER_FILE = 5, 37


@pytest.fixture
def fs(cluster: LocalCluster) -> HopsFileSystem:
    return HopsFileSystem(namenode=cluster.namenode_uri, webhdfs_url=cluster.webhdfs_url)


@pytest.fixture
def shards(fs: HopsFileSystem, hdfs_dir: str) -> list[bytes]:
    """FILES GZIP TFRecord files of PER_FILE records each (plus a _SUCCESS marker); the records."""
    records = []
    for i in range(FILES):
        with fs.open(f"{hdfs_dir}/train-{i:05d}.tfrecord.gz", "wb") as f:
            writer = TFRecordWriter(f, compression="GZIP")
            for j in range(PER_FILE):
                record = f"file {i} record {j} ".encode() * (j % 7 + 1)
                writer.write(record)
                records.append(record)
            writer.close()
    fs.pipe(f"{hdfs_dir}/_SUCCESS", b"")
    return records


def read_all(dataset: object, workers: int, context: str = "forkserver") -> list[object]:
    """Everything the dataset yields through data_loader (forkserver workers by default)."""
    return list(data_loader(dataset, workers, multiprocessing_context=context if workers else None))


@pytest.mark.parametrize("workers", [0, 2])
def test_tfrecords_read_exactly_once_by_dataloader_workers(
    shards: list[bytes], fs: HopsFileSystem, hdfs_dir: str, workers: int
) -> None:
    dataset = TFRecordIterableDataset(f"{hdfs_dir}/train-*.tfrecord.gz", compression="GZIP", fs=fs)
    records = read_all(dataset, workers)
    assert sorted(records) == sorted(shards)


FORK_SCRIPT = """
import sys
from hopsfs_tools import HopsFileSystem
from hopsfs_tools.adapters.torch import TFRecordIterableDataset, data_loader
namenode, webhdfs, pattern = sys.argv[1:]
fs = HopsFileSystem(namenode=namenode, webhdfs_url=webhdfs, timeout=2)
dataset = TFRecordIterableDataset(pattern, compression="GZIP", fs=fs)
parent = sorted(data_loader(dataset, 0))  # the parent reads (and caches clients) first
children = sorted(data_loader(dataset, 2, multiprocessing_context="fork"))
assert parent == children, (len(parent), len(children))
print(len(children))
"""


def test_forked_workers_open_their_own_filesystem(
    shards: list[bytes], cluster: LocalCluster, hdfs_dir: str
) -> None:
    """The plain "fork" start works too, straight after the parent's read (a child forked while
    hdfs-native's pooled DataNode connections were alive could stall for good). Run in a fresh
    interpreter: this test session has TensorFlow and a JVM loaded, after which no library is
    fork-safe."""
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            FORK_SCRIPT,
            cluster.namenode_uri,
            cluster.webhdfs_url,
            f"{hdfs_dir}/train-*",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split()[-1] == str(len(shards))


def test_ranks_and_workers_split_a_directory(
    shards: list[bytes], cluster: LocalCluster, hdfs_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fs = HopsFileSystem(namenode=cluster.namenode_uri, webhdfs_url=cluster.webhdfs_url, timeout=2)
    dataset = TFRecordIterableDataset(hdfs_dir, compression="GZIP", fs=fs, transform=len)
    monkeypatch.setenv("WORLD_SIZE", "2")
    per_rank = []
    for rank in ("0", "1"):
        monkeypatch.setenv("RANK", rank)
        per_rank.append(read_all(dataset, 2))  # the pickled dataset carries RANK
    assert all(per_rank)
    assert sorted(per_rank[0] + per_rank[1]) == sorted(map(len, shards))


def test_shuffle_files_changes_order_per_epoch_not_content(
    shards: list[bytes], fs: HopsFileSystem, hdfs_dir: str
) -> None:
    files = [f"{hdfs_dir}/train-{i:05d}.tfrecord.gz" for i in range(FILES)]
    dataset = TFRecordIterableDataset(files, compression="GZIP", fs=fs, shuffle_files=True, seed=3)
    first = read_all(dataset, 0)
    assert read_all(dataset, 0) == first  # same seed and epoch: same order
    dataset.set_epoch(1)
    second = read_all(dataset, 2)
    assert sorted(first) == sorted(second) == sorted(shards)
    assert read_all(dataset, 0) != first


def test_parquet_batches_exactly_once_across_ranks_and_workers(
    fs: HopsFileSystem, hdfs_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forkserver workers get their rank from the pickled dataset, not their own environment."""
    frame = pd.DataFrame({"id": np.arange(900), "x": np.linspace(0, 1, 900), "s": ["a"] * 900})
    with fs.open(f"{hdfs_dir}/t.parquet", "wb") as f:
        frame.to_parquet(f, row_group_size=100)
    dataset = ParquetIterableDataset(f"{hdfs_dir}/t.parquet", ["id", "x"], 64, fs=fs)
    monkeypatch.setenv("WORLD_SIZE", "2")
    batches = []
    for rank in ("0", "1"):
        monkeypatch.setenv("RANK", rank)
        batches += read_all(dataset, 2)
    assert all(isinstance(b["id"], torch.Tensor) and len(b["id"]) <= 64 for b in batches)
    ids = torch.cat([b["id"] for b in batches])
    assert sorted(ids.tolist()) == list(range(900))
    assert torch.allclose(
        torch.cat([b["x"] for b in batches]).sort().values, torch.tensor(frame["x"].to_numpy())
    )


def test_rank_from_environment_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "3")
    assert worker_shard() == (3, 4)
    monkeypatch.setenv("RANK", "four")
    with pytest.raises(ValueError, match="RANK='four' is not an integer"):
        worker_shard()
    monkeypatch.setenv("RANK", "4")
    with pytest.raises(ValueError, match=r"RANK=4 must be in \[0, WORLD_SIZE=4\)"):
        worker_shard()


def test_missing_glob_says_so(fs: HopsFileSystem, hdfs_dir: str) -> None:
    dataset = TFRecordIterableDataset(f"{hdfs_dir}/none-*.tfrecord", fs=fs)
    with pytest.raises(FileNotFoundError, match="no files match"):
        read_all(dataset, 0)
