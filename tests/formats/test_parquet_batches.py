"""parquet_batches against the real cluster: pandas- and Spark-style files and datasets."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from hopsfs_tools import HopsFileSystem
from hopsfs_tools.cluster import LocalCluster
from hopsfs_tools.formats.parquet import parquet_batches

ROWS = 1000


@pytest.fixture
def fs(cluster: LocalCluster) -> HopsFileSystem:
    return HopsFileSystem(namenode=cluster.namenode_uri, webhdfs_url=cluster.webhdfs_url)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "id": np.arange(ROWS, dtype=np.int64),
            "x": rng.random(ROWS),
            "label": rng.integers(0, 5, ROWS).astype(np.int32),
            "name": [f"row-{i}" for i in range(ROWS)],
            "country": np.array(["se", "de", "us", "in"])[np.arange(ROWS) % 4],
        }
    )


@pytest.fixture
def single_file(fs: HopsFileSystem, hdfs_dir: str, frame: pd.DataFrame) -> str:
    """One pandas-written file with several row groups."""
    path = f"{hdfs_dir}/frame.parquet"
    with fs.open(path, "wb") as f:
        frame.to_parquet(f, row_group_size=150, index=False)
    return path


@pytest.fixture
def spark_dataset(fs: HopsFileSystem, hdfs_dir: str, frame: pd.DataFrame) -> str:
    """A hive-partitioned directory laid out as Spark writes it: part files, _SUCCESS, .crc."""
    root = f"{hdfs_dir}/spark.parquet"
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_to_dataset(
        table,
        root,
        partition_cols=["country"],
        filesystem=fs,
        basename_template="part-{i}-c000.snappy.parquet",
        row_group_size=100,
    )
    fs.pipe(f"{root}/_SUCCESS", b"")
    for path in fs.find(root):
        if path.endswith(".parquet"):
            head, name = path.rsplit("/", 1)
            fs.pipe(f"{head}/.{name}.crc", b"not parquet")
    return root


def test_import_hopsfs_tools_imports_no_framework() -> None:
    code = (
        "import sys, hopsfs_tools, hopsfs_tools.sharding, hopsfs_tools.formats.parquet; "
        "print(sorted(m for m in ('torch', 'tensorflow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def collect(batches: list[pa.RecordBatch]) -> pd.DataFrame:
    return pa.Table.from_batches(batches).to_pandas()


@pytest.mark.parametrize("batch_size", [1, 64, 150, 333, ROWS, 5000])
def test_single_file_batches_equal_the_frame(
    single_file: str, fs: HopsFileSystem, frame: pd.DataFrame, batch_size: int
) -> None:
    batches = list(parquet_batches(single_file, batch_size=batch_size, fs=fs))
    sizes = [b.num_rows for b in batches]
    assert sizes[:-1] == [batch_size] * (len(sizes) - 1)
    assert 0 < sizes[-1] <= batch_size and sum(sizes) == ROWS
    pd.testing.assert_frame_equal(collect(batches), frame)


def test_partitioned_dataset_skips_marker_and_hidden_files(
    spark_dataset: str, fs: HopsFileSystem, frame: pd.DataFrame
) -> None:
    batches = list(parquet_batches(spark_dataset, batch_size=128, fs=fs, num_threads=4))
    assert [b.num_rows for b in batches][:-1] == [128] * (len(batches) - 1)
    out = collect(batches).sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(out[frame.columns], frame, check_dtype=False)


def test_columns_and_numpy_output(
    single_file: str, fs: HopsFileSystem, frame: pd.DataFrame
) -> None:
    batches = list(parquet_batches(single_file, ["label", "x"], 400, fs=fs, as_numpy=True))
    assert [sorted(b) for b in batches] == [["label", "x"]] * 3
    assert batches[0]["label"].dtype == np.int32
    np.testing.assert_array_equal(np.concatenate([b["x"] for b in batches]), frame["x"].to_numpy())


@pytest.mark.parametrize(
    "filter_",
    [
        [("country", "=", "se"), ("id", ">=", 500)],
        (ds.field("country") == "se") & (ds.field("id") >= 500),
    ],
    ids=["dnf", "expression"],
)
def test_filter_on_partition_and_data_columns(
    spark_dataset: str, fs: HopsFileSystem, frame: pd.DataFrame, filter_: object
) -> None:
    batches = list(parquet_batches(spark_dataset, ["id", "name"], 50, fs=fs, filter=filter_))
    expected = frame[(frame.country == "se") & (frame.id >= 500)][["id", "name"]]
    out = collect(batches).sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(out, expected.reset_index(drop=True))


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_shards_split_row_groups_disjoint_and_complete(
    single_file: str, spark_dataset: str, fs: HopsFileSystem, count: int
) -> None:
    for path in (single_file, spark_dataset):
        shards = [
            np.concatenate(
                [
                    b["id"]
                    for b in parquet_batches(
                        path, ["id"], 97, fs=fs, shard=(i, count), as_numpy=True
                    )
                ]
                or [np.array([], dtype=np.int64)]
            )
            for i in range(count)
        ]
        everything = np.sort(np.concatenate(shards))
        np.testing.assert_array_equal(everything, np.arange(ROWS))
        if path == single_file:  # 7 row groups of one file spread over all workers
            assert all(len(s) for s in shards)


def test_errors_name_the_problem(single_file: str, fs: HopsFileSystem, hdfs_dir: str) -> None:
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        parquet_batches(single_file, batch_size=0, fs=fs)
    with pytest.raises(FileNotFoundError, match="missing.parquet"):
        parquet_batches(f"{hdfs_dir}/missing.parquet", fs=fs)
    with pytest.raises(ValueError, match=r"index must be in \[0, 2\)"):
        parquet_batches(single_file, fs=fs, shard=(2, 2))


def test_tf_dataset_of_dicts(single_file: str, fs: HopsFileSystem, frame: pd.DataFrame) -> None:
    tf = pytest.importorskip("tensorflow")
    from hopsfs_tools.tensorflow import parquet_tf_dataset

    dataset = parquet_tf_dataset(single_file, ["id", "name", "x"], batch_size=300, fs=fs)
    batches = list(dataset.as_numpy_iterator())
    assert [len(b["id"]) for b in batches] == [300, 300, 300, 100]
    assert dataset.element_spec["name"].dtype == tf.string
    np.testing.assert_array_equal(
        np.concatenate([b["id"] for b in batches]), frame["id"].to_numpy()
    )
    assert [n.decode() for n in batches[-1]["name"]] == list(frame["name"][900:])
