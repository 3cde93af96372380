"""Relative "hopsfs://rel" URLs resolve against the project of the filesystem they reach (its
storage_options), not the environment's; names come back in the form asked (issue #11)."""

from __future__ import annotations

import os

import fsspec
import pandas as pd
import pytest

from hopsfs_tools.fs import HopsFileSystem


@pytest.fixture
def two_projects(cluster, hdfs_dir, monkeypatch):
    """(env project, other project, a filesystem of the test user with no project): both
    projects world-writable; the environment names the first.

    Their users act through WebHDFS: this process's hdfs-native client acts as the test user."""
    tag = os.path.basename(hdfs_dir).rsplit("-", 1)[-1][:12]
    names = (f"env{tag}", f"oth{tag}")
    admin = HopsFileSystem(namenode=cluster.namenode_uri)
    for name in names:
        admin.makedirs(f"/Projects/{name}/Resources", exist_ok=True)
        for path in (f"/Projects/{name}", f"/Projects/{name}/Resources"):
            admin.chmod(path, 0o777)
    monkeypatch.setenv("HOPSFS_PROJECT", names[0])
    monkeypatch.delenv("HADOOP_USER_NAME", raising=False)
    yield (*names, admin)
    for name in names:
        admin.rm(f"/Projects/{name}", recursive=True)


def _options(cluster, project: str) -> dict[str, str]:
    return {
        "project": project,
        "backend": "webhdfs",
        "namenode": cluster.namenode_uri,
        "webhdfs_url": cluster.webhdfs_url,
    }


def test_fsspec_open_of_a_relative_url_goes_to_the_explicit_project(cluster, two_projects):
    env, other, admin = two_projects
    opts = _options(cluster, other)
    with fsspec.open("hopsfs://Resources/note.txt", "wb", **opts) as f:
        f.write(b"other's")
    assert admin.cat(f"/Projects/{other}/Resources/note.txt") == b"other's"
    assert not admin.exists(f"/Projects/{env}/Resources/note.txt")
    with fsspec.open("hopsfs://Resources/note.txt", "rb", **opts) as f:
        assert f.read() == b"other's"
    fs, path = fsspec.core.url_to_fs("hopsfs://Resources", **opts)
    assert path == "Resources" and fs.project.name == other
    # relative in, relative out (as fsspec's DirFileSystem); absolute in, absolute out
    assert fs.ls(path, detail=False) == ["Resources/note.txt"]
    assert fs.info("Resources/note.txt")["name"] == "Resources/note.txt"
    assert fs.find("") == ["Resources/note.txt"]
    assert fs.glob("*/*.txt") == ["Resources/note.txt"]
    absolute = f"/Projects/{other}/Resources"
    assert fs.ls(absolute, detail=False) == [f"{absolute}/note.txt"]
    assert fs.glob(f"{absolute}/*.txt") == [f"{absolute}/note.txt"]


def test_pandas_relative_urls_with_an_explicit_project(cluster, two_projects):
    env, other, admin = two_projects
    opts = _options(cluster, other)
    frame = pd.DataFrame({"id": range(6), "country": ["se", "fr", "se", "de", "fr", "se"]})
    frame.to_csv("hopsfs://Resources/people.csv", index=False, storage_options=opts)
    back = pd.read_csv("hopsfs://Resources/people.csv", storage_options=opts)
    pd.testing.assert_frame_equal(back, frame)
    frame.to_parquet("hopsfs://Resources/one.parquet", storage_options=opts)
    pd.testing.assert_frame_equal(
        pd.read_parquet("hopsfs://Resources/one.parquet", storage_options=opts), frame
    )
    # a partitioned dataset: pyarrow discovers the files below the relative base directory
    frame.to_parquet("hopsfs://Resources/ds", partition_cols=["country"], storage_options=opts)
    assert admin.isdir(f"/Projects/{other}/Resources/ds/country=se")
    assert not admin.exists(f"/Projects/{env}/Resources/ds")
    back = pd.read_parquet("hopsfs://Resources/ds", storage_options=opts)
    assert sorted(back["id"]) == list(range(6))
    assert sorted(back["country"].astype(str)) == sorted(frame["country"])


def test_dask_relative_urls_with_an_explicit_project(cluster, two_projects):
    dd = pytest.importorskip("dask.dataframe")
    env, other, admin = two_projects
    opts = _options(cluster, other)
    frame = pd.DataFrame({"id": range(8), "v": [x * 0.5 for x in range(8)]})
    dd.from_pandas(frame, npartitions=2).to_parquet("hopsfs://Resources/dk", storage_options=opts)
    assert admin.find(f"/Projects/{other}/Resources/dk")
    assert not admin.exists(f"/Projects/{env}/Resources/dk")
    back = dd.read_parquet("hopsfs://Resources/dk", storage_options=opts).compute()
    assert sorted(back["id"]) == list(range(8))
    dd.from_pandas(frame, npartitions=2).to_csv(
        "hopsfs://Resources/csv/*.csv", index=False, storage_options=opts
    )
    back = dd.read_csv("hopsfs://Resources/csv/*.csv", storage_options=opts).compute()
    assert sorted(back["id"]) == list(range(8))
