"""PyIceberg's SqlCatalog with hopsfs:// and hdfs:// warehouses through HopsFileIO (py-io-impl):
create, append, scan with a filter and a projection, in a fresh process without the JVM."""

from __future__ import annotations

import os

import pytest
from tool_process import run_python

pytest.importorskip("pyiceberg")

from hopsfs_tools import hdfs

SCRIPT = """
import tempfile
import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
work = tempfile.mkdtemp()
catalog = SqlCatalog(
    "project",
    uri=f"sqlite:///{{work}}/catalog.db",
    warehouse={warehouse!r},
    **{{"py-io-impl": "hopsfs_tools.adapters.iceberg.HopsFileIO"}},
)
catalog.create_namespace("sales")
table = catalog.create_table("sales.orders", schema=pa.schema([("id", pa.int64()), ("item", pa.string())]))
table.append(pa.table({{"id": [1, 2, 3], "item": ["a", "b", "c"]}}))
table.append(pa.table({{"id": [4], "item": ["d"]}}))
print(table.location())
again = catalog.load_table("sales.orders")
print(sorted(again.scan(row_filter="id > 1", selected_fields=("id",)).to_arrow()["id"].to_pylist()))
print(len(again.snapshots()))
"""


def test_create_append_scan_without_a_jvm(project: str) -> None:
    """hopsfs:// on the native backend, a project's hdfs:// URL on WebHDFS."""
    native = os.environ["HOPSFS_BACKEND"] == "native"
    warehouse = "hopsfs://DataSets/iceberg" if native else hdfs.project_path() + "DataSets/iceberg"
    location, ids, snapshots = run_python(SCRIPT.format(warehouse=warehouse), no_jvm=True).split(
        "\n"
    )[-4:-1]
    assert location.startswith("hopsfs://" if native else "hdfs://")
    assert (ids, snapshots) == ("[2, 3, 4]", "2")
    fs = hdfs.get_fs()
    files = fs.find(f"/Projects/{project}/DataSets/iceberg/sales/orders")
    assert sum(p.endswith(".parquet") for p in files) == 2  # one data file per append
    assert sum(p.endswith(".metadata.json") for p in files) == 3  # create + 2 appends
    assert {fs.info(p)["owner"] for p in files} == {f"{project}__alice"}


def test_a_missing_table_file_is_the_filesystems_error(project: str) -> None:
    from hopsfs_tools.adapters.iceberg import HopsFileIO

    io = HopsFileIO({})
    with pytest.raises(FileNotFoundError) as error:
        len(io.new_input("hopsfs://DataSets/iceberg/missing.metadata.json"))
    assert "missing.metadata.json" in str(error.value)
    assert len(str(error.value).splitlines()) == 1
    target = io.new_output("hopsfs:///Projects/no_such_project/t/x.json")
    with pytest.raises((PermissionError, FileNotFoundError)) as error, target.create() as f:
        f.write(b"{}")
    assert "/Projects/no_such_project" in str(error.value)
