"""`eval "$(hopsfs-tools env)"` and `export_hadoop_environment()`: pyarrow's own HadoopFileSystem,
and PyIceberg's PyArrowFileIO (which builds on it), reach the cluster unchanged in a fresh
process; a missing JDK is one line saying what to install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tool_process import JVM_VARIABLES, run_python

from hopsfs_tools import hdfs

CLI = [sys.executable, "-m", "hopsfs_tools.cli"]

PYARROW = """
import pyarrow.fs as pafs
fs = pafs.HadoopFileSystem("default")
with fs.open_input_stream({path!r}) as f:
    print(f.read().decode())
"""

ICEBERG = """
import tempfile
import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
catalog = SqlCatalog("c", uri=f"sqlite:///{{tempfile.mkdtemp()}}/c.db", warehouse={warehouse!r})
catalog.create_namespace("ns")
table = catalog.create_table("ns.t", schema=pa.schema([("a", pa.int64())]))
table.append(pa.table({{"a": [1, 2, 3]}}))
print(type(table.io).__name__, catalog.load_table("ns.t").scan().to_arrow().num_rows)
"""


def test_eval_env_then_pyarrows_own_hadoop_filesystem_and_pyiceberg(native_project: str) -> None:
    path = f"/Projects/{native_project}/Resources/hello.txt"
    hdfs.dump("hello from the JVM side", path)
    script = 'eval "$($HOPSFS_CLI env)" && "$PYTHON" -c "$PYARROW" && "$PYTHON" -c "$ICEBERG"'
    env = {k: v for k, v in os.environ.items() if k not in JVM_VARIABLES}
    env |= {
        "HOPSFS_CLI": " ".join(CLI),
        "PYTHON": sys.executable,
        "PYARROW": PYARROW.format(path=path),
        "ICEBERG": ICEBERG.format(warehouse=hdfs.project_path() + "DataSets/iceberg_jvm"),
    }
    done = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split("\n")[:2] == ["hello from the JVM side", "PyArrowFileIO 3"]
    files = hdfs.get_fs().find(f"/Projects/{native_project}/DataSets/iceberg_jvm")
    assert any(p.endswith(".parquet") for p in files)


def test_the_python_call_for_a_running_notebook(native_project: str) -> None:
    path = f"/Projects/{native_project}/Resources/notebook.txt"
    hdfs.dump("from a notebook", path)
    code = (
        "from hopsfs_tools.hadoop.environment import export_hadoop_environment\n"
        "export_hadoop_environment()\n" + PYARROW.format(path=path)
    )
    out = run_python(code)
    assert out.strip() == "from a notebook"


def test_a_missing_jdk_is_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in JVM_VARIABLES}
    env["PATH"] = os.path.dirname(sys.executable)  # no `java`
    env["HADOOP_CONF_DIR"] = str(tmp_path)
    done = subprocess.run(
        [*CLI, "env"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert "no Java found" in done.stderr and "openjdk-17-jdk-headless" in done.stderr


def test_no_conf_dir_is_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "HADOOP_CONF_DIR"}
    done = subprocess.run(
        [*CLI, "env"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 1 and "HADOOP_CONF_DIR" in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr


@pytest.mark.parametrize("missing", ["file", "project"])
def test_a_missing_file_or_project_through_the_jvm_is_a_clean_error(
    native_project: str, missing: str
) -> None:
    """What pyarrow's HadoopFileSystem says: its own FileNotFoundError, not a Java trace."""
    path = (
        f"/Projects/{native_project}/Resources/missing.txt"
        if missing == "file"
        else "/Projects/no_such_project/x.txt"
    )
    code = (
        "from hopsfs_tools.hadoop.environment import export_hadoop_environment\n"
        "export_hadoop_environment()\n"
        "import pyarrow.fs as pafs\n"
        "try:\n"
        f"    pafs.HadoopFileSystem('default').open_input_stream({path!r})\n"
        "except OSError as e:\n"
        "    print(type(e).__name__, str(e).splitlines()[0])\n"
    )
    out = run_python(code)
    assert out.startswith("FileNotFoundError") and path in out, out
