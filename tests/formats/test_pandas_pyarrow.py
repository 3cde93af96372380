"""pandas and pyarrow on the cluster through hopsfs:// URLs, hdfs:// URLs and HopsFileSystem."""

from __future__ import annotations

import getpass
import os

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from pyarrow.fs import FileType, FSSpecHandler, PyFileSystem

from hopsfs_tools.config import BACKENDS
from hopsfs_tools.config.project import Project
from hopsfs_tools.fs import HopsFileSystem


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": range(6),
            "name": list("abcdef"),
            "score": [0.5, 1.5, 2.5, 3.5, 4.5, 5.5],
            "country": ["se", "fr", "se", "de", "fr", "se"],
        }
    )


@pytest.fixture(params=BACKENDS)
def fs(request, cluster) -> HopsFileSystem:
    return HopsFileSystem(
        backend=request.param, namenode=cluster.namenode_uri, webhdfs_url=cluster.webhdfs_url
    )


def options(fs: HopsFileSystem) -> dict[str, str]:
    """storage_options that make pandas' fsspec build this very filesystem."""
    return {
        "backend": fs.config.backend,
        "namenode": fs.config.namenode_uri,
        "webhdfs_url": fs.config.webhdfs_url or "",
    }


def test_csv_round_trip_through_hopsfs_urls(fs, hdfs_dir, frame):
    url = f"hopsfs://{hdfs_dir}/people.csv"
    frame.to_csv(url, index=False, storage_options=options(fs))
    assert fs.cat(f"{hdfs_dir}/people.csv").startswith(b"id,name,score,country\n0,a,0.5,se")
    pd.testing.assert_frame_equal(pd.read_csv(url, storage_options=options(fs)), frame)


def test_parquet_round_trip_through_hopsfs_urls(fs, hdfs_dir, frame):
    url = f"hopsfs://{hdfs_dir}/people.parquet"
    frame.to_parquet(url, storage_options=options(fs))
    assert pq.read_metadata(fs.open(f"{hdfs_dir}/people.parquet")).num_rows == len(frame)
    pd.testing.assert_frame_equal(pd.read_parquet(url, storage_options=options(fs)), frame)
    subset = pd.read_parquet(url, columns=["name"], storage_options=options(fs))
    assert list(subset["name"]) == list(frame["name"])


def test_environment_configured_urls_need_no_options(cluster_env, hdfs_dir, frame):
    """With HOPSFS_NAMENODE_URI (or HADOOP_CONF_DIR) set, plain pandas code just works."""
    frame.to_csv(f"hopsfs://{hdfs_dir}/env.csv", index=False)
    pd.testing.assert_frame_equal(pd.read_csv(f"hopsfs://{hdfs_dir}/env.csv"), frame)


def test_hdfs_urls_with_storage_options(cluster, hdfs_dir, frame):
    """hdfs://host:port/... URLs (fsspec's "hdfs" protocol, hdfs-native) interoperate with ours."""
    fs = HopsFileSystem(namenode=cluster.namenode_uri, webhdfs_url=cluster.webhdfs_url)
    url = f"{cluster.namenode_uri}{hdfs_dir}/from-hdfs-url.csv"
    frame.to_csv(url, index=False, storage_options={})
    pd.testing.assert_frame_equal(pd.read_csv(url, storage_options={}), frame)
    with fs.open(url) as f:  # the hdfs:// path, read through HopsFileSystem
        pd.testing.assert_frame_equal(pd.read_csv(f), frame)
    frame.to_parquet(f"hopsfs://{hdfs_dir}/ours.parquet", storage_options=options(fs))
    back = pd.read_parquet(f"{cluster.namenode_uri}{hdfs_dir}/ours.parquet", storage_options={})
    pd.testing.assert_frame_equal(back, frame)
    # our filesystem accepts hdfs:// paths too, e.g. handed to pandas as `filesystem=`
    via_fs = pd.read_parquet(f"{cluster.namenode_uri}{hdfs_dir}/ours.parquet", filesystem=fs)
    pd.testing.assert_frame_equal(via_fs, frame)


def test_partitioned_dataset_write_and_filtered_read(fs, hdfs_dir, frame):
    root = f"{hdfs_dir}/dataset"
    pq.write_to_dataset(
        pa.Table.from_pandas(frame), root, partition_cols=["country"], filesystem=fs
    )
    assert sorted(fs.ls(root, detail=False)) == [f"{root}/country={c}" for c in ("de", "fr", "se")]
    dataset = ds.dataset(root, filesystem=fs, partitioning="hive", format="parquet")
    table = dataset.to_table(filter=ds.field("country") == "se", columns=["id", "name"])
    assert sorted(table.column("id").to_pylist()) == [0, 2, 5]
    assert dataset.count_rows(filter=ds.field("score") > 2) == 4
    everything = pd.read_parquet(f"hopsfs://{root}", storage_options=options(fs))
    assert sorted(everything["id"]) == list(range(6))


def test_relative_paths_in_a_project(cluster, hdfs_dir, frame, monkeypatch):
    """hopsfs://rel URLs (pandas) and fs.to_pyarrow() (pyarrow) resolve against the project."""
    name = "p" + os.path.basename(hdfs_dir).rsplit("-", 1)[-1]
    project = Project(name, f"{name}__{getpass.getuser()}")  # who acts with HOPSFS_PROJECT set
    fs = HopsFileSystem(namenode=cluster.namenode_uri, webhdfs_url=cluster.webhdfs_url)
    fs.makedirs(project.root, exist_ok=True)
    fs.chown(project.root, owner=project.user)
    monkeypatch.setenv("HOPSFS_PROJECT", project.name)
    monkeypatch.setenv("HOPSFS_NAMENODE_URI", cluster.namenode_uri)
    # the project user over WebHDFS: this process's hdfs-native clients already act as `fs`'s user
    monkeypatch.setenv("HOPSFS_BACKEND", "webhdfs")
    monkeypatch.setenv("HOPSFS_WEBHDFS_URL", cluster.webhdfs_url)
    try:
        frame.to_parquet("hopsfs://Resources/ds", partition_cols=["country"])
        assert fs.isdir(f"{project.root}/Resources/ds/country=se")
        back = pd.read_parquet("hopsfs://Resources/ds")  # a directory: pyarrow dataset discovery
        assert sorted(back["id"]) == list(range(6))
        pafs = HopsFileSystem(namenode=cluster.namenode_uri).to_pyarrow()
        dataset = ds.dataset("Resources/ds", filesystem=pafs, partitioning="hive")
        assert dataset.count_rows(filter=ds.field("country") == "fr") == 2
    finally:
        fs.rm(project.root, recursive=True)


def test_pyarrow_pyfilesystem_over_hopsfs(fs, hdfs_dir, frame):
    pafs = PyFileSystem(FSSpecHandler(fs))
    table = pa.Table.from_pandas(frame)
    pq.write_table(table, f"{hdfs_dir}/t.parquet", filesystem=pafs)
    info = pafs.get_file_info(f"{hdfs_dir}/t.parquet")
    assert info.type == FileType.File and info.size == fs.size(f"{hdfs_dir}/t.parquet")
    assert info.mtime is not None
    assert pq.read_table(f"{hdfs_dir}/t.parquet", filesystem=pafs).equals(table)
    pafs.create_dir(f"{hdfs_dir}/d/e")
    assert pafs.get_file_info(f"{hdfs_dir}/d/e").type == FileType.Directory
    with pafs.open_output_stream(f"{hdfs_dir}/d/e/raw") as out:
        out.write(b"raw bytes")
    with pafs.open_input_file(f"{hdfs_dir}/d/e/raw") as f:
        assert f.read_at(4, 4) == b"byte"  # (nbytes, offset)
    pafs.move(f"{hdfs_dir}/d/e/raw", f"{hdfs_dir}/raw2")
    pafs.delete_dir(f"{hdfs_dir}/d")
    assert fs.ls(hdfs_dir, detail=False) == [f"{hdfs_dir}/raw2", f"{hdfs_dir}/t.parquet"]


def test_pydoop_style_open_file_feeds_pandas(fs, hdfs_dir, frame):
    """The Hopsworks notebook idiom: `h = hdfs.get_fs(); with h.open_file(path, "r") as f: ...`."""
    with fs.open_file(f"{hdfs_dir}/census.csv", "w") as out:
        out.write(frame.to_csv(index=False, header=False).encode())
    with fs.open_file(f"{hdfs_dir}/census.csv", "r") as f:
        back = pd.read_csv(f, names=list(frame.columns), sep=r"\s*,\s*", engine="python")
    pd.testing.assert_frame_equal(back, frame)
    with fs.open_file(f"{hdfs_dir}/census.csv", "rt") as f:
        assert f.readline() == "0,a,0.5,se\n"
