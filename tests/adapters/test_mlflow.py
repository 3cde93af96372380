"""MLflow's own calls with artifact roots on hopsfs:// and a project's hdfs:// URL: artifacts and
a model logged and loaded through the `mlflow.artifact_repository` entry point, in a fresh
process without the JVM's environment (no JAVA_HOME, CLASSPATH or `java`; no libjvm loaded)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tool_process import run_python

pytest.importorskip("mlflow")

from hopsfs_tools import hdfs

SCRIPT = """
import os, tempfile
import mlflow
import mlflow.pyfunc
root = {root!r}
work = tempfile.mkdtemp()
mlflow.set_tracking_uri(f"sqlite:///{{work}}/mlflow.db")
experiment = mlflow.create_experiment("e", artifact_location=root)

class AddOne(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input):
        return model_input + 1

with mlflow.start_run(experiment_id=experiment) as run:
    with open(f"{{work}}/notes.txt", "w") as f:
        f.write("hello")
    mlflow.log_artifact(f"{{work}}/notes.txt", "docs")
    os.makedirs(f"{{work}}/tree/deep")
    with open(f"{{work}}/tree/deep/b.txt", "w") as f:
        f.write("b")
    mlflow.log_artifacts(f"{{work}}/tree", "tree")
    mlflow.log_dict({{"lr": 0.1}}, "conf.json")
    info = mlflow.pyfunc.log_model(name="model", python_model=AddOne())
uri = run.info.artifact_uri
print(uri)
print(sorted(a.path for a in mlflow.artifacts.list_artifacts(run_id=run.info.run_id)))
got = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="tree")
print(open(os.path.join(got, "deep", "b.txt")).read())
print(mlflow.artifacts.load_dict(uri + "/conf.json")["lr"])
model = mlflow.pyfunc.load_model(info.model_uri)
import pandas as pd
print(model.predict(pd.DataFrame({{"x": [1, 2]}}))["x"].tolist())
"""


def test_artifacts_and_a_model_without_a_jvm(project: str) -> None:
    """hopsfs:// on the native backend, a project's hdfs:// URL on WebHDFS."""
    where = "hopsfs" if os.environ["HOPSFS_BACKEND"] == "native" else "hdfs"
    root = (
        "hopsfs://Experiments/mlflow"
        if where == "hopsfs"
        else hdfs.project_path() + "Experiments/mlflow"
    )
    out = run_python(SCRIPT.format(root=root), no_jvm=True).splitlines()
    uri, listed, tree, lr, predicted = out[-5:]
    assert uri.startswith(f"{where}:") and "Experiments/mlflow" in uri
    assert listed == "['conf.json', 'docs', 'tree']"
    assert (tree, lr, predicted) == ("b", "0.1", "[2, 3]")
    fs = hdfs.get_fs()
    notes = [
        p for p in fs.find(f"/Projects/{project}/Experiments/mlflow") if p.endswith("notes.txt")
    ]
    assert len(notes) == 1 and fs.cat_file(notes[0]) == b"hello"
    assert fs.info(notes[0])["owner"] == f"{project}__alice"  # written as the project user


def test_a_root_in_a_missing_project_is_a_one_line_error(project: str) -> None:
    from hopsfs_tools.adapters.mlflow import HopsArtifactRepository

    repo = HopsArtifactRepository("hopsfs:///Projects/no_such_project/Experiments/mlflow")
    with pytest.raises((PermissionError, FileNotFoundError)) as error:
        repo.log_artifacts(str(Path(__file__).parent), "src")
    assert "/Projects/no_such_project" in str(error.value)
    assert len(str(error.value).splitlines()) == 1 and "org.apache" not in str(error.value)
    assert repo.list_artifacts() == []
