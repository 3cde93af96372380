"""The TensorFlow hdfs:// plugin against the container cluster: TFRecord shards written and read
through tf.io / tf.data, and one Keras checkpoint saved to and restored from HDFS."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from tf_plugin_env import plugin_environment

tf = pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def namenode(cluster) -> Iterator[str]:
    with plugin_environment(cluster) as uri:
        yield uri


def test_tfrecord_shards_written_and_read_through_the_plugin(namenode, hdfs_dir):
    records = [f"record {i} ".encode() * (i % 7 + 1) for i in range(3000)]
    paths = [f"{namenode}{hdfs_dir}/train-{k}.tfrecord" for k in range(3)]
    for k, path in enumerate(paths):
        with tf.io.TFRecordWriter(path) as writer:
            for record in records[k::3]:
                writer.write(record)
    assert sorted(tf.io.gfile.glob(f"{namenode}{hdfs_dir}/train-*.tfrecord")) == paths
    dataset = tf.data.TFRecordDataset(paths, num_parallel_reads=3)
    assert sorted(r.numpy() for r in dataset) == sorted(records)


def test_keras_checkpoint_saved_to_and_restored_from_hdfs(namenode, hdfs_dir):
    rng = np.random.default_rng(7)
    images, labels = rng.random((64, 8), "float32"), rng.integers(0, 2, 64)

    def model() -> tf.keras.Model:
        m = tf.keras.Sequential([tf.keras.Input((8,)), tf.keras.layers.Dense(2)])
        m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return m

    trained = model()
    path = f"{namenode}{hdfs_dir}/ckpt/epoch-{{epoch:02d}}.weights.h5"
    saver = tf.keras.callbacks.ModelCheckpoint(path, save_weights_only=True)
    trained.fit(images, labels, epochs=2, callbacks=[saver], verbose=0)
    saved = sorted(tf.io.gfile.listdir(f"{namenode}{hdfs_dir}/ckpt"))
    assert saved == ["epoch-01.weights.h5", "epoch-02.weights.h5"]
    restored = model()
    restored.load_weights(f"{namenode}{hdfs_dir}/ckpt/epoch-02.weights.h5")
    for mine, theirs in zip(trained.get_weights(), restored.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)
