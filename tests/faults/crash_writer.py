"""Writer process for tests/faults/test_crash_safety.py: drives each writer until it is mid-write, then
blocks it there, so that the test's SIGKILL lands at a known point.

Usage: python crash_writer.py BASE KIND-MODE...  (cluster from HOPSFS_* / HADOOP_CONF_DIR)

Case "KIND-MODE" writes into the HDFS directory BASE/KIND-MODE with writer KIND. Once data
reaches the cluster through the first HDFS output stream the case opens (a raw write returned,
the stream not yet closed) the writing thread prints "paused KIND-MODE" and blocks forever. Cases
start one after another, each once the previous one is paused; then "all paused" is printed.
A writer that fails or finishes without pausing prints "failed KIND-MODE: ..." and the process
exits 1. Nothing of HDFS is faked: the writes go to the real cluster, they just never finish.
"""

from __future__ import annotations

import os
import queue
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable
from typing import Any

from hopsfs_tools import hdfs
from hopsfs_tools.formats.tfrecord import TFRecordWriter
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.fs.backends.native import NativeBackend

PAYLOAD = bytes(range(256)) * (3 * 2**20 // 256)  # 3 MiB
RECORDS = [bytes([i]) * 1000 for i in range(256)]

_armed: set[str] = set()  # case directories whose next output stream pauses
_armed_lock = threading.Lock()
_events: queue.Queue[tuple[str, str]] = queue.Queue()
_open_write = NativeBackend.open_write


def _pausing_open_write(self: NativeBackend, path: str, **kwargs: Any) -> Any:
    """NativeBackend.open_write; the first stream opened for an armed case blocks after its
    first write (so a writer that uploads several files is stopped before committing any)."""
    writer = _open_write(self, path, **kwargs)
    with _armed_lock:
        case = next((c for c in _armed if path.startswith(c + "/")), None)
        _armed.discard(case)
    if case is None:
        return writer
    write = writer.write

    def write_then_block(data: Any) -> int:
        written = write(data)
        _events.put(("paused", case))
        threading.Event().wait()
        return written

    writer.write = write_then_block
    return writer


NativeBackend.open_write = _pausing_open_write  # type: ignore[method-assign]


def _pause_before(func: Callable[..., Any], path_arg: int) -> Callable[..., Any]:
    """`func`, blocking instead for an armed case when its argument `path_arg` lies in it: the
    commit step of writers whose data reaches HDFS through TF's filesystem plugin (libhdfs)."""

    def paused(*args: Any, **kwargs: Any) -> Any:
        path = str(args[path_arg])
        with _armed_lock:
            case = next((c for c in _armed if f"{c}/" in path), None)
            _armed.discard(case)
        if case is not None:
            _events.put(("paused", case))
            threading.Event().wait()
        return func(*args, **kwargs)

    return paused


def _arm_tensorflow_commits() -> None:
    """Pause save_model/HopsCheckpoint (written by Keras/TF through the plugin) at their commit:
    the file's rename over the target, or the SavedModel tree's replacement of it."""
    from hopsfs_tools.fs import commit
    from hopsfs_tools.tensorflow import models

    models.replace_file = _pause_before(models.replace_file, 0)
    commit.replace_tree = _pause_before(commit.replace_tree, 1)


def _local_file(data: bytes) -> str:
    """A local file named "data" (copy_to_hdfs(file, dir, True) writes dir/data)."""
    path = os.path.join(tempfile.mkdtemp(prefix="crash-writer-"), "data")
    with open(path, "wb") as f:
        f.write(data)
    return path


def _local_tree() -> str:
    """A local directory named "tree" (copy_to_hdfs(tree, dir) writes dir/tree)."""
    root = os.path.join(tempfile.mkdtemp(prefix="crash-writer-"), "tree")
    os.makedirs(os.path.join(root, "sub"))
    for name in ("a.txt", "sub/b.txt"):
        with open(os.path.join(root, name), "wb") as f:
            f.write(PAYLOAD)
    return root


def _model() -> Any:
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def _open(fs: HopsFileSystem, d: str) -> None:
    with fs.open(f"{d}/data", "wb", block_size=2**20) as f:
        f.write(PAYLOAD)


def _tfrecord_writer(fs: HopsFileSystem, d: str) -> None:
    with fs.open(f"{d}/data.tfrecord", "wb") as f, TFRecordWriter(f) as w:
        w.write_all(RECORDS)


def _to_parquet(fs: HopsFileSystem, d: str) -> None:
    import pandas as pd

    pd.DataFrame({"x": range(1000)}).to_parquet(f"hopsfs://{d}/data.parquet")


def _parquet_dataset(fs: HopsFileSystem, d: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_to_dataset(pa.table({"x": list(range(1000))}), f"{d}/ds", filesystem=fs)


def _write_tfrecords(fs: HopsFileSystem, d: str) -> None:
    from hopsfs_tools.tensorflow import write_tfrecords

    write_tfrecords(RECORDS, f"{d}/part-{{shard}}.tfrecord", num_shards=2, fs=fs)


def _save_model(fs: HopsFileSystem, d: str, name: str) -> None:
    from hopsfs_tools.tensorflow import save_model

    save_model(_model(), f"{d}/{name}", fs=fs)


def _checkpoint(fs: HopsFileSystem, d: str) -> None:
    from hopsfs_tools.tensorflow import HopsCheckpoint

    callback = HopsCheckpoint(f"{d}/ckpt", fs=fs)
    callback.set_model(_model())
    callback.on_epoch_end(0)


WRITERS: dict[str, Callable[[HopsFileSystem, str], None]] = {
    "open": _open,
    "put": lambda fs, d: fs.put_file(_local_file(PAYLOAD), f"{d}/data"),
    "pipe": lambda fs, d: fs.pipe_file(f"{d}/data", PAYLOAD),
    # the hops facade: absolute paths outside /Projects as hdfs:// URLs, any project
    "copy_to_hdfs": lambda fs, d: hdfs.copy_to_hdfs(
        _local_file(PAYLOAD), f"hdfs://{d}", True, project="crash"
    ),
    "copy_to_hdfs_tree": lambda fs, d: hdfs.copy_to_hdfs(
        _local_tree(), f"hdfs://{d}", True, project="crash"
    ),
    "dump": lambda fs, d: hdfs.dump(PAYLOAD, f"hdfs://{d}/data", project="crash"),
    "to_parquet": _to_parquet,
    "parquet_dataset": _parquet_dataset,
    "tfrecord_writer": _tfrecord_writer,
    "write_tfrecords": _write_tfrecords,
    "save_model_file": lambda fs, d: _save_model(fs, d, "model.keras"),
    "save_model_dir": lambda fs, d: _save_model(fs, d, "model"),
    "checkpoint": _checkpoint,
}


def _run(fs: HopsFileSystem, kind: str, case: str) -> None:
    try:
        WRITERS[kind](fs, case)
    except BaseException:  # noqa: BLE001 - reported to the test through stdout
        _events.put(("failed", f"{case}: {traceback.format_exc()!r}"))
    else:
        _events.put(("failed", f"{case}: finished without pausing"))


def main(base: str, cases: list[str]) -> int:
    fs = HopsFileSystem(backend="native")
    if any(name.startswith(("save_model", "checkpoint")) for name in cases):
        _arm_tensorflow_commits()
    for name in cases:
        case = f"{base}/{name}"
        _armed.add(case)
        threading.Thread(target=_run, args=(fs, name.rsplit("-", 1)[0], case), daemon=True).start()
        event, detail = _events.get(timeout=300)
        print(f"{event} {name if event == 'paused' else detail}", flush=True)
        if event != "paused":
            return 1
    print("all paused", flush=True)
    threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
