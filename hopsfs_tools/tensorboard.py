"""hops' `tensorboard.logdir()` and the experiment directories it points into.

On Hopsworks an experiment (`hops.experiment.launch`) writes to
`hdfs://nn:port/Projects/P/Experiments/<app_id>_<run_id>` and `tensorboard.logdir()` returns
that directory. Here an experiment starts with `start_experiment()` (or the first `logdir()`);
the application id is $HOPSWORKS_APP_ID when set (a Spark/YARN application id on Hopsworks),
else one made locally in YARN's form (application_<start ms>_<pid>); runs count from 1 as
hops counts them. TensorFlow writes to the returned hdfs:// URI directly once its HDFS
filesystem plugin is registered (`hopsfs_tools.tensorflow`).
"""

from __future__ import annotations

import os
import posixpath
import re
import threading
import time

from hopsfs_tools import hdfs
from hopsfs_tools.config import env
from hopsfs_tools.hopsworks import hints

_state = threading.local()
_LOCAL_APP_ID = f"application_{int(time.time() * 1000)}_{os.getpid():04d}"


def experiments_dir(project: str | None = None) -> str:
    """The URI of the project's Experiments dataset (hops' `_get_experiments_dir`);
    FileNotFoundError if the project has none."""
    uri = hdfs.project_path(project) + "Experiments"
    if not hdfs.exists(uri):
        raise hints.missing(
            hdfs.get_plain_path(uri),
            "the project has no Experiments dataset: create it with `hopsfs-tools project create`",
        )
    return uri


def app_id() -> str:
    """The application id experiments of this process are filed under."""
    return env("HOPSWORKS_APP_ID") or _LOCAL_APP_ID


def experiment_logdir(app: str, run_id: int, project: str | None = None) -> str:
    """The URI of experiment run `run_id` of application `app` (hops' `_get_logdir`)."""
    return f"{experiments_dir(project)}/{app}_{run_id}"


def start_experiment(run_id: int | None = None, project: str | None = None) -> str:
    """Create the directory of a new experiment run and make it `logdir()`'s; its URI.

    `run_id` defaults to one more than the highest run of this application in Experiments. An
    existing directory of the same run is replaced (hops does the same for a retried task).
    """
    app = app_id()
    if run_id is None:
        pattern = re.compile(rf"{re.escape(app)}_(\d+)")
        runs = [
            int(m.group(1))
            for name in hdfs.ls(experiments_dir(project))
            if (m := pattern.fullmatch(posixpath.basename(name)))
        ]
        run_id = max(runs, default=0) + 1
    uri = experiment_logdir(app, run_id, project)
    if hdfs.exists(uri):
        hdfs.delete(uri, recursive=True)
    hdfs.mkdir(uri)
    _state.logdir = uri
    return uri


def logdir() -> str:
    """The current experiment's directory (hops' `tensorboard.logdir()`), an hdfs:// URI to
    hand TensorBoard / tf.summary; the first call outside an experiment starts one."""
    current = getattr(_state, "logdir", None)
    return current if current is not None else start_experiment()
