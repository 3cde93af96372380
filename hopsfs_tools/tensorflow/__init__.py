"""TensorFlow on HDFS/HopsFS: tf.data TFRecord input, sharded per worker; models, checkpoints and
TensorBoard logs saved to the cluster. TensorFlow is imported only when these functions run.

TF 2.x has no hdfs:// filesystem ("File system scheme 'hdfs' not implemented"), so records
reach tf.data in one of two ways (`strategy=`):
- "cache": background threads copy shards from HDFS into a bounded local cache directory and
  TF's native TFRecordDataset reads them (C++ parsing); each file is deleted once consumed;
- "stream": TFRecord framing is parsed in Python from the HDFS stream (8 MiB reads) and fed to
  `from_generator` one batch of records per call.
"""

from __future__ import annotations

import atexit
import logging
import os
import posixpath
import random
import shutil
import tempfile
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from hopsfs_tools import sharding
from hopsfs_tools.formats.tfrecord import (
    READ_CHUNK,
    TFRecordWriter,
    compression_of,
    read_record_batches,
    record_pieces,
)
from hopsfs_tools.fs.core import HopsFile, HopsFileSystem
from hopsfs_tools.tensorflow.plugin import register

if TYPE_CHECKING:
    import tensorflow as tf

log = logging.getLogger(__name__)

AUTOTUNE = -1  # tf.data.AUTOTUNE
CYCLE_LENGTH = 32  # files read at once, as HopsFS's TF examples' parallel_interleave
# benchmarks/bench_tfrecord.py (2 cores, 3 local DataNodes, two runs): "cache" read 1 MiB records
# at 0.16-0.18x local disk vs 0.10-0.11x for "stream"; with 1 KiB records they are within noise.
DEFAULT_STRATEGY = "cache"
CACHE_BYTES = 2**30  # "cache": bytes of copied pieces on local disk (each open file may hold one)
LOOKAHEAD_FILES = 4  # "cache": files copied before the interleave opens them
PIECE_BYTES = READ_CHUNK  # "cache": uncompressed files are copied in pieces of about this size
COPY_STREAMS = 4  # "cache": pieces read from HDFS at once (each holds up to 2 pieces in memory)
STREAM_BUFFER_BYTES = 32 * 2**20  # "stream": read buffers of all open files (1-8 MiB each)
MODEL_FILE_SUFFIXES = (".keras", ".h5")


def _tf() -> Any:
    import tensorflow as tf

    return tf


def _filesystem(fs: HopsFileSystem | None) -> HopsFileSystem:
    return fs if fs is not None else HopsFileSystem()


# -- files and shards ---------------------------------------------------------------------------


def list_files(
    files_or_glob: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    fs: HopsFileSystem | None = None,
) -> list[tuple[str, int]]:
    """(absolute path, size) of each file named, matched by a glob, or in a named directory.

    Globs and directories skip names starting with "." or "_" (in-progress writes, _SUCCESS)
    unless the glob's own name starts so.
    """
    fs = _filesystem(fs)
    items = [files_or_glob] if isinstance(files_or_glob, (str, os.PathLike)) else files_or_glob
    found: dict[str, int] = {}
    for item in items:
        text = os.fspath(item)
        hidden = posixpath.basename(text).startswith((".", "_"))
        if any(c in text for c in "*?["):
            infos = list(fs.glob(text, detail=True).values())
        else:
            infos = [fs.info(text)]
            if infos[0]["type"] == "directory":
                infos, hidden = fs.ls(text), False
        infos = [
            i for i in infos if hidden or not posixpath.basename(i["name"]).startswith((".", "_"))
        ]
        matches = sorted((i["name"], i["size"]) for i in infos if i["type"] == "file")
        if not matches:
            raise FileNotFoundError(
                f"no TFRecord files match {text!r} (resolved {fs.resolve(text)})"
            )
        found.update(matches)
    return list(found.items())


def worker_shard(shard: tuple[int, int] | None = None) -> tuple[int, int] | None:
    """This worker's (index, count): `shard`, else from TF_CONFIG's chief+workers, else from
    $HOPSFS_SHARD_INDEX/$HOPSFS_SHARD_COUNT (see hopsfs_tools.sharding); None: all files."""
    if shard is None:
        return sharding.shard_from_env()
    index, count = shard
    if not 0 <= index < count:
        raise ValueError(f"shard index {index} is not in [0, {count}): give (index, count)")
    return index, count


def worker_files(
    files_or_glob: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    shard: tuple[int, int] | None = None,
    fs: HopsFileSystem | None = None,
    prefer_local: bool = False,
) -> list[tuple[str, int]]:
    """(path, size) of the files this worker reads: its shard (`worker_shard`) of `list_files`.

    `prefer_local` assigns files by HDFS block locality (workers' hosts from TF_CONFIG).
    """
    fs = _filesystem(fs)
    files = list_files(files_or_glob, fs)
    shard = worker_shard(shard)
    if shard is None:
        return files
    index, count = shard
    sizes = dict(files)
    mine = sharding.shard_files(sizes, index, count, prefer_local=prefer_local, fs=fs)
    if not mine:
        raise ValueError(
            f"worker {index} of {count} gets none of the {len(files)} TFRecord files: sharding "
            f"is by file, so write at least {count} files (write_tfrecords(num_shards={count}))"
        )
    return [(p, sizes[p]) for p in mine]


class _EpochOrder:
    """The order files are read in each time the dataset is iterated (reshuffled per epoch)."""

    def __init__(self, files: list[tuple[str, int]], shuffle: bool, seed: int | None) -> None:
        self.files, self.shuffle, self.seed, self.epoch = files, shuffle, seed, 0
        self._lock = threading.Lock()

    def next(self) -> list[tuple[str, int]]:
        with self._lock:
            epoch, self.epoch = self.epoch, self.epoch + 1
        order = list(self.files)
        if self.shuffle:
            random.Random(None if self.seed is None else self.seed * 1_000_003 + epoch).shuffle(
                order
            )
        return order


# -- the local cache (strategy "cache") -----------------------------------------------------------

_CACHES: dict[str, _LocalCache] = {}  # cache directory -> the cache (for the pieces generator)


class _CachedFile:
    """One HDFS file of a cache: its copied pieces waiting for TF, and how its copy ended."""

    def __init__(self, path: str, size: int) -> None:
        self.path, self.size = path, size
        self.ready: deque[str] = deque()  # local pieces copied, not yet handed to TF
        self.held = 0  # bytes of its pieces on local disk (waiting or being read)
        self.started = self.opened = self.done = False
        self.error: BaseException | None = None


class _LocalCache:
    """Copies HDFS files into a local directory in pieces cut at record boundaries, ahead of TF.

    Every file the interleave has open (and the next `lookahead` files) is copied by its own
    thread, so TF reads a file's first pieces while the rest is still arriving. Uncompressed
    files are cut into pieces of about `piece_bytes`; a compressed file is one piece. Pieces on
    disk stay within `max_bytes`, except that each file the interleave has opened may always hold
    one: the piece TF waits for can always be copied, so the cache cannot deadlock tf.data.
    Pieces are deleted once read.
    """

    def __init__(
        self,
        fs: HopsFileSystem,
        files: list[tuple[str, int]],
        base_dir: str | None,
        max_bytes: int,
        lookahead: int,
        compressed: bool,
        piece_bytes: int,
    ) -> None:
        self.fs, self.max_bytes, self.lookahead = fs, max_bytes, lookahead
        self.compressed, self.piece_bytes = compressed, piece_bytes
        self.files = [_CachedFile(path, size) for path, size in files]
        base = base_dir or os.environ.get("HOPSFS_CACHE_DIR") or None
        if base:
            os.makedirs(base, exist_ok=True)
        self.directory = tempfile.mkdtemp(prefix="hopsfs-tfrecord-", dir=base)
        self._cond = threading.Condition()
        self._closed = False
        self._held = 0
        self._pieces: dict[str, tuple[_CachedFile, int]] = {}  # local piece -> (file, size)
        self._threads: list[threading.Thread] = []
        self._streams = threading.Semaphore(COPY_STREAMS)  # bounds memory, not just disk
        _CACHES[self.directory] = self

    def keys(self) -> Iterator[str]:
        """One key per file, in order, for `pieces`; copying starts `lookahead` files ahead."""
        for index in range(len(self.files)):
            for ahead in range(index, min(index + 1 + self.lookahead, len(self.files))):
                self._start(ahead)
            with self._cond:
                self.files[index].opened = True
                self._cond.notify_all()
            yield os.path.join(self.directory, str(index))

    def _start(self, index: int) -> None:
        with self._cond:
            file = self.files[index]
            if file.started or self._closed:
                return
            file.started = True
            thread = threading.Thread(
                target=self._copy, args=(index, file), name="hopsfs-tfrecord-cache", daemon=True
            )
            self._threads.append(thread)
        thread.start()

    def _copy(self, index: int, file: _CachedFile) -> None:
        """Thread body: copy `file` piece by piece (waiting for room), then mark it done."""
        prefix = os.path.join(self.directory, f"{index:06d}-{posixpath.basename(file.path)}")
        try:
            with self.fs.open(file.path, "rb", block_size=self.piece_bytes, cache_type="none") as f:
                if self.compressed:
                    pieces: Iterable[tuple[int, Any]] = [
                        (0, iter(lambda: f.read(self.piece_bytes), b""))
                    ]
                else:
                    pieces = (
                        (offset, (data,))
                        for offset, data in record_pieces(
                            f, name=file.path, chunk_size=self.piece_bytes
                        )
                    )
                for offset, chunks in self._paced(file, pieces):
                    local = f"{prefix}@{offset}"  # TF's errors name the piece: file and offset
                    with open(local, "wb") as out:
                        out.writelines(chunks)
                    self._publish(file, local, os.path.getsize(local))
        except Exception as error:  # noqa: BLE001 - handed to TF by `pieces`
            file.error = error
        with self._cond:
            file.done = True
            self._cond.notify_all()

    def _paced(
        self, file: _CachedFile, pieces: Iterable[tuple[int, Any]]
    ) -> Iterator[tuple[int, Any]]:
        """`pieces`, each once there is room for it on disk and a copy stream is free (held
        until the caller asks for the next piece); stops when the cache closes."""
        iterator = iter(pieces)
        need = file.size if self.compressed else self.piece_bytes
        while True:
            with self._cond:
                self._cond.wait_for(
                    lambda: (
                        self._closed
                        or (file.opened and not file.held)
                        or self._held + need <= self.max_bytes
                    )
                )
                if self._closed:
                    return
            with self._streams:
                piece = next(iterator, None)
                if piece is None:
                    return
                yield piece  # the caller writes it out before the stream is freed

    def _publish(self, file: _CachedFile, local: str, size: int) -> None:
        with self._cond:
            if self._closed:
                os.remove(local)
                return
            self._pieces[local] = (file, size)
            file.held += size
            self._held += size
            file.ready.append(local)
            self._cond.notify_all()

    def pieces(self, index: int) -> Iterator[str]:
        """The local pieces of file `index` in order, each once copied; raises the copy's error.

        TF asks for the next piece only once it has read the last one (flat_map), so a piece
        is deleted when the next is asked for, or when the file ends or is abandoned.
        """
        file = self.files[index]
        self._start(index)
        while True:
            with self._cond:
                self._cond.wait_for(lambda: file.ready or file.done or self._closed)
                if self._closed:
                    return
                if not file.ready:
                    error, file.error = file.error, None
                    break
                local = file.ready.popleft()
            try:
                yield local
            finally:
                self.release(local)
        self._close_if_finished()
        if error is not None:
            raise error

    def release(self, local: str) -> None:
        """A piece TF has read: delete it (when every file is copied and read, close the cache)."""
        try:
            os.remove(local)
        except FileNotFoundError:
            pass
        with self._cond:
            entry = self._pieces.pop(local, None)
            if entry is not None:
                entry[0].held -= entry[1]
                self._held -= entry[1]
                self._cond.notify_all()
        self._close_if_finished()

    def _close_if_finished(self) -> None:
        """Close once every file is copied and read, and every copy error handed to TF."""
        with self._cond:
            finished = not self._pieces and all(
                f.done and not f.ready and f.error is None for f in self.files
            )
        if finished:
            self.close()

    def close(self) -> None:
        """Stop copying and delete the cache directory."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            threads = list(self._threads)
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join()
        _CACHES.pop(self.directory, None)
        shutil.rmtree(self.directory, ignore_errors=True)


@atexit.register
def _close_caches() -> None:
    """Delete the caches of iterations abandoned after their last file was handed out."""
    for cache in list(_CACHES.values()):
        cache.close()


# -- tf.data input ----------------------------------------------------------------------------


def tfrecord_dataset(
    files_or_glob: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    compression: str | None = None,
    num_parallel_reads: int | None = AUTOTUNE,
    cycle_length: int | None = None,
    block_length: int = 1,
    deterministic: bool = True,
    shuffle_files: bool = False,
    seed: int | None = None,
    shard: tuple[int, int] | None = None,
    prefer_local: bool = False,
    prefetch: int | None = AUTOTUNE,
    fs: HopsFileSystem | None = None,
    strategy: str = "auto",
    verify: bool = True,
    cache_dir: str | None = None,
    cache_bytes: int = CACHE_BYTES,
    lookahead_files: int = LOOKAHEAD_FILES,
) -> tf.data.Dataset:
    """A tf.data.Dataset of the serialized records of TFRecord files on HDFS.

    `files_or_glob`: project-relative, absolute, hdfs:// or hopsfs:// paths, globs or directories.
    This worker reads its shard of the files (`worker_files`), interleaving `cycle_length`
    files (default min(32, files)) `block_length` records at a time. `strategy`: "cache",
    "stream" or "auto" (= DEFAULT_STRATEGY). `verify` checks CRCs in "stream" (TF always
    checks them in "cache"); `cache_dir` ($HOPSFS_CACHE_DIR, else the temp dir),
    `cache_bytes` and `lookahead_files` tune "cache".
    """
    tf = _tf()
    fs = _filesystem(fs)
    strategy = DEFAULT_STRATEGY if strategy == "auto" else strategy
    if strategy not in ("cache", "stream"):
        raise ValueError(f"unknown strategy {strategy!r}: use 'auto', 'cache' or 'stream'")
    kind = compression_of(compression)
    shard = worker_shard(shard)
    files = worker_files(files_or_glob, shard, fs, prefer_local)
    cycle = max(1, min(cycle_length or CYCLE_LENGTH, len(files)))
    order = _EpochOrder(files, shuffle_files, seed)
    name_spec = tf.TensorSpec((), tf.string)

    if strategy == "cache":

        def paths() -> Iterator[str]:
            cache = _LocalCache(
                fs,
                order.next(),
                cache_dir,
                cache_bytes,
                lookahead_files,
                compressed=kind is not None,
                piece_bytes=PIECE_BYTES,
            )
            try:
                yield from cache.keys()  # the cache closes itself once every piece is released
            except BaseException:  # abandoned or failed before the last file was opened
                cache.close()
                raise

        def pieces(key: bytes) -> Iterator[str]:
            directory, index = os.path.split(os.fsdecode(key))
            cache = _CACHES.get(directory)
            if cache is not None:
                yield from cache.pieces(int(index))

        def per_file(key: tf.Tensor) -> tf.data.Dataset:
            local_pieces = tf.data.Dataset.from_generator(
                pieces, args=(key,), output_signature=name_spec
            )  # read one after another (a flat_map): see _LocalCache.pieces
            return tf.data.TFRecordDataset(
                local_pieces, compression_type=kind or "", buffer_size=2**20
            )

    else:

        def paths() -> Iterator[str]:
            for path, _ in order.next():
                yield path

        chunk = max(2**20, min(READ_CHUNK, STREAM_BUFFER_BYTES // cycle))

        def batches(path: bytes) -> Iterator[list[bytes]]:
            name = os.fsdecode(path)
            with fs.open(name, "rb", block_size=chunk, cache_type="none") as f:
                yield from read_record_batches(
                    f, compression=kind, verify=verify, name=name, chunk_size=chunk
                )

        def per_file(path: tf.Tensor) -> tf.data.Dataset:
            return tf.data.Dataset.from_generator(
                batches, args=(path,), output_signature=tf.TensorSpec((None,), tf.string)
            ).unbatch()

    names = tf.data.Dataset.from_generator(paths, output_signature=name_spec)
    dataset = names.interleave(
        per_file,
        cycle_length=cycle,
        block_length=block_length,
        num_parallel_calls=num_parallel_reads,
        deterministic=deterministic if num_parallel_reads else None,
    )
    if shard is not None:  # already sharded by file: distribution strategies must not reshard
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
        dataset = dataset.with_options(options)
    return dataset.prefetch(prefetch) if prefetch else dataset


# -- writing records ---------------------------------------------------------------------------


def shard_paths(path_pattern: str, num_shards: int, fs: HopsFileSystem | None = None) -> list[str]:
    """Absolute paths of `num_shards` shards: `path_pattern` formatted with {shard} and
    {num_shards}, else suffixed "-00000-of-00004" (a single shard keeps the plain name)."""
    if num_shards < 1:
        raise ValueError(f"num_shards must be >= 1, not {num_shards}")
    fs = _filesystem(fs)
    if "{" not in path_pattern:
        if num_shards == 1:
            return [fs.resolve(path_pattern)]
        path_pattern += "-{shard:05d}-of-{num_shards:05d}"
    paths = [
        fs.resolve(path_pattern.format(shard=i, num_shards=num_shards)) for i in range(num_shards)
    ]
    if len(set(paths)) != num_shards:
        raise ValueError(
            f"path pattern {path_pattern!r} gives the same name to several shards: use {{shard}}"
        )
    return paths


def _record_bytes(item: Any) -> bytes:
    """A record from bytes, a tf.train.Example (or any protobuf), or a scalar string tensor."""
    if isinstance(item, bytes):
        return item
    if hasattr(item, "SerializeToString"):
        return item.SerializeToString()
    if hasattr(item, "numpy"):
        item = item.numpy()
    if isinstance(item, (bytes, bytearray, memoryview)):
        return bytes(item)
    raise TypeError(
        f"cannot write a {type(item).__name__} as a TFRecord: give bytes, tf.train.Example or "
        "scalar tf.string tensors"
    )


def write_tfrecords(
    records_or_dataset: Iterable[Any],
    path_pattern: str,
    num_shards: int = 1,
    compression: str | None = None,
    fs: HopsFileSystem | None = None,
) -> list[str]:
    """Write records round-robin into `num_shards` TFRecord files on HDFS; returns their paths.

    Shards are uploaded to hidden temporary files and renamed into place only once all are
    complete; on an error (or a crash while writing) none of them is committed.
    """
    fs = _filesystem(fs)
    paths = shard_paths(path_pattern, num_shards, fs)
    items = records_or_dataset
    if hasattr(items, "as_numpy_iterator"):  # a tf.data.Dataset
        items = items.as_numpy_iterator()
    with ExitStack() as stack:  # an error discards every shard's temporary file
        files = [stack.enter_context(HopsFile(fs, p, "wb", autocommit=False)) for p in paths]
        writers = [stack.enter_context(TFRecordWriter(f, compression)) for f in files]
        for i, item in enumerate(items):
            writers[i % num_shards].write(_record_bytes(item))
    try:  # every shard is complete: now rename them all into place
        for f in files:
            f.commit()
    except BaseException:
        for f in files:
            f.discard()
        raise
    return paths


# -- models, checkpoints, TensorBoard -----------------------------------------------------------


def upload_dir(
    local_dir: str, hdfs_path: str, *, overwrite: bool = True, fs: HopsFileSystem | None = None
) -> str:
    """Copy a local directory to HDFS via a hidden temporary directory renamed into place
    (an existing tree is replaced only once the new one is complete)."""
    fs = _filesystem(fs)
    target = fs.resolve(hdfs_path)
    if not overwrite and fs.exists(target):
        raise FileExistsError(f"{target} exists: pass overwrite=True to replace it")
    with fs.staged_dir(target) as temp:
        fs.makedirs(temp)
        fs.put(os.path.join(local_dir, ""), temp, recursive=True)
    return target


def save_model(
    model: Any, hdfs_path: str, *, overwrite: bool = True, fs: HopsFileSystem | None = None
) -> str:
    """Save a Keras model as a ".keras"/".h5" file, else export a SavedModel directory, to HDFS.

    Saved to a local temporary directory first, then committed atomically; returns the path.
    """
    fs = _filesystem(fs)
    target = fs.resolve(hdfs_path)
    with tempfile.TemporaryDirectory(prefix="hopsfs-model-") as tmp:
        if target.endswith(MODEL_FILE_SUFFIXES):
            if not overwrite and fs.exists(target):
                raise FileExistsError(f"{target} exists: pass overwrite=True to replace it")
            local = os.path.join(tmp, posixpath.basename(target))
            model.save(local)
            fs.put_file(local, target)
        else:
            local = os.path.join(tmp, "saved_model")
            if hasattr(model, "export"):  # Keras 3: an inference SavedModel
                model.export(local, verbose=False)
            else:
                _tf().saved_model.save(model, local)
            upload_dir(local, target, overwrite=overwrite, fs=fs)
    return target


def load_model(hdfs_path: str, *, fs: HopsFileSystem | None = None, **kwargs: Any) -> Any:
    """Load a ".keras"/".h5" model file (keras.models.load_model) or a SavedModel directory
    (tf.saved_model.load) from HDFS; `kwargs` go to the loader."""
    tf = _tf()
    fs = _filesystem(fs)
    target = fs.resolve(hdfs_path)
    tmp = tempfile.TemporaryDirectory(prefix="hopsfs-model-")
    local = os.path.join(tmp.name, posixpath.basename(target))
    if fs.isdir(target):
        fs.get(target, local, recursive=True)
        loaded = tf.saved_model.load(local, **kwargs)
        loaded._hopsfs_local_copy = tmp  # assets stay readable while the object lives
        return loaded
    with tmp:
        fs.get_file(target, local)
        return tf.keras.models.load_model(local, **kwargs)


def sync_dir(
    local_dir: str,
    hdfs_dir: str,
    seen: dict[str, tuple[int, int]] | None = None,
    fs: HopsFileSystem | None = None,
) -> list[str]:
    """Upload the files of `local_dir` that changed since `seen` (updated) to `hdfs_dir`, each
    atomically; returns the HDFS paths written."""
    fs = _filesystem(fs)
    seen = {} if seen is None else seen
    written = []
    for root, _, names in os.walk(local_dir):
        for name in sorted(names):
            local = os.path.join(root, name)
            st = os.stat(local)
            if seen.get(local) == (st.st_size, st.st_mtime_ns):
                continue
            rel = os.path.relpath(local, local_dir).replace(os.sep, "/")
            remote = fs.resolve(posixpath.join(hdfs_dir, rel))
            fs.put_file(local, remote)
            seen[local] = (st.st_size, st.st_mtime_ns)
            written.append(remote)
    return written


def latest_checkpoint(hdfs_dir: str, fs: HopsFileSystem | None = None) -> str | None:
    """The path of the newest checkpoint HopsCheckpoint committed in `hdfs_dir`, or None."""
    fs = _filesystem(fs)
    index = posixpath.join(fs.resolve(hdfs_dir), "checkpoint")
    if not fs.exists(index):
        return None
    return posixpath.join(fs.resolve(hdfs_dir), fs.cat_file(index).decode().strip())


def _checkpoint_class() -> type:
    """HopsCheckpoint, built on first use so that importing this module does not import TF."""
    keras = _tf().keras

    class HopsCheckpoint(keras.callbacks.Callback):  # type: ignore[misc,name-defined]
        """Each epoch, commit the model (or weights) and TensorBoard event files to `hdfs_dir`.

        Checkpoints are saved locally, then uploaded to a temp file renamed into place, and the
        "checkpoint" file names the newest (see latest_checkpoint). `tensorboard`: a
        keras.callbacks.TensorBoard (flushed, its log_dir synced to `hdfs_dir`/`logs_subdir`;
        list it before this callback) or a local log directory.
        """

        def __init__(
            self,
            hdfs_dir: str,
            *,
            save_weights_only: bool = False,
            filename: str = "epoch-{epoch:04d}",
            tensorboard: Any = None,
            logs_subdir: str = "logs",
            fs: HopsFileSystem | None = None,
        ) -> None:
            super().__init__()
            self.fs = _filesystem(fs)
            self.hdfs_dir = self.fs.resolve(hdfs_dir)
            self.save_weights_only, self.filename = save_weights_only, filename
            self.tensorboard, self.logs_subdir = tensorboard, logs_subdir
            self._seen: dict[str, tuple[int, int]] = {}
            self.fs.makedirs(self.hdfs_dir, exist_ok=True)

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            suffix = ".weights.h5" if self.save_weights_only else ".keras"
            name = self.filename.format(epoch=epoch + 1, **(logs or {})) + suffix
            with tempfile.TemporaryDirectory(prefix="hopsfs-ckpt-") as tmp:
                local = os.path.join(tmp, name)
                if self.save_weights_only:
                    self.model.save_weights(local)
                else:
                    self.model.save(local)
                self.fs.put_file(local, posixpath.join(self.hdfs_dir, name))
            self.fs.pipe_file(posixpath.join(self.hdfs_dir, "checkpoint"), name.encode() + b"\n")
            self.sync_logs()

        def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
            self.sync_logs()

        def sync_logs(self) -> list[str]:
            """Flush the TensorBoard writers and upload changed event files; returns them."""
            log_dir = getattr(self.tensorboard, "log_dir", self.tensorboard)
            if not log_dir or not os.path.isdir(log_dir):
                return []
            for writer in list(getattr(self.tensorboard, "_writers", {}).values()):
                writer.flush()
            target = posixpath.join(self.hdfs_dir, self.logs_subdir)
            return sync_dir(os.fspath(log_dir), target, self._seen, self.fs)

    return HopsCheckpoint


def __getattr__(name: str) -> Any:
    if name == "HopsCheckpoint":
        cls = _checkpoint_class()
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _register_on_import() -> None:
    """Register the hdfs/viewfs/hopsfs TF filesystems; a failure is logged, not raised (the
    Python strategies still work; `register()` raises it)."""
    try:
        register()
    except (RuntimeError, ValueError, OSError) as exc:
        log.warning("TensorFlow cannot use hdfs:// / hopsfs:// paths natively: %s", exc)


_register_on_import()

__all__ = [  # and HopsCheckpoint, made on first access (it subclasses a Keras class)
    "AUTOTUNE",
    "latest_checkpoint",
    "list_files",
    "load_model",
    "register",
    "save_model",
    "shard_paths",
    "sync_dir",
    "tfrecord_dataset",
    "upload_dir",
    "worker_files",
    "worker_shard",
    "write_tfrecords",
]
