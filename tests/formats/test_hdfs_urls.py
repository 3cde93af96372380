"""hdfs:// and viewfs:// URLs resolve to HopsFileSystem for every fsspec consumer (pandas,
pyarrow's FSSpecHandler), whatever was imported first; pandas' parquet functions too."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import fsspec
import pandas as pd
import pytest
from fs_cache import close_cached_filesystems
from pyarrow.fs import FSSpecHandler, PyFileSystem

from hopsfs_tools import hdfs
from hopsfs_tools.config import BACKENDS
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.hopsworks.admin import create_project

ADULT = pd.DataFrame({"age": [39, 50, 38], "workclass": ["State-gov", "Private", "Private"]})


@pytest.fixture(params=BACKENDS)
def project(request, cluster, cluster_env, monkeypatch) -> Iterator[str]:
    """A fresh project whose user P__alice acts, with the backend under test as the default."""
    name = f"u{uuid.uuid4().hex[:8]}"
    admin = HopsFileSystem(user=cluster.state.user, skip_instance_cache=True)
    create_project(name, "alice", admin)
    for key in ("HOPSFS_PROJECT", "HOPSWORKS_PROJECT_NAME"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HADOOP_USER_NAME", f"{name}__alice")
    monkeypatch.setenv("HOPSFS_BACKEND", request.param)
    yield name
    hdfs.close()  # hdfs-native binds one user per process: release it for the next test
    close_cached_filesystems()  # and the filesystems pandas/dask made for hdfs:// URLs
    admin.rm(f"/Projects/{name}", recursive=True)
    admin.close()


def python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter with `env`."""
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_fsspec_resolves_hdfs_and_viewfs_to_hopsfilesystem() -> None:
    for scheme in ("hdfs", "viewfs"):
        assert issubclass(fsspec.get_filesystem_class(scheme), HopsFileSystem)


def test_hdfs_native_style_host_and_port(cluster, cluster_env, hdfs_dir: str) -> None:
    host, port = cluster.namenode_uri.removeprefix("hdfs://").rsplit(":", 1)
    fs = fsspec.filesystem("hdfs", host=host, port=int(port), skip_instance_cache=True)
    assert isinstance(fs, HopsFileSystem) and fs.config.namenode_uri == cluster.namenode_uri
    fs.pipe_file(f"{hdfs_dir}/hp.txt", b"host and port")
    assert fs.cat_file(f"{hdfs_dir}/hp.txt") == b"host and port"


def test_the_headline_line_and_its_write_twin(project: str) -> None:
    """`pd.read_csv(hdfs.project_path() + "Resources/adult.csv")`, on every backend."""
    path = hdfs.project_path() + "Resources/adult.csv"
    assert path.startswith("hdfs://")
    ADULT.to_csv(path, index=False)
    pd.testing.assert_frame_equal(pd.read_csv(path), ADULT)
    for same in (
        f"hdfs:///Projects/{project}/Resources/adult.csv",  # the configured cluster
        f"viewfs:///Projects/{project}/Resources/adult.csv",
    ):
        pd.testing.assert_frame_equal(pd.read_csv(same), ADULT)
    info = hdfs.get_fs().info(f"/Projects/{project}/Resources/adult.csv")
    assert info["owner"] == f"{project}__alice"  # written as the project user, through us
    fs, stripped = fsspec.core.url_to_fs(path)
    assert isinstance(fs, HopsFileSystem) and stripped == f"/Projects/{project}/Resources/adult.csv"
    assert fs.config.backend == os.environ["HOPSFS_BACKEND"]


def test_parquet_through_project_path(project: str) -> None:
    """pandas tries pyarrow's own HDFS client first for hdfs:// parquet URLs: ours serves them."""
    path = hdfs.project_path() + "DataSets/adult.parquet"
    ADULT.to_parquet(path)
    pd.testing.assert_frame_equal(pd.read_parquet(path), ADULT)
    pd.testing.assert_frame_equal(pd.read_parquet(path, columns=["age"]), ADULT[["age"]])
    assert hdfs.get_fs().info(f"/Projects/{project}/DataSets/adult.parquet")["owner"] == (
        f"{project}__alice"
    )


def test_dask_and_polars(project: str) -> None:
    """dask resolves hdfs:// URLs with fsspec; polars (2.x) reads them with its own object store,
    which has no HDFS, so it is handed a file opened through fsspec."""
    dd = pytest.importorskip("dask.dataframe")
    pl = pytest.importorskip("polars")
    root = hdfs.project_path()
    dd.from_pandas(ADULT, npartitions=2).to_parquet(root + "DataSets/adult_dask")
    back = dd.read_parquet(root + "DataSets/adult_dask").compute()
    assert back.reset_index(drop=True).to_dict("list") == ADULT.to_dict("list")
    ADULT.to_csv(root + "Resources/adult.csv", index=False)
    assert dd.read_csv(root + "Resources/adult.csv").compute()["age"].tolist() == [39, 50, 38]
    with fsspec.open(root + "Resources/adult.csv") as f:
        assert pl.read_csv(f)["age"].to_list() == [39, 50, 38]
    owner = hdfs.get_fs().info(f"/Projects/{project}/DataSets/adult_dask")["owner"]
    assert owner == f"{project}__alice"


def test_a_missing_file_is_our_clean_error(project: str) -> None:
    path = hdfs.project_path() + "Resources/missing.csv"
    with pytest.raises(FileNotFoundError) as error:
        pd.read_csv(path)
    message = str(error.value)
    assert f"/Projects/{project}/Resources/missing.csv" in message and "check the path" in message
    assert "org.apache" not in message and len(message.splitlines()) == 1


def test_pyarrow_fsspec_handler_over_an_hdfs_url(project: str) -> None:
    path = hdfs.project_path() + "Resources/notes.txt"
    hdfs.dump(b"pyarrow", path)
    fs = PyFileSystem(FSSpecHandler(fsspec.filesystem("hdfs")))
    with fs.open_input_stream(f"/Projects/{project}/Resources/notes.txt") as f:
        assert f.read() == b"pyarrow"


def test_registration_wins_whatever_was_imported_first(cluster, hdfs_dir: str) -> None:
    """hdfs-native's classes resolved (and pandas.io.parquet imported) before hopsfs_tools."""
    code = f"""
import fsspec, hdfs_native.fsspec, pandas.io.parquet
import pandas as pd
assert fsspec.get_filesystem_class("hdfs") is hdfs_native.fsspec.HdfsFileSystem
import hopsfs_tools
from hopsfs_tools.fs import HopsFileSystem
assert issubclass(fsspec.get_filesystem_class("hdfs"), HopsFileSystem)
url = "{cluster.namenode_uri}{hdfs_dir}/first.parquet"
pd.DataFrame({{"x": [1]}}).to_parquet(url)
assert pd.read_parquet(url)["x"].tolist() == [1]
print("ok")
"""
    env = {**os.environ, **cluster.env(), "HADOOP_USER_NAME": cluster.state.user}
    done = python(code, env)
    assert done.stdout.strip() == "ok", done.stderr[-2000:]


def test_hdfs_urls_with_nothing_configured(cluster, hdfs_dir: str, tmp_path) -> None:
    """The URL's host:port names the NameNode (as for hdfs-native); without one, our error."""
    code = f"""
import pandas as pd, hopsfs_tools
url = "{cluster.namenode_uri}{hdfs_dir}/bare.csv"
pd.DataFrame({{"x": [7]}}).to_csv(url, index=False)
assert pd.read_csv(url)["x"].tolist() == [7]
try:
    pd.read_csv("hdfs://{hdfs_dir}/bare.csv")
except ValueError as e:
    print("ok", e)
"""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HOPSFS_", "HADOOP_CONF_DIR", "HADOOP_HOME"))
    }
    env.update(
        HADOOP_USER_NAME=cluster.state.user,
        XDG_CACHE_HOME=str(tmp_path),
        HOPSFS_TOOLS_CACHE=str(tmp_path / "cache"),
    )
    done = python(code, env)
    assert done.stdout.startswith("ok No HDFS cluster configured"), done.stderr[-2000:]
