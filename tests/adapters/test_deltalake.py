"""deltalake's write_deltalake and DeltaTable on project paths (hopsfs://DataSets/t, a project's
hdfs:// URL) through hopsfs_tools.adapters.deltalake, as the project user, and on an HA cluster
whose nameservice delta-rs learns from the options passed (no JVM: delta-rs is hdfs-native)."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from cluster_cli import cli_cluster
from tool_process import run_python

pytest.importorskip("deltalake")

from hopsfs_tools import hdfs
from hopsfs_tools.adapters.deltalake import DeltaTable, delta_location, write_deltalake
from hopsfs_tools.cluster import LocalCluster

ORDERS = pd.DataFrame({"id": [1, 2, 3], "item": ["a", "b", "c"]})


def test_write_append_read_on_project_paths(project: str) -> None:
    for url in ("hopsfs://DataSets/orders", hdfs.project_path() + "DataSets/orders_hdfs"):
        write_deltalake(url, ORDERS)
        write_deltalake(url, ORDERS.assign(id=ORDERS.id + 3), mode="append")
        table = DeltaTable(url)
        assert table.version() == 1
        assert sorted(table.to_pandas()["id"]) == [1, 2, 3, 4, 5, 6]
        name = url.rstrip("/").rsplit("/", 1)[1]
        log = hdfs.get_fs().ls(f"/Projects/{project}/DataSets/{name}/_delta_log", detail=True)
        assert {entry["owner"] for entry in log} == {f"{project}__alice"}
    uri, options = delta_location("hopsfs://DataSets/orders")
    assert uri == hdfs.project_path() + "DataSets/orders"
    assert options.get("fs.defaultFS") and all(isinstance(v, str) for v in options.values())


def test_missing_tables_and_projects_are_the_filesystems_errors(project: str) -> None:
    with pytest.raises(FileNotFoundError) as error:
        DeltaTable("hopsfs://DataSets/no_table")
    assert "DataSets/no_table" in str(error.value)
    assert len(str(error.value).splitlines()) == 1
    with pytest.raises((PermissionError, FileNotFoundError)) as error:
        write_deltalake("hopsfs:///Projects/no_such_project/DataSets/t", ORDERS)
    assert "/Projects/no_such_project" in str(error.value)
    assert len(str(error.value).splitlines()) == 1 and "org.apache" not in str(error.value)


@pytest.fixture(scope="module")
def ha_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    directory = tmp_path_factory.mktemp("delta-ha") / "cluster"
    with cli_cluster(directory, "--ha", "--datanodes", "1", fs_uri="hdfs://hopsfs") as local:
        yield local


HA_SCRIPT = """
import pandas as pd
from hopsfs_tools.adapters.deltalake import DeltaTable, write_deltalake
options = {{"conf_dir": {conf_dir!r}}}  # the only place the nameservice is described
write_deltalake("hopsfs:///tables/orders", pd.DataFrame({{"id": [1, 2]}}), storage_options=options)
write_deltalake(
    "hdfs://hopsfs/tables/orders", pd.DataFrame({{"id": [3]}}), mode="append", storage_options=options
)
table = DeltaTable("hopsfs:///tables/orders", storage_options=options)
print(table.version(), sorted(table.to_pandas()["id"]))
"""


@pytest.mark.slow
def test_on_an_ha_cluster(ha_cluster: LocalCluster) -> None:
    """The nameservice `hopsfs` of two NameNodes: delta-rs learns it only from the options the
    adapter passes (no HADOOP_CONF_DIR in the environment)."""
    env = {
        "HADOOP_CONF_DIR": "",
        "HADOOP_USER_NAME": ha_cluster.state.user,
        "HOPSFS_NAMENODE_URI": "",
        "HOPSFS_WEBHDFS_URL": "",
    }
    script = HA_SCRIPT.format(conf_dir=str(ha_cluster.conf_dir))
    out = run_python(script, env=env, no_jvm=True)
    assert out.split("\n")[-2] == "1 [1, 2, 3]"
