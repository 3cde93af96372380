"""hopsfs_tools.tensorflow on the real cluster: tf.data input from HDFS, sharding, Keras saving."""

from __future__ import annotations

import gc
import json
import os
import re
import subprocess
import sys
import time
import uuid

import numpy as np
import pytest

from hopsfs_tools import tensorflow as htf
from hopsfs_tools.config.project import Project
from hopsfs_tools.formats.tfrecord import TFRecordWriter, read_records
from hopsfs_tools.fs import HopsFileSystem

NUM_FILES = 7
STRATEGIES = ["native", "cache", "stream"]


@pytest.fixture(scope="module")
def tf():
    return pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def fs(cluster) -> HopsFileSystem:
    return HopsFileSystem(namenode=cluster.namenode_uri, webhdfs_url=cluster.webhdfs_url)


@pytest.fixture(scope="module")
def module_dir(superuser_client) -> str:
    path = f"/tests/tensorflow-{uuid.uuid4().hex[:8]}"
    superuser_client.mkdirs(path, permission=0o777, create_parent=True)
    superuser_client.set_permission(path, 0o777)
    return path


@pytest.fixture(scope="module")
def records() -> list[bytes]:
    return [f"record {i:05d} ".encode() * (1 + i % 40) for i in range(2000)]


@pytest.fixture(scope="module")
def shards(fs, module_dir, records) -> list[str]:
    """The records written round-robin into NUM_FILES GZIP shards on HDFS."""
    return htf.write_tfrecords(
        records,
        f"{module_dir}/data/train.tfrecord.gz",
        num_shards=NUM_FILES,
        compression="GZIP",
        fs=fs,
    )


def read(dataset) -> list[bytes]:
    return list(dataset.as_numpy_iterator())


def test_importing_the_package_does_not_import_tensorflow():
    code = (  # hopsfs_tools.tensorflow itself imports TF (it registers the hdfs:// plugin)
        "import sys, hopsfs_tools, hopsfs_tools.formats\n"
        "from hopsfs_tools import hdfs\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow imported'\n"
        "assert 'keras' not in sys.modules, 'keras imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_write_tfrecords_names_and_commits_shards(fs, shards, module_dir, records):
    assert shards == [
        f"{module_dir}/data/train.tfrecord.gz-{i:05d}-of-{NUM_FILES:05d}" for i in range(NUM_FILES)
    ]
    assert sorted(fs.ls(f"{module_dir}/data", detail=False)) == shards  # no temp files left
    assert htf.shard_paths("x/part-{shard}.tfrecord", 2, fs) == [
        "/x/part-0.tfrecord",
        "/x/part-1.tfrecord",
    ]
    assert htf.shard_paths("/x/one.tfrecord", 1, fs) == ["/x/one.tfrecord"]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_dataset_yields_every_record(tf, fs, shards, module_dir, records, strategy):
    got = read(
        htf.tfrecord_dataset(f"{module_dir}/data/*", compression="GZIP", fs=fs, strategy=strategy)
    )
    assert sorted(got) == sorted(records)


def test_strategies_give_the_same_records_in_the_same_order(tf, fs, shards, records):
    kwargs = {"compression": "GZIP", "fs": fs, "cycle_length": 3, "block_length": 2}
    cache = read(htf.tfrecord_dataset(shards, strategy="cache", **kwargs))
    stream = read(htf.tfrecord_dataset(shards, strategy="stream", **kwargs))
    assert cache == stream and sorted(cache) == sorted(records)
    heads = []  # interleave order: 2 records of file 0, of file 1, of file 2, then file 0 again
    for path in shards[:3]:
        with fs.open(path, "rb") as f:
            heads.extend(list(read_records(f, compression="GZIP"))[:2])
    assert cache[:6] == heads


def test_paths_as_uris_directories_and_project_relative(
    tf, cluster, fs, superuser_client, shards, module_dir, records
):
    uri = read(
        htf.tfrecord_dataset(
            f"{cluster.namenode_uri}{module_dir}/data/*", compression="gzip", fs=fs
        )
    )
    directory = read(
        htf.tfrecord_dataset(
            f"hopsfs://{module_dir}/data", compression="GZIP", fs=fs, strategy="stream"
        )
    )
    assert sorted(uri) == sorted(directory) == sorted(records)
    project = f"tfproj{uuid.uuid4().hex[:6]}"
    superuser_client.mkdirs(f"/Projects/{project}", permission=0o777, create_parent=True)
    superuser_client.set_permission(f"/Projects/{project}", 0o777)
    pfs = HopsFileSystem(  # webhdfs: this process's hdfs-native client already acts as `fs`
        namenode=cluster.namenode_uri,
        webhdfs_url=cluster.webhdfs_url,
        backend="webhdfs",
        project=Project(project, f"{project}__alice"),
    )
    htf.write_tfrecords([b"a", b"b", b"c"], "Resources/small.tfrecord", fs=pfs)
    assert pfs.exists(f"/Projects/{project}/Resources/small.tfrecord")
    for path in ("Resources/small.tfrecord", "hopsfs://Resources/*.tfrecord"):
        assert read(htf.tfrecord_dataset(path, fs=pfs)) == [b"a", b"b", b"c"]
    pfs.pipe_file("Resources/.in-progress.tfrecord", b"not yet")  # hidden: never read
    assert htf.list_files("Resources/*", fs=pfs) == [
        (f"/Projects/{project}/Resources/small.tfrecord", pfs.size("Resources/small.tfrecord"))
    ]
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        htf.tfrecord_dataset("Resources/nothing-here-*", fs=pfs)


@pytest.mark.parametrize("workers", [1, 2, 3, 4, 5])
def test_explicit_shards_are_disjoint_and_complete(tf, fs, shards, records, workers):
    parts = [
        read(htf.tfrecord_dataset(shards, compression="GZIP", fs=fs, shard=(i, workers)))
        for i in range(workers)
    ]
    assert all(parts)
    flat = [r for part in parts for r in part]
    assert len(flat) == len(set(flat)) == len(records)
    assert set(flat) == set(records)


@pytest.mark.parametrize("workers", [1, 2, 3, 4, 5])
def test_tf_config_and_env_shards_are_disjoint_and_complete(fs, shards, workers, monkeypatch):
    by_tf_config, by_env = [], []
    cluster = {"chief": ["host0:2222"], "worker": [f"host{i}:2222" for i in range(1, workers)]}
    for i in range(workers):
        task = {"type": "chief", "index": 0} if i == 0 else {"type": "worker", "index": i - 1}
        monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": task}))
        by_tf_config.append(htf.worker_files(shards, fs=fs))
        monkeypatch.delenv("TF_CONFIG")
        monkeypatch.setenv("HOPSFS_SHARD_INDEX", str(i))
        monkeypatch.setenv("HOPSFS_SHARD_COUNT", str(workers))
        by_env.append(htf.worker_files(shards, fs=fs))
    for parts in (by_tf_config, by_env):
        flat = [path for part in parts for path, _ in part]
        assert sorted(flat) == sorted(shards) and len(flat) == len(set(flat))
    assert by_tf_config == by_env
    evaluator = {"type": "evaluator", "index": 0}
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": evaluator}))
    assert len(htf.worker_files(shards, fs=fs)) == NUM_FILES  # an evaluator reads everything
    assert htf.worker_shard((1, 3)) == (1, 3)  # explicit beats the environment


def test_dataset_shards_by_tf_config(tf, fs, shards, records, monkeypatch):
    cluster = {"worker": ["a:1", "b:1"]}
    parts = []
    for i in range(2):
        monkeypatch.setenv(
            "TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})
        )
        parts.append(set(read(htf.tfrecord_dataset(shards, compression="GZIP", fs=fs))))
    assert not parts[0] & parts[1] and parts[0] | parts[1] == set(records)


def test_bad_shards_are_refused(fs, shards, monkeypatch):
    with pytest.raises(ValueError, match="worker 7 of 8 gets none of the 7 TFRecord files"):
        htf.worker_files(shards, (7, 8), fs=fs)
    with pytest.raises(ValueError, match=r"must be in \[0, 3\)"):
        htf.worker_shard((3, 3))
    monkeypatch.setenv("HOPSFS_SHARD_INDEX", "0")
    monkeypatch.setenv("HOPSFS_SHARD_COUNT", "x")
    with pytest.raises(ValueError, match="HOPSFS_SHARD_COUNT"):
        htf.worker_shard()


def test_shuffle_files_is_seeded_and_reshuffles_each_epoch(tf, fs, shards, records):
    def make():
        return htf.tfrecord_dataset(
            shards, compression="GZIP", fs=fs, cycle_length=1, shuffle_files=True, seed=3
        )

    first, again = make(), make()
    epochs = [read(first), read(first)]
    assert read(again) == epochs[0]  # same seed, same order
    assert epochs[0] != epochs[1] and sorted(epochs[1]) == sorted(records)


def test_cache_stays_bounded_and_is_deleted(tf, fs, shards, tmp_path):
    cache_dir = tmp_path / "cache"
    dataset = htf.tfrecord_dataset(
        shards,
        compression="GZIP",
        fs=fs,
        cycle_length=1,
        strategy="cache",
        cache_dir=str(cache_dir),
        cache_bytes=0,
        prefetch=None,
    )
    most = 0
    for i, _ in enumerate(dataset):
        if i % 50 == 0:
            most = max(most, sum(len(files) for _, _, files in os.walk(cache_dir)))
    # the file being read, the inputs tf.data's interleave prefetched, one copied ahead: not all 7
    assert 1 <= most <= 4
    assert not any(files for _, _, files in os.walk(cache_dir))


def test_cache_dir_comes_from_the_environment(tf, fs, shards, records, tmp_path, monkeypatch):
    """$HOPSFS_CACHE_DIR (read through config.settings) is where "cache" copies pieces."""
    monkeypatch.setenv("HOPSFS_CACHE_DIR", str(tmp_path / "from-env"))
    dataset = htf.tfrecord_dataset(shards, compression="GZIP", fs=fs, strategy="cache")
    assert sorted(read(dataset)) == sorted(records)
    assert (tmp_path / "from-env").is_dir()  # made for the cache, which deleted its pieces
    assert not any(files for _, _, files in os.walk(tmp_path / "from-env"))


def test_abandoned_iteration_deletes_its_cache(tf, fs, shards, tmp_path):
    cache_dir = tmp_path / "cache"
    dataset = htf.tfrecord_dataset(
        shards,
        compression="GZIP",
        fs=fs,
        cycle_length=1,
        strategy="cache",
        cache_dir=str(cache_dir),
        cache_bytes=0,
    )
    iterator = iter(dataset)
    next(iterator)
    del iterator  # TF closes the generator of file names: the cache goes
    gc.collect()
    for _ in range(100):
        if not any(files for _, _, files in os.walk(cache_dir)):
            break
        time.sleep(0.1)
    assert not any(files for _, _, files in os.walk(cache_dir))


@pytest.fixture(scope="module")
def plain_shards(fs, module_dir, records) -> list[str]:
    """The records in NUM_FILES uncompressed shards: "cache" copies these in pieces."""
    return htf.write_tfrecords(
        records, f"{module_dir}/plain/train.tfrecord", num_shards=NUM_FILES, fs=fs
    )


def test_cache_copies_uncompressed_files_in_bounded_pieces(
    tf, fs, plain_shards, records, tmp_path, monkeypatch
):
    monkeypatch.setattr(htf.dataset, "PIECE_BYTES", 4096)
    cache_dir = tmp_path / "cache"
    dataset = htf.tfrecord_dataset(
        plain_shards,
        fs=fs,
        strategy="cache",
        cache_dir=str(cache_dir),
        cache_bytes=8 * 4096,
        prefetch=None,
    )
    got, seen, most = [], set(), 0
    for record in dataset:
        got.append(record.numpy())
        pieces = [name for _, _, files in os.walk(cache_dir) for name in files]
        seen.update(pieces)
        most = max(most, len(pieces))
    assert got == read(htf.tfrecord_dataset(plain_shards, fs=fs, strategy="stream"))
    assert sorted(got) == sorted(records)
    assert len(seen) > 3 * NUM_FILES  # several pieces per file, each named by its file and offset
    assert all(re.fullmatch(r"\d{6}-train\.tfrecord-\d{5}-of-\d{5}@\d+", name) for name in seen)
    assert most <= 8 + 2 * NUM_FILES < len(seen)  # the budget, plus one per open/prefetched file
    assert not any(files for _, _, files in os.walk(cache_dir))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_truncated_shard_names_the_hdfs_file_and_offset(tf, fs, hdfs_dir, strategy):
    path = f"{hdfs_dir}/cut.tfrecord"
    with fs.open(path, "wb") as f, TFRecordWriter(f) as writer:
        writer.write_all([b"x" * 100] * 10)
    fs.pipe_file(path, fs.cat_file(path)[:-10])
    with pytest.raises(tf.errors.OpError, match=rf"{path} at byte offset 1044"):
        read(htf.tfrecord_dataset(path, fs=fs, strategy=strategy))


@pytest.mark.parametrize(
    "damage",
    ["none", "empty", "corrupt-early", "corrupt-last", "corrupt-length", "cut", "cut-frame"],
)
def test_native_plugin_checks_records_across_buffer_fills(tf, fs, hdfs_dir, damage, monkeypatch):
    """The "native" strategy runs no check in tf.data and reads no file again: the plugin checks
    each record's CRCs while TF reads (here in 4 KiB fills, so records straddle them), hands TF
    every record before a bad one, then fails naming the file and the bad record's offset."""
    monkeypatch.setattr(htf.dataset, "NATIVE_BUFFER_BYTES", 4096)

    def no_second_read(*args, **kwargs):
        raise AssertionError("a file was read again in Python")

    monkeypatch.setattr(htf.checks, "read_record_batches", no_second_read)
    path = f"{hdfs_dir}/fills.tfrecord"
    records = [] if damage == "empty" else [os.urandom(100 + 37 * i) for i in range(120)]
    with fs.open(path, "wb") as f, TFRecordWriter(f) as writer:
        writer.write_all(records)
    offsets = np.cumsum([0] + [len(r) + 16 for r in records]).tolist()
    data = bytearray(fs.cat_file(path))
    bad = {"corrupt-early": 7, "corrupt-last": 119, "corrupt-length": 40, "cut": 119}.get(damage)
    if damage.startswith("corrupt"):
        data[offsets[bad] + (3 if damage == "corrupt-length" else 12 + 50)] ^= 1
    elif damage == "cut":
        data = data[:-3]  # inside the last record's data CRC
    elif damage == "cut-frame":
        bad, data = 119, data[: offsets[119] + 5]  # inside the last record's length
    fs.pipe_file(path, bytes(data))
    got = []
    iterator = iter(htf.tfrecord_dataset(path, fs=fs, strategy="native", prefetch=None))
    if bad is None:
        assert [record.numpy() for record in iterator] == records
        return
    with pytest.raises(tf.errors.DataLossError) as info:
        for record in iterator:
            got.append(record.numpy())
    assert got == records[:bad]  # every whole record before the bad one, then the error
    assert f"{path} at byte offset {offsets[bad]}" in str(info.value)
    problem = {"corrupt-length": "corrupt record length", "cut": "truncated record"}
    expected = problem.get(damage, "truncated" if damage == "cut-frame" else "record data (CRC")
    assert expected in str(info.value)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_corrupt_shard_fails_with_offset(tf, fs, hdfs_dir, strategy):
    path = f"{hdfs_dir}/bad.tfrecord"
    with fs.open(path, "wb") as f, TFRecordWriter(f) as writer:
        writer.write_all([b"x" * 100] * 10)
    data = bytearray(fs.cat_file(path))
    data[3 * 116 + 12 + 5] ^= 1  # record 3 starts at byte 348
    fs.pipe_file(path, bytes(data))
    with pytest.raises(tf.errors.OpError) as info:
        read(htf.tfrecord_dataset(path, fs=fs, strategy=strategy))
    assert f"{path} at byte offset 348" in str(info.value)


@pytest.mark.parametrize("strategy", ["native", "cache"])
def test_verify_false_skips_naming_but_tf_still_checks(tf, fs, hdfs_dir, strategy):
    """verify=False: the same records without the per-record check; TF still refuses a bad CRC
    (its own error, which names no file)."""
    path = f"{hdfs_dir}/plain.tfrecord"
    records = [os.urandom(100 + i) for i in range(30)]
    with fs.open(path, "wb") as f, TFRecordWriter(f) as writer:
        writer.write_all(records)
    assert read(htf.tfrecord_dataset(path, fs=fs, strategy=strategy, verify=False)) == records
    data = bytearray(fs.cat_file(path))
    data[sum(len(r) + 16 for r in records[:5]) + 12 + 5] ^= 1  # a data byte of record 5
    fs.pipe_file(path, bytes(data))
    with pytest.raises(tf.errors.DataLossError, match="corrupted record"):
        read(htf.tfrecord_dataset(path, fs=fs, strategy=strategy, verify=False))


def write_compressed(fs, path: str, compression: str, records: list[bytes]) -> bytes:
    with fs.open(path, "wb") as f, TFRecordWriter(f, compression) as writer:
        writer.write_all(records)
    return fs.cat_file(path)


@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
@pytest.mark.parametrize("compression", ["GZIP", "ZLIB"])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_bad_compressed_shard_names_the_hdfs_file_and_offset(
    tf, fs, hdfs_dir, strategy, compression, damage
):
    path = f"{hdfs_dir}/bad.tfrecord.{compression.lower()}"
    data = bytearray(write_compressed(fs, path, compression, [os.urandom(300) for _ in range(40)]))
    if damage == "truncated":
        data = data[: len(data) * 2 // 3]
    else:
        data[len(data) // 2] ^= 0x40
    fs.pipe_file(path, bytes(data))
    with pytest.raises(tf.errors.OpError) as info:
        read(htf.tfrecord_dataset(path, fs=fs, strategy=strategy, compression=compression))
    message = str(info.value)
    assert re.search(rf"TFRecordError: .*(hdfs://[^/]+)?{path} at byte offset \d+", message)
    if strategy != "stream":  # where TF's own reader stopped, a record boundary
        stopped = int(
            re.search(r"TensorFlow stopped at uncompressed byte offset (\d+)", message)[1]
        )
        assert stopped % 316 == 0 and stopped < 40 * 316


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_multi_member_gzip_shard_reads_whole(tf, fs, hdfs_dir, strategy):
    """Two GZIP members (e.g. files concatenated): the last member's size trailer does not cover
    the file, so the end check reads it again and finds it whole."""
    path = f"{hdfs_dir}/two-members.tfrecord.gz"
    first = write_compressed(fs, path, "GZIP", [b"a" * 500] * 30)
    second = write_compressed(fs, path, "GZIP", [b"b" * 700] * 20)
    fs.pipe_file(path, first + second)
    got = read(htf.tfrecord_dataset(path, fs=fs, strategy=strategy, compression="GZIP"))
    assert got == [b"a" * 500] * 30 + [b"b" * 700] * 20


def test_write_tfrecords_from_dataset_and_examples(tf, fs, hdfs_dir):
    examples = [
        tf.train.Example(
            features=tf.train.Features(
                feature={"x": tf.train.Feature(int64_list=tf.train.Int64List(value=[i]))}
            )
        )
        for i in range(5)
    ]
    [path] = htf.write_tfrecords(examples, f"{hdfs_dir}/ex.tfrecord", fs=fs)
    parsed = [
        tf.io.parse_single_example(r, {"x": tf.io.FixedLenFeature([], tf.int64)})["x"].numpy()
        for r in htf.tfrecord_dataset(path, fs=fs)
    ]
    assert parsed == list(range(5))
    source = tf.data.Dataset.from_tensor_slices([b"p", b"q", b"r"])
    paths = htf.write_tfrecords(source, f"{hdfs_dir}/ds-{{shard}}.tfrecord", num_shards=3, fs=fs)
    assert [read(htf.tfrecord_dataset(p, fs=fs)) for p in paths] == [[b"p"], [b"q"], [b"r"]]


def test_failed_write_commits_no_shard(fs, hdfs_dir):
    def records():
        yield b"one"
        yield b"two"
        raise RuntimeError("source broke")

    with pytest.raises(RuntimeError, match="source broke"):
        htf.write_tfrecords(records(), f"{hdfs_dir}/partial.tfrecord", num_shards=2, fs=fs)
    assert fs.ls(hdfs_dir, detail=False) == []


# -- Keras ------------------------------------------------------------------------------------


def digits(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-like data: 28x28 images with a bright bar whose row is the label, plus noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, count)
    images = rng.random((count, 28, 28), dtype=np.float32) * 0.3
    for image, label in zip(images, labels, strict=True):
        image[2 + 2 * label : 4 + 2 * label, 4:24] = 1.0
    return images, labels


@pytest.fixture(scope="module")
def mnist_like(tf, fs, module_dir) -> str:
    images, labels = digits(320)
    examples = (
        tf.train.Example(
            features=tf.train.Features(
                feature={
                    "image": tf.train.Feature(float_list=tf.train.FloatList(value=image.ravel())),
                    "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
                }
            )
        ).SerializeToString()
        for image, label in zip(images, labels, strict=True)
    )
    htf.write_tfrecords(
        examples, f"{module_dir}/mnist/train-{{shard:02d}}.tfrecord", num_shards=4, fs=fs
    )
    return f"{module_dir}/mnist/*.tfrecord"


def small_model(tf):
    model = tf.keras.Sequential(
        [
            tf.keras.Input((28, 28)),
            tf.keras.layers.Flatten(),
            tf.keras.layers.Dense(32, activation="relu"),
            tf.keras.layers.Dense(10),
        ]
    )
    model.compile(
        optimizer="adam",
        metrics=["accuracy"],
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def test_keras_trains_from_hdfs_and_checkpoints_to_hdfs(tf, fs, hdfs_dir, mnist_like, tmp_path):
    spec = {
        "image": tf.io.FixedLenFeature([28 * 28], tf.float32),
        "label": tf.io.FixedLenFeature([], tf.int64),
    }

    def parse(record):
        example = tf.io.parse_single_example(record, spec)
        return tf.reshape(example["image"], (28, 28)), example["label"]

    train = htf.tfrecord_dataset(mnist_like, fs=fs).map(parse).batch(32)
    model = small_model(tf)
    board = tf.keras.callbacks.TensorBoard(str(tmp_path / "tb"))
    checkpoint = htf.HopsCheckpoint(f"{hdfs_dir}/run1", tensorboard=board, fs=fs)
    history = model.fit(train, epochs=2, callbacks=[board, checkpoint], verbose=0)
    assert len(history.history["loss"]) == 2  # the dataset is read again for epoch 2

    latest = htf.latest_checkpoint(f"{hdfs_dir}/run1", fs=fs)
    assert latest == f"{hdfs_dir}/run1/epoch-0002.keras"
    assert fs.exists(f"{hdfs_dir}/run1/epoch-0001.keras")
    restored = htf.load_model(latest, fs=fs)
    for mine, theirs in zip(model.get_weights(), restored.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    logs = [p for p in fs.find(f"{hdfs_dir}/run1/logs") if "tfevents" in p]
    assert logs and all(fs.size(p) > 0 for p in logs)
    assert fs.clean_tmp(hdfs_dir, older_than=0, recursive=True, dry_run=True) == []  # no temps


def test_weights_only_checkpoint(tf, fs, hdfs_dir):
    model = small_model(tf)
    images, labels = digits(64, seed=1)
    checkpoint = htf.HopsCheckpoint(f"{hdfs_dir}/w", save_weights_only=True, fs=fs)
    model.fit(images, labels, epochs=2, callbacks=[checkpoint], verbose=0)
    assert htf.latest_checkpoint(f"{hdfs_dir}/w", fs=fs) == f"{hdfs_dir}/w/epoch-0002.weights.h5"
    assert fs.exists(f"{hdfs_dir}/w/epoch-0001.weights.h5")


def test_save_and_load_model_file_and_saved_model_dir(tf, fs, hdfs_dir):
    model = small_model(tf)
    images, _ = digits(8, seed=2)
    expected = model.predict(images, verbose=0)
    path = htf.save_model(model, f"{hdfs_dir}/models/m.keras", fs=fs)
    np.testing.assert_allclose(
        htf.load_model(path, fs=fs).predict(images, verbose=0), expected, rtol=1e-6
    )

    exported = htf.save_model(model, f"{hdfs_dir}/models/serving", fs=fs)
    assert fs.isfile(f"{exported}/saved_model.pb")
    served = htf.load_model(exported, fs=fs)
    np.testing.assert_allclose(served.serve(images).numpy(), expected, rtol=1e-5)
    htf.save_model(model, exported, fs=fs)  # replaces the directory in one rename
    assert sorted(fs.ls(f"{hdfs_dir}/models", detail=False)) == [path, exported]
    assert fs.clean_tmp(f"{hdfs_dir}/models", older_than=0, dry_run=True) == []  # nor old tree
    with pytest.raises(FileExistsError, match="overwrite"):
        htf.save_model(model, exported, overwrite=False, fs=fs)
