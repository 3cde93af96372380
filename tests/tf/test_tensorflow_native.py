"""TF code unchanged on HDFS through the filesystem plugin, on the real cluster: the seed's tf.data
input_fn over hdfs:// and hopsfs://, Keras callbacks and saving, checkpoints, SavedModel, and
TensorBoard reading what training wrote."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from tf_plugin_env import plugin_environment

NUM_FILES = 4
RECORDS_PER_FILE = 50


@pytest.fixture(scope="module")
def project(cluster, superuser_client) -> Iterator[str]:
    """A project of its own (hopsfs://rel resolves into it); yields its name."""
    name = f"tfnative{uuid.uuid4().hex[:8]}"
    superuser_client.mkdirs(f"/Projects/{name}", permission=0o777, create_parent=True)
    superuser_client.set_permission(f"/Projects/{name}", 0o777)
    with plugin_environment(cluster, HOPSFS_PROJECT=name):
        yield name


def write_shards(directory: str, compression: str | None = None) -> set[bytes]:
    """NUM_FILES TFRecord files written by TF's own writer; the set of records."""
    tf.io.gfile.makedirs(directory)
    records = set()
    for i in range(NUM_FILES):
        with tf.io.TFRecordWriter(f"{directory}/part-{i}.tfrecord", options=compression) as w:
            for j in range(RECORDS_PER_FILE):
                record = f"file {i} record {j} ".encode() * (j + 1)
                w.write(record)
                records.add(record)
    return records


def input_fn(pattern: str, batch_size: int, compression: str | None = None) -> tf.data.Dataset:
    """Seed 001's input pipeline, in today's tf.data spelling."""
    files = tf.data.Dataset.list_files(pattern)
    dataset = files.interleave(
        lambda f: tf.data.TFRecordDataset(
            f, compression_type=compression, buffer_size=8 * 1024 * 1024
        ),
        cycle_length=32,
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    dataset = dataset.shuffle(1000).batch(batch_size)
    return dataset.prefetch(tf.data.AUTOTUNE)


def read_all(dataset: tf.data.Dataset) -> list[bytes]:
    return [record for batch in dataset.as_numpy_iterator() for record in batch]


@pytest.mark.parametrize("compression", [None, "GZIP"])
def test_seed_input_fn_over_hdfs(cluster, hdfs_dir, project, compression):
    root = f"hdfs://{hdfs_dir}"  # hdfs:///abs: the configured cluster
    expected = write_shards(f"{root}/data", compression)
    got = read_all(input_fn(f"{root}/data/part-*.tfrecord", 16, compression))
    assert len(got) == NUM_FILES * RECORDS_PER_FILE and set(got) == expected
    named = read_all(input_fn(f"{cluster.namenode_uri}{hdfs_dir}/data/*", 16, compression))
    assert sorted(named) == sorted(got)


def test_seed_input_fn_over_hopsfs_reads_what_fsspec_wrote(project):
    from hopsfs_tools import tensorflow as htf

    records = [f"record {i}".encode() * 100 for i in range(200)]
    htf.write_tfrecords(records, "hopsfs://DataSets/fs/part-{shard}.tfrecord", num_shards=3)
    got = read_all(input_fn("hopsfs://DataSets/fs/part-*.tfrecord", 32))
    assert sorted(got) == sorted(records)


def test_truncated_file_raises_naming_the_hdfs_file(hdfs_dir, project):
    root = f"hdfs://{hdfs_dir}"
    write_shards(f"{root}/data")
    with tf.io.gfile.GFile(f"{root}/data/part-0.tfrecord", "rb") as f:
        data = f.read()
    with tf.io.gfile.GFile(f"{root}/data/part-0.tfrecord", "wb") as f:
        f.write(data[:-5])
    with pytest.raises(tf.errors.DataLossError, match=f"{hdfs_dir}/data/part-0.tfrecord"):
        read_all(tf.data.TFRecordDataset(f"{root}/data/part-0.tfrecord").batch(8))


def test_writers_create_missing_parents_as_tf_hdfs_did(hdfs_dir, project):
    """A new file's missing parents are created (Hadoop's create), as TF <= 2.5's HDFS
    filesystem and tensorflow-io's did: code written for them works unchanged. A file in the
    way still fails."""
    root = f"hdfs://{hdfs_dir}/new"
    with tf.io.TFRecordWriter(f"{root}/records/deep/part-0.tfrecord") as writer:
        writer.write(b"one")
    records = tf.data.TFRecordDataset(f"{root}/records/deep/part-0.tfrecord")
    assert [record.numpy() for record in records] == [b"one"]
    with tf.io.gfile.GFile(f"{root}/text/a/b.txt", "w") as f:
        f.write("hello")
    with tf.io.gfile.GFile(f"{root}/text/a/b.txt") as f:
        assert f.read() == "hello"
    summaries = tf.summary.create_file_writer(f"{root}/logs/run-1")
    with summaries.as_default():
        tf.summary.scalar("loss", 0.5, step=1)
    summaries.close()
    [events] = tf.io.gfile.listdir(f"{root}/logs/run-1")
    assert events.startswith("events.out.tfevents.")
    assert tf.io.gfile.stat(f"{root}/logs/run-1/{events}").length > 0
    in_the_way = pytest.raises(tf.errors.FailedPreconditionError, match="b.txt is a file")
    with in_the_way, tf.io.gfile.GFile(f"{root}/text/a/b.txt/c.txt", "w") as f:
        f.write("x")
    with in_the_way:
        tf.io.TFRecordWriter(f"{root}/text/a/b.txt/deeper/part-0.tfrecord")
    assert not tf.io.gfile.isdir(f"{root}/text/a/b.txt")


def small_model() -> tf.keras.Model:
    model = tf.keras.Sequential(
        [
            tf.keras.Input(shape=(4,)),
            tf.keras.layers.Dense(8, activation="relu"),
            tf.keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    return model


def test_keras_fit_checkpoints_and_tensorboard_on_hopsfs(project):
    from tensorboard.backend.event_processing.plugin_event_multiplexer import EventMultiplexer

    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    model = small_model()
    model.fit(
        x,
        y,
        epochs=2,
        batch_size=16,
        validation_split=0.25,
        verbose=0,
        callbacks=[
            tf.keras.callbacks.ModelCheckpoint("hopsfs://Models/ckpt-{epoch}.keras"),
            tf.keras.callbacks.TensorBoard("hopsfs://Logs/tb"),
        ],
    )
    assert sorted(tf.io.gfile.listdir("hopsfs://Models")) == ["ckpt-1.keras", "ckpt-2.keras"]
    restored = tf.keras.models.load_model("hopsfs://Models/ckpt-2.keras")
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0))

    # TensorBoard's own loader, reading the hdfs:// logdir (as `tensorboard --logdir` does)
    logdir = f"hdfs:///Projects/{project}/Logs/tb"
    multiplexer = EventMultiplexer()
    multiplexer.AddRunsFromDirectory(logdir)
    multiplexer.Reload()
    assert set(multiplexer.Runs()) == {"train", "validation"}
    losses = multiplexer.Tensors("train", "epoch_loss")
    assert [event.step for event in losses] == [0, 1]


def test_model_save_and_load_model_on_hdfs(hdfs_dir, project):
    model = small_model()
    x = np.ones((2, 4), dtype="float32")
    model.save(f"hdfs://{hdfs_dir}/model.keras")
    loaded = tf.keras.models.load_model(f"hdfs://{hdfs_dir}/model.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_checkpoint_manager_keeps_and_restores(hdfs_dir, project):
    step = tf.Variable(0)
    checkpoint = tf.train.Checkpoint(step=step)
    manager = tf.train.CheckpointManager(checkpoint, f"hdfs://{hdfs_dir}/ckpts", max_to_keep=2)
    for value in (1, 2, 3):
        step.assign(value)
        manager.save()
    assert [p.rsplit("/", 1)[1] for p in manager.checkpoints] == ["ckpt-2", "ckpt-3"]
    assert not tf.io.gfile.glob(f"hdfs://{hdfs_dir}/ckpts/ckpt-1.*")  # the oldest was deleted
    step.assign(0)
    restored = tf.train.Checkpoint(step=step)
    restored.restore(tf.train.latest_checkpoint(f"hdfs://{hdfs_dir}/ckpts")).assert_consumed()
    assert int(step.numpy()) == 3


def test_saved_model_save_and_load(hdfs_dir, project):
    class Doubler(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
        def __call__(self, x):
            return 2 * x

    tf.saved_model.save(Doubler(), "hopsfs://Models/doubler")
    loaded = tf.saved_model.load(f"hdfs:///Projects/{project}/Models/doubler")
    assert loaded(tf.constant([1.0, 2.5])).numpy().tolist() == [2.0, 5.0]


# -- processes: the JVM libhdfs starts inside the TF process ------------------------------------


def test_forkserver_data_loader_works_beside_the_jvm(cluster, hdfs_dir, project, tmp_path):
    """A torch DataLoader's forkserver workers read while the parent runs libhdfs's JVM (the
    workers are fresh processes; a plain fork of a JVM process could not use the plugin)."""
    code = f"""
import hopsfs_tools.tensorflow, tensorflow as tf
from hopsfs_tools.adapters.torch import TFRecordIterableDataset, data_loader
path = "hdfs://{hdfs_dir}/jvm.tfrecord"
with tf.io.TFRecordWriter(path) as w:  # the JVM runs from here on
    for i in range(100):
        w.write(b"%d" % i)
loader = data_loader(TFRecordIterableDataset("{hdfs_dir}/jvm.tfrecord"), num_workers=2,
                     batch_size=None)
assert sorted(int(r) for r in loader) == list(range(100))
assert len(list(tf.data.TFRecordDataset(path))) == 100  # and TF in the parent still reads
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-3000:]


def test_import_prints_no_tensorflow_notices(cluster):
    env = {**os.environ, **cluster.env()}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    result = subprocess.run(
        [sys.executable, "-c", "import hopsfs_tools.tensorflow"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    assert "oneDNN" not in result.stderr and "cpu_feature_guard" not in result.stderr
    assert "absl::InitializeLog" not in result.stderr


def test_writers_remove_stale_local_leftovers(tmp_path):
    from hopsfs_tools.tensorflow.models import clean_local_tmp

    stale = [tmp_path / "hopsfs-model-x1", tmp_path / "hopsfs-ckpt-x2"]
    for directory in stale:
        (directory / "sub").mkdir(parents=True)
        (directory / "sub" / "f").write_bytes(b"x")
    stale.append(tmp_path / "__autograph_generated_fileab12.py")
    stale[-1].write_text("# generated")
    fresh = tmp_path / "hopsfs-ckpt-running"
    fresh.mkdir()
    other = tmp_path / "unrelated.py"
    other.write_text("")
    old = time.time() - 7200
    for path in [*stale, other]:
        os.utime(path, (old, old))
    assert sorted(clean_local_tmp(directory=str(tmp_path))) == sorted(map(str, stale))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hopsfs-ckpt-running", "unrelated.py"]


def test_hops_tensorboard_logdir_takes_summaries_directly(project):
    """hops' `tensorboard.logdir()` is an hdfs:// URI that tf.summary writes to through the
    plugin, and TensorBoard's loader reads back (no local directory, no upload step)."""
    from tensorboard.backend.event_processing.plugin_event_multiplexer import EventMultiplexer

    from hopsfs_tools import tensorboard

    tf.io.gfile.makedirs("hopsfs://Experiments")
    logdir = tensorboard.start_experiment()
    assert tensorboard.logdir() == logdir
    assert logdir.startswith("hdfs://") and f"/Projects/{project}/Experiments/" in logdir
    writer = tf.summary.create_file_writer(logdir)
    with writer.as_default():
        for step in range(3):
            tf.summary.scalar("loss", 1.0 / (step + 1), step=step)
    writer.close()
    multiplexer = EventMultiplexer()
    multiplexer.AddRunsFromDirectory(logdir)
    multiplexer.Reload()
    assert [event.step for event in multiplexer.Tensors(".", "loss")] == [0, 1, 2]
