"""The opt-in `hops` package (hopsfs_tools.compat) and hops' `tensorboard.logdir()`."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hopsfs_tools import hdfs, tensorboard
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.hopsworks.admin import create_project


@pytest.fixture
def project(cluster, cluster_env, monkeypatch) -> Iterator[str]:
    """A fresh project (with its datasets) whose user P__alice acts."""
    name = f"h{uuid.uuid4().hex[:8]}"
    admin = HopsFileSystem(user=cluster.state.user, skip_instance_cache=True)
    create_project(name, "alice", admin)
    for key in ("HOPSFS_PROJECT", "HOPSWORKS_PROJECT_NAME", "HOPSWORKS_APP_ID"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HADOOP_USER_NAME", f"{name}__alice")
    yield name
    hdfs.close()
    admin.rm(f"/Projects/{name}", recursive=True)
    admin.close()


def run_python(code: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_from_hops_import_hdfs_runs_unchanged_after_opting_in(
    cluster, project: str, tmp_path: Path
) -> None:
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    code = """
        from hopsfs_tools.compat import install_hops
        assert install_hops()
        # hops code, unchanged
        from hops import hdfs
        from hops import tensorboard
        import hops.hdfs
        import pandas as pd
        hdfs.copy_to_hdfs("data.csv", "Resources", overwrite=True)
        df = pd.read_csv(hdfs.project_path() + "Resources/data.csv")
        print(hops.hdfs is hdfs, df["b"].tolist(), hdfs.project_name(), tensorboard.logdir())
    """
    env = {**os.environ, **cluster.env(), "HADOOP_USER_NAME": f"{project}__alice"}
    done = run_python(code, env, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    same, values, name, logdir = done.stdout.split()
    assert (same, values, name) == ("True", "[2]", project)
    assert logdir.startswith(f"{cluster.namenode_uri}/Projects/{project}/Experiments/application_")
    assert logdir.endswith("_1")


def test_a_real_hops_install_is_never_shadowed(cluster, tmp_path: Path) -> None:
    """A stand-in hops-util-py distribution on sys.path keeps `import hops` for itself."""
    real = tmp_path / "site" / "hops"
    real.mkdir(parents=True)
    (real / "__init__.py").write_text("REAL = True\n")
    (real / "hdfs.py").write_text("def project_path():\n    return 'from the real hops'\n")
    dist = tmp_path / "site" / "hops-3.0.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: hops\nVersion: 3.0.0\n")
    code = """
        from hopsfs_tools.compat import install_hops
        assert install_hops() is False
        import hops
        from hops import hdfs
        print(hops.REAL, hdfs.project_path())
    """
    env = {
        **os.environ,
        **cluster.env(),
        "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), os.environ.get("PYTHONPATH", "")]),
    }
    done = run_python(code, env, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "True from the real hops"


def test_without_opting_in_there_is_no_hops(cluster, tmp_path: Path) -> None:
    done = run_python(
        "import hopsfs_tools\nimport hops\n", {**os.environ, **cluster.env()}, tmp_path
    )
    assert done.returncode == 1 and "No module named 'hops'" in done.stderr


def test_logdir_is_the_experiment_directory(cluster, project: str, monkeypatch) -> None:
    monkeypatch.setattr(tensorboard, "_state", type(tensorboard._state)())
    experiments = f"{cluster.namenode_uri}/Projects/{project}/Experiments"
    assert tensorboard.experiments_dir() == experiments
    assert tensorboard.experiment_logdir("application_1_0001", 3) == (
        f"{experiments}/application_1_0001_3"
    )
    monkeypatch.setenv("HOPSWORKS_APP_ID", "application_1700000000000_0042")
    first = tensorboard.logdir()  # outside an experiment: starts run 1
    assert first == f"{experiments}/application_1700000000000_0042_1"
    assert tensorboard.logdir() == first and hdfs.isdir(first)
    hdfs.dump(b"events", first + "/events.out.tfevents.1")
    second = tensorboard.start_experiment()
    assert second == f"{experiments}/application_1700000000000_0042_2"
    assert tensorboard.logdir() == second and hdfs.ls(second) == []
    again = tensorboard.start_experiment(run_id=1)  # a retried run starts afresh, as in hops
    assert again == first and hdfs.ls(first) == []
    hdfs.rmr("Experiments")
    with pytest.raises(FileNotFoundError, match="no Experiments dataset"):
        tensorboard.start_experiment()
