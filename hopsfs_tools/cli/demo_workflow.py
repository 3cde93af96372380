"""The end-to-end demo behind `hopsfs-tools demo`: cluster, project, pandas, Parquet, TFRecord, Keras.

On the configured cluster (HADOOP_CONF_DIR / HOPSFS_NAMENODE_URI / HOPSFS_WEBHDFS_URL), else on
the embedded local cluster, which it starts if needed and stops again unless asked to keep it.
The HDFS superuser creates the project; every data step then runs as the project user
`<project>__<user>`. hdfs-native binds one HDFS user per process, so the two users act one after
the other, each through its own filesystem that is closed before the next one opens.
"""

from __future__ import annotations

import getpass
import importlib.util
import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from hopsfs_tools import datasets
from hopsfs_tools.cluster import LocalCluster
from hopsfs_tools.config import env, load_config
from hopsfs_tools.config.project import Project, split_user
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.hopsworks.admin import DATASETS, create_project

PROJECT = "demo"
CSV_PATH = "Resources/adult.csv"
PARQUET_PATH = "DataSets/adult.parquet"
TFRECORD_DIR = "DataSets/digits"
TFRECORD_SHARDS = 4
MODEL_PATH = "Models/digits.keras"
BATCH_SIZE = 32
LEARNING_RATE = 3e-3  # one epoch over a few thousand images gets well above chance
# The variables that name a cluster; without any of them the demo uses the embedded one.
CLUSTER_VARIABLES = ("HADOOP_CONF_DIR", "HOPSFS_NAMENODE_URI", "HOPSFS_WEBHDFS_URL")
EXTRAS = {"pandas": "pandas", "tensorflow": "tf"}  # module the demo needs -> extra providing it


@dataclass
class Step:
    """What one demo step did: where on HDFS, how many bytes / items, and how long it took."""

    name: str
    path: str
    seconds: float = 0.0
    size: int | None = None  # bytes written or read
    items: int | None = None  # rows, images, ...
    unit: str = ""  # what `items` counts
    detail: str = ""


@dataclass(frozen=True)
class DemoResult:
    """The steps run, the project used, and the local cluster (None: a configured one)."""

    steps: list[Step]
    project: Project
    local_cluster: LocalCluster | None
    cluster_running: bool  # the cluster is still up (configured, kept or already running)


@dataclass
class _Steps:
    """Times steps, announces each through `progress` when it starts, and records it."""

    progress: Callable[[str], None]
    done: list[Step] = field(default_factory=list)

    @contextmanager
    def step(self, name: str, path: str) -> Iterator[Step]:
        """Announce the step, let the block fill in its figures, record it with its time."""
        self.progress(name)
        step = Step(name, path)
        started = time.perf_counter()
        yield step
        step.seconds = time.perf_counter() - started
        self.done.append(step)


def _missing_extras() -> dict[str, str]:
    """The modules the demo needs that are not installed, each with the extra that provides it."""
    return {m: extra for m, extra in EXTRAS.items() if importlib.util.find_spec(m) is None}


def _cluster_configured() -> bool:
    """Whether the environment names a cluster (else the demo uses the embedded local one)."""
    return any(env(name) for name in CLUSTER_VARIABLES)


def run_demo(
    *,
    rows: int = 10_000,
    images: int = 5_000,
    project: str = PROJECT,
    user: str | None = None,
    superuser: str | None = None,
    cluster_dir: str | os.PathLike[str] | None = None,
    datanodes: int = 3,
    keep_running: bool = False,
    progress: Callable[[str], None] = lambda name: None,
) -> DemoResult:
    """Run the demo end to end (idempotent: a rerun overwrites its files); returns its steps.

    `user` (default: the login name) makes the project user `<project>__<user>`; `superuser`
    (default: the local cluster's, else a plain $HADOOP_USER_NAME, else the login name) creates
    the project. A local cluster the demo starts is stopped at the end unless `keep_running`.
    """
    missing = _missing_extras()
    if missing:
        extras = ",".join(sorted(set(missing.values())))
        raise ModuleNotFoundError(
            f"the demo needs {' and '.join(missing)}: pip install 'hopsfs-tools[{extras}]'",
            name=next(iter(missing)),
        )
    steps = _Steps(progress)
    user = user or getpass.getuser()
    owner = Project(project, f"{project}__{user}")  # validates both names
    with _cluster(steps, cluster_dir, datanodes, keep_running) as (local, endpoint):
        admin = superuser or (local.state.user if local else _plain_user() or getpass.getuser())
        with steps.step("create project", owner.root) as step:
            with _filesystem(endpoint, admin) as fs:
                info = create_project(project, user, fs)
            step.detail = f"owner {info.owner}, {len(DATASETS)} datasets"
        with _filesystem(endpoint, owner.user, owner) as fs:
            _data_steps(steps, fs, rows, images)
    return DemoResult(steps.done, owner, local, local is None or local.is_running())


def _plain_user() -> str | None:
    """$HADOOP_USER_NAME unless it is a project user (`P__u` cannot administer HDFS)."""
    name = env("HADOOP_USER_NAME")
    return name if name and split_user(name)[0] is None else None


@contextmanager
def _cluster(
    steps: _Steps, directory: str | os.PathLike[str] | None, datanodes: int, keep_running: bool
) -> Iterator[tuple[LocalCluster | None, dict[str, str]]]:
    """The cluster to use and the filesystem arguments reaching it (empty: the configured one)."""
    if _cluster_configured():
        with steps.step("use configured cluster", load_config().namenode_uri) as step:
            step.detail = ", ".join(f"${name}" for name in CLUSTER_VARIABLES if env(name))
        yield None, {}
        return
    local = LocalCluster(directory, datanodes=datanodes, owned=not keep_running)
    existed, started = bool(local.state.ports), not local.is_running()
    try:
        with steps.step(
            "start local cluster" if started else "use running local cluster", str(local.directory)
        ) as step:
            local.up()
            step.detail = f"{local.namenode_uri}, DataNodes: {local.state.datanodes}"
        yield (
            local,
            {
                "namenode": local.namenode_uri,
                "webhdfs_url": local.webhdfs_url,
                "conf_dir": str(local.conf_dir),
            },
        )
    finally:  # also after a failed start: no daemon is left behind
        if started and not keep_running and local.state.pids:
            with steps.step("stop local cluster", str(local.directory)) as step:
                local.down(keep=existed)  # data of a cluster that existed before is kept
                step.detail = "data kept" if existed else "data removed"


@contextmanager
def _filesystem(
    endpoint: dict[str, str], user: str, project: Project | None = None
) -> Iterator[HopsFileSystem]:
    """A filesystem acting as `user`, closed on exit (which unbinds its user: the next user
    binds without a conflict)."""
    fs = HopsFileSystem(user=user, project=project, skip_instance_cache=True, **endpoint)
    try:
        yield fs
    finally:
        fs.close()


def _data_steps(steps: _Steps, fs: HopsFileSystem, rows: int, images: int) -> None:
    """CSV -> pandas -> Parquet, digits -> TFRecord -> one Keras epoch -> Models/, as the user."""
    import pandas as pd

    from hopsfs_tools import tensorflow as htf

    with steps.step("import TensorFlow", "-") as step:  # takes seconds: worth a line
        import tensorflow as tf

        step.detail = f"TensorFlow {tf.__version__}"
    with steps.step("generate data locally", "-") as step:
        # A plain CSV with a header: `pd.read_csv("hopsfs://Resources/adult.csv")` just works.
        csv_data = datasets.census(rows).to_csv(index=False).encode()
        pixels, labels = datasets.digits(images)
        records = [_example(tf, image, label) for image, label in zip(pixels, labels, strict=True)]
        step.detail = f"{rows:,} census rows, {images:,} digit images (seeded, nothing downloaded)"
    csv, parquet, shards = (fs.resolve(p) for p in (CSV_PATH, PARQUET_PATH, TFRECORD_DIR))
    with steps.step("write CSV", csv) as step:
        fs.pipe_file(csv, csv_data)
        step.size, step.items, step.unit = len(csv_data), rows, "rows"
    with steps.step("read CSV with pandas", csv) as step:
        with fs.open(csv, "rb") as f:
            frame = pd.read_csv(f)
        step.size, step.items, step.unit = fs.size(csv), len(frame), "rows"
        step.detail = f"{frame.shape[1]} columns, {(frame['income'] == '>50K').mean():.0%} >50K"
    with steps.step("write Parquet", parquet) as step:
        with fs.open(parquet, "wb") as f:
            frame.to_parquet(f, index=False)
        step.size, step.items, step.unit = fs.size(parquet), len(frame), "rows"
    with steps.step("write TFRecord shards", shards + "/") as step:
        if fs.exists(shards):  # a rerun may use fewer shards: start from an empty directory
            fs.rm(shards, recursive=True)
        paths = htf.write_tfrecords(
            records,
            f"{shards}/train-{{shard:05d}}-of-{{num_shards:05d}}.tfrecord",
            num_shards=TFRECORD_SHARDS,
            fs=fs,
        )
        step.size, step.items, step.unit = sum(fs.size(p) for p in paths), images, "images"
        step.detail = f"{len(paths)} shards"
    with steps.step("train Keras, 1 epoch", shards + "/*.tfrecord") as step:
        dataset = htf.tfrecord_dataset(f"{shards}/*.tfrecord", fs=fs, shuffle_files=True, seed=0)
        dataset = dataset.map(lambda r: _parse(tf, r), num_parallel_calls=tf.data.AUTOTUNE)
        model = _model(tf)
        history = model.fit(
            dataset.batch(BATCH_SIZE),
            epochs=1,
            verbose=0,
            shuffle=False,
            steps_per_epoch=math.ceil(images / BATCH_SIZE),
        ).history
        step.items, step.unit = images, "images"
        step.detail = f"loss {history['loss'][-1]:.2f}, accuracy {history['accuracy'][-1]:.2f}"
    with steps.step("save model", fs.resolve(MODEL_PATH)) as step:
        path = htf.save_model(model, MODEL_PATH, fs=fs)
        step.size = fs.size(path)
        step.detail = f"{model.count_params():,} parameters"


def _example(tf: Any, image: Any, label: int) -> bytes:
    """A serialized tf.train.Example holding a 28x28 uint8 image (raw bytes) and its label."""
    feature = tf.train.Feature
    return tf.train.Example(
        features=tf.train.Features(
            feature={
                "image": feature(bytes_list=tf.train.BytesList(value=[image.tobytes()])),
                "label": feature(int64_list=tf.train.Int64List(value=[int(label)])),
            }
        )
    ).SerializeToString()


def _parse(tf: Any, record: Any) -> tuple[Any, Any]:
    """(784 floats in [0, 1], label) from a serialized `_example`."""
    parsed = tf.io.parse_single_example(
        record,
        {
            "image": tf.io.FixedLenFeature([], tf.string),
            "label": tf.io.FixedLenFeature([], tf.int64),
        },
    )
    pixels = tf.cast(tf.io.decode_raw(parsed["image"], tf.uint8), tf.float32) / 255.0
    return tf.reshape(pixels, [28 * 28]), parsed["label"]


def _model(tf: Any) -> Any:
    """A small dense classifier of the ten digits."""
    model = tf.keras.Sequential(
        [
            tf.keras.Input((28 * 28,)),
            tf.keras.layers.Dense(64, activation="relu"),
            tf.keras.layers.Dense(10),
        ]
    )
    model.compile(
        optimizer=tf.keras.optimizers.Adam(LEARNING_RATE),
        metrics=["accuracy"],
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model
