"""`hopsfs-tools demo` end to end: on the session cluster (configured through the environment)
and on an embedded local cluster that the demo starts, stops or keeps running itself.

The demo runs in its own process, as a user runs it: hdfs-native binds one HDFS user per process,
and the demo acts as two (the superuser creates the project, the project user does the rest).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from hdfs_native import Client

from hopsfs_tools import datasets
from hopsfs_tools import tensorflow as htf
from hopsfs_tools.cli.demo_workflow import CLUSTER_VARIABLES
from hopsfs_tools.cli.main import main
from hopsfs_tools.cluster import LocalCluster
from hopsfs_tools.formats.tfrecord import read_records
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.fs.commit import TEMP_MARKER

tf = pytest.importorskip("tensorflow")  # the demo trains a Keras model: extra [tf]


ROWS, IMAGES = 1500, 600
DATA_STEPS = [
    "create project",
    "import TensorFlow",
    "generate data locally",
    "write CSV",
    "read CSV with pandas",
    "write Parquet",
    "write TFRecord shards",
    "train Keras, 1 epoch",
    "save model",
]
PROCESS_ENV = ("HADOOP_USER_NAME", "HOPSFS_PROJECT", "HOPSWORKS_PROJECT_NAME", "HOPSFS_BACKEND")


def demo(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`hopsfs-tools demo` with small data in a new process with environment `env`."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "hopsfs_tools.cli",
            "demo",
            "--rows",
            str(ROWS),
            "--images",
            str(IMAGES),
            *args,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )


def base_env(**extra: str) -> dict[str, str]:
    """This process's environment naming no cluster, no project user and no backend."""
    env = {k: v for k, v in os.environ.items() if k not in (*CLUSTER_VARIABLES, *PROCESS_ENV)}
    return {**env, **extra}


def table_row(stdout: str, step: str) -> str:
    """The line of the demo's table for `step`."""
    rows = [line for line in stdout.splitlines() if line.startswith(step + "  ")]
    assert len(rows) == 1, f"no single table row for {step!r} in:\n{stdout}"
    return rows[0]


def daemons_of(directory: Path) -> list[int]:
    """Pids of processes whose command line names `directory` (the cluster's JVMs do)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and str(directory) in (proc / "cmdline").read_text():
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


@pytest.fixture
def project(superuser_client: Client) -> Iterator[str]:
    """A unique project name on the shared session cluster; the project is deleted afterwards."""
    name = f"demo{uuid.uuid4().hex[:8]}"
    yield name
    superuser_client.delete(f"/Projects/{name}", True)


def test_demo_twice_on_the_configured_cluster(
    cluster: LocalCluster, cluster_env: dict[str, str], project: str
) -> None:
    env = base_env(**cluster_env)
    root = f"/Projects/{project}"
    fs = HopsFileSystem(namenode=cluster.namenode_uri, webhdfs_url=cluster.webhdfs_url)
    mtimes = []
    for _ in range(2):  # idempotent: the rerun succeeds and replaces every file
        result = demo(env, "--project", project, "--user", "alice")
        assert result.returncode == 0, result.stderr[-3000:]
        assert cluster.namenode_uri in table_row(result.stdout, "use configured cluster")
        assert "start local cluster" not in result.stdout
        for step in DATA_STEPS:
            assert f"-> {step} ..." in result.stdout
            table_row(result.stdout, step)
        assert f"{root}/DataSets/adult.parquet" in table_row(result.stdout, "write Parquet")
        assert f"{ROWS:,} rows" in table_row(result.stdout, "read CSV with pandas")
        assert f"export HADOOP_USER_NAME={project}__alice" in result.stdout
        mtimes.append(fs.info(f"{root}/Models/digits.keras")["mtime"])
    assert mtimes[1] > mtimes[0]

    assert fs.info(root)["owner"] == f"{project}__alice"
    assert {p.rsplit("/", 1)[1] for p in fs.ls(root, detail=False)} >= {
        "Resources",
        "Jupyter",
        "Logs",
        "Models",
        "Experiments",
        "DataSets",
    }
    csv = f"{root}/Resources/adult.csv"
    assert fs.info(csv)["owner"] == f"{project}__alice"
    with fs.open(csv, "rb") as f:
        frame = pd.read_csv(f)  # a header and plain "," separators: the obvious call works
    assert list(frame.columns) == datasets.CENSUS_COLUMNS
    with fs.open(f"{root}/DataSets/adult.parquet", "rb") as f:
        parquet = pd.read_parquet(f)
    assert len(frame) == len(parquet) == ROWS
    assert list(parquet.columns) == datasets.CENSUS_COLUMNS

    shards = sorted(fs.ls(f"{root}/DataSets/digits", detail=False))
    assert [s.rsplit("/", 1)[1] for s in shards] == [
        f"train-{i:05d}-of-00004.tfrecord" for i in range(4)
    ]
    records = []
    for shard in shards:
        with fs.open(shard, "rb") as f:
            records += list(read_records(f))
    assert len(records) == IMAGES
    example = tf.train.Example.FromString(records[0])
    assert len(example.features.feature["image"].bytes_list.value[0]) == 28 * 28

    model = htf.load_model(f"{root}/Models/digits.keras", fs=fs)
    assert model.predict(tf.zeros((2, 28 * 28)), verbose=0).shape == (2, 10)
    leftovers = [p for p in fs.find(root, withdirs=True) if TEMP_MARKER in p]
    assert leftovers == []


def test_demo_starts_its_own_cluster_and_stops_it(tmp_path: Path) -> None:
    directory = tmp_path / "cluster"
    result = demo(base_env(), "--dir", str(directory), "--datanodes", "1")
    try:
        assert result.returncode == 0, result.stderr[-3000:]
        assert str(directory) in table_row(result.stdout, "start local cluster")
        assert "data removed" in table_row(result.stdout, "stop local cluster")
        for step in DATA_STEPS:
            table_row(result.stdout, step)
        assert "--keep-running" in result.stdout
        assert daemons_of(directory) == []
        assert not directory.exists()
    finally:
        if directory.exists():
            LocalCluster(directory).down()


def test_keep_running_then_rerun_leaves_the_cluster_up_and_the_hints_work(tmp_path: Path) -> None:
    directory = tmp_path / "cluster"
    try:
        kept = demo(base_env(), "--dir", str(directory), "--datanodes", "1", "--keep-running")
        assert kept.returncode == 0, kept.stderr[-3000:]
        assert "stop local cluster" not in kept.stdout
        assert LocalCluster(directory).is_running()

        rerun = demo(base_env(), "--dir", str(directory))  # a running cluster is left running
        assert rerun.returncode == 0, rerun.stderr[-3000:]
        table_row(rerun.stdout, "use running local cluster")
        assert "stop local cluster" not in rerun.stdout
        local = LocalCluster(directory)
        assert local.is_running() and local.status()["num_live_datanodes"] == 1

        # the printed commands work as shown: explore the project, then stop the cluster
        hints = rerun.stdout.split("Explore the project on the cluster:\n", 1)[1]
        assert f"cluster env --dir {directory}" in hints and "cluster down --dir" in hints
        path = os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]])
        shell = subprocess.run(
            ["bash", "-ec", hints],
            env=base_env(PATH=path),
            text=True,
            capture_output=True,
            timeout=300,
            check=False,
        )
        assert shell.returncode == 0, shell.stderr[-3000:]
        assert "/Projects/demo/Models/digits.keras" in shell.stdout  # hopsfs-tools ls
        assert f"[{ROWS} rows x 15 columns]" in shell.stdout  # pandas read the Parquet
        assert daemons_of(directory) == [] and not directory.exists()
    finally:
        if directory.exists():
            LocalCluster(directory).down()


def test_missing_tensorflow_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # as if extra [tf] were not installed
    result = CliRunner().invoke(main, ["demo", "--dir", str(tmp_path / "cluster")])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: the demo needs tensorflow: pip install 'hopsfs-tools[tf]'"
    ]
    assert not (tmp_path / "cluster").exists()  # nothing was started


def test_project_of_someone_else_is_a_one_line_error(
    cluster_env: dict[str, str], project: str, superuser_client: Client
) -> None:
    superuser_client.mkdirs(f"/Projects/{project}", create_parent=True)
    superuser_client.set_owner(f"/Projects/{project}", f"{project}__bob", project)
    result = demo(base_env(**cluster_env), "--project", project, "--user", "alice")
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    expected = (
        f"Error: /Projects/{project}: project {project} exists and is owned by "
        f"{project}__bob: add {project}__alice with add-member instead"
    )
    assert errors == [expected]
    assert "Traceback" not in result.stderr
