"""tf.data input of TFRecord files on HDFS, sharded per worker (`tfrecord_dataset`).

Strategies (`strategy=`):
- "native": TF's own TFRecordDataset reads hdfs:// URLs through the filesystem plugin
  (hopsfs_tools.tensorflow.plugin): C++ end to end, no Python in the data path;
- "cache": background threads copy shards from HDFS into a bounded local cache directory and
  TF's native TFRecordDataset reads them; each piece is deleted once consumed;
- "stream": TFRecord framing is parsed in Python from the HDFS stream (8 MiB reads) and fed to
  `from_generator` one batch of records per call.
Every strategy names the HDFS file and the offset of a corrupt or truncated record.
"""

from __future__ import annotations

import atexit
import os
import posixpath
import shutil
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from hopsfs_tools import sharding
from hopsfs_tools.config import settings
from hopsfs_tools.formats.tfrecord import (
    READ_CHUNK,
    compression_of,
    read_record_batches,
    record_pieces,
)
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.sharding import FilesOrGlob, epoch_shard, list_files
from hopsfs_tools.tensorflow import checks, plugin

if TYPE_CHECKING:
    import tensorflow as tf

AUTOTUNE = -1  # tf.data.AUTOTUNE
CYCLE_LENGTH = 32  # files read at once, as HopsFS's TF examples' parallel_interleave
STRATEGIES = ("native", "cache", "stream")
CACHE_BYTES = 2**30  # "cache": bytes of copied pieces on local disk (each open file may hold one)
LOOKAHEAD_FILES = 4  # "cache": files copied before the interleave opens them
PIECE_BYTES = READ_CHUNK  # "cache": uncompressed files are copied in pieces of about this size
COPY_STREAMS = 4  # "cache": pieces read from HDFS at once (each holds up to 2 pieces in memory)
STREAM_BUFFER_BYTES = 32 * 2**20  # "stream": read buffers of all open files (1-8 MiB each)
NATIVE_BUFFER_BYTES = 8 * 2**20  # "native": TFRecordDataset's read buffer per open file


def _tf() -> Any:
    return plugin.tensorflow()


def _filesystem(fs: HopsFileSystem | None) -> HopsFileSystem:
    return fs if fs is not None else HopsFileSystem()


def default_strategy(fs: HopsFileSystem | None = None) -> str:
    """ "native" when TF has the hdfs:// plugin registered and the cluster (`fs`'s, else the
    default one) has an RPC address (the plugin's libhdfs does not speak WebHDFS), else "cache"."""
    if not plugin.registered():
        return "cache"
    rpc = _filesystem(fs).config.namenode_uri.startswith(("hdfs://", "viewfs://"))
    return "native" if rpc else "cache"


# -- files and shards ---------------------------------------------------------------------------


def worker_shard(shard: tuple[int, int] | None = None) -> tuple[int, int]:
    """This reader's (index, count) among all readers (hopsfs_tools.sharding): `shard`, else
    TF_CONFIG's chief+workers, else $HOPSFS_SHARD_INDEX/$HOPSFS_SHARD_COUNT, else (0, 1)."""
    if shard is None:
        return sharding.shard_from_env() or (0, 1)
    index, count = shard
    sharding.check_shard(index, count, f"shard {shard}")
    return index, count


def worker_files(
    files_or_glob: FilesOrGlob,
    shard: tuple[int, int] | None = None,
    fs: HopsFileSystem | None = None,
    prefer_local: bool = False,
) -> list[tuple[str, int]]:
    """(path, size) of the files this worker reads (unshuffled): its shard of `list_files`.

    `prefer_local` assigns files by HDFS block locality (workers' hosts from TF_CONFIG).
    """
    fs = _filesystem(fs)
    files = list_files(files_or_glob, fs)
    index, count = worker_shard(shard)
    sizes = dict(files)
    mine = epoch_shard(list(sizes), (index, count), 0, prefer_local=prefer_local, fs=fs)
    if not mine:
        raise ValueError(
            f"worker {index} of {count} gets none of the {len(files)} TFRecord files: sharding "
            f"is by file, so write at least {count} files (write_tfrecords(num_shards={count}))"
        )
    return [(p, sizes[p]) for p in mine]


class _EpochFiles:
    """The (path, size) files this worker reads each time the dataset is iterated."""

    def __init__(
        self,
        files: list[tuple[str, int]],
        shard: tuple[int, int],
        shuffle: bool,
        seed: int | None,
        prefer_local: bool,
        fs: HopsFileSystem,
    ) -> None:
        self.sizes, self.shard, self.shuffle, self.seed = dict(files), shard, shuffle, seed
        self.prefer_local, self.fs, self.epoch = prefer_local, fs, 0
        self._lock = threading.Lock()

    def next(self) -> list[tuple[str, int]]:
        with self._lock:
            epoch, self.epoch = self.epoch, self.epoch + 1
        paths = epoch_shard(
            list(self.sizes),
            self.shard,
            epoch,
            shuffle=self.shuffle,
            seed=self.seed,
            prefer_local=self.prefer_local,
            fs=self.fs,
        )
        return [(p, self.sizes[p]) for p in paths]


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
        base = base_dir or settings.tfrecord_cache_dir()
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

    def file_keys(self) -> Iterator[str]:
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
    num_parallel_reads: int | str | None = "auto",
    cycle_length: int | None = None,
    block_length: int = 1,
    deterministic: bool = True,
    shuffle_files: bool = False,
    seed: int | None = None,
    shard: tuple[int, int] | None = None,
    prefer_local: bool = False,
    prefetch: int | str | None = "auto",
    fs: HopsFileSystem | None = None,
    strategy: str = "auto",
    verify: bool = True,
    cache_dir: str | None = None,
    cache_bytes: int = CACHE_BYTES,
    lookahead_files: int = LOOKAHEAD_FILES,
) -> tf.data.Dataset:
    """A tf.data.Dataset of the serialized records of TFRecord files on HDFS.

    `files_or_glob`: project-relative, absolute, hdfs:// or hopsfs:// paths, globs or directories.
    This worker reads its shard (`worker_shard`) of the files, shuffled per epoch with
    `shuffle_files` (hopsfs_tools.sharding: shuffle-then-shard; with `prefer_local` the
    worker keeps its local files in every epoch, in a new order each time). "native" reads the
    files one after another, as TF's TFRecordDataset does, unless `cycle_length` or
    `num_parallel_reads` is given; the others interleave `cycle_length` files (default
    min(32, files)) `block_length` records at a time, `num_parallel_reads` at once (AUTOTUNE).
    `strategy`: "native", "cache", "stream" or "auto" (`default_strategy(fs)`). `verify` checks
    CRCs in "stream" and, in "native" and "cache", names the HDFS file and offset of a bad record
    (TF checks every CRC itself, but its error names neither). In "native" on uncompressed files
    the plugin checks the records as TF reads them (in C++, no tf.data op per record); elsewhere
    the check costs CPU per record in tf.data: verify=False is faster. `prefetch` (elements;
    "auto": none for "native", AUTOTUNE for the others, whose records come from Python): TF's
    own reader gains nothing from a per-record prefetch (1 KiB records: 10-30% slower), put
    one after your `batch()`. `cache_dir` ($HOPSFS_CACHE_DIR, else the temp dir), `cache_bytes` and
    `lookahead_files` tune "cache".
    """
    tf = _tf()
    fs = _filesystem(fs)
    strategy = default_strategy(fs) if strategy == "auto" else strategy
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}: use 'auto' or one of {STRATEGIES}")
    kind = compression_of(compression)
    shard = worker_shard(shard)
    files = list_files(files_or_glob, fs)
    worker_files(files_or_glob, shard, fs, prefer_local)  # refuses a worker without files
    cycle = max(1, min(cycle_length or CYCLE_LENGTH, len(files)))
    order = _EpochFiles(files, shard, shuffle_files, seed, prefer_local, fs)
    name_spec = tf.TensorSpec((), tf.string)
    end_check = checks.compressed_end_check(fs, kind) if kind else None

    if strategy == "native":
        uri = plugin.uri_maker(fs)
        by_plugin = verify and kind is None  # the plugin checks the records (no per-record op)

        def paths() -> Iterator[tuple[str, int]]:
            for path, size in order.next():
                yield plugin.records_url(uri(path)) if by_plugin else uri(path), size

        def per_file(path: tf.Tensor, size: tf.Tensor) -> tf.data.Dataset:
            records = tf.data.TFRecordDataset(
                path, compression_type=kind or "", buffer_size=NATIVE_BUFFER_BYTES
            )
            if by_plugin or not verify:
                return records
            return checks.checked(tf, records, path, size, tf.constant(0, tf.int64), end_check)

    elif strategy == "cache":

        def paths() -> Iterator[tuple[str, int]]:
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
                # the cache closes itself once every piece is released
                for key in cache.file_keys():
                    yield key, 0
            except BaseException:  # abandoned or failed before the last file was opened
                cache.close()
                raise

        def pieces(key: bytes) -> Iterator[tuple[str, str, int, int]]:
            """(local piece, HDFS path, offset in it, size) of the file `key` names."""
            directory, index = os.path.split(os.fsdecode(key))
            cache = _CACHES.get(directory)
            if cache is not None:
                name = cache.files[int(index)].path
                for local in cache.pieces(int(index)):
                    yield local, name, int(local.rsplit("@", 1)[1]), os.path.getsize(local)

        piece_spec = (
            name_spec,
            name_spec,
            tf.TensorSpec((), tf.int64),
            tf.TensorSpec((), tf.int64),
        )

        def per_piece(local: tf.Tensor, name: tf.Tensor, base: tf.Tensor, size: tf.Tensor) -> Any:
            records = tf.data.TFRecordDataset(local, compression_type=kind or "", buffer_size=2**20)
            return checks.checked(tf, records, name, size, base, end_check) if verify else records

        def per_file(key: tf.Tensor, _: tf.Tensor) -> tf.data.Dataset:
            local_pieces = tf.data.Dataset.from_generator(
                pieces, args=(key,), output_signature=piece_spec
            )  # read one after another (a flat_map): see _LocalCache.pieces
            return local_pieces.flat_map(per_piece)

    else:

        def paths() -> Iterator[tuple[str, int]]:
            yield from order.next()

        chunk = max(2**20, min(READ_CHUNK, STREAM_BUFFER_BYTES // cycle))

        def batches(path: bytes) -> Iterator[list[bytes]]:
            name = os.fsdecode(path)
            with fs.open(name, "rb", block_size=chunk, cache_type="none") as f:
                yield from read_record_batches(
                    f, compression=kind, verify=verify, name=name, chunk_size=chunk
                )

        def per_file(path: tf.Tensor, _: tf.Tensor) -> tf.data.Dataset:
            return tf.data.Dataset.from_generator(
                batches, args=(path,), output_signature=tf.TensorSpec((None,), tf.string)
            ).unbatch()

    if strategy == "native":  # the epoch's files in one Python call (not one per file)
        names = _epoch_list(tf, paths)
    else:  # "cache" opens its cache as the files are reached, and closes it if abandoned
        names = tf.data.Dataset.from_generator(
            paths, output_signature=(name_spec, tf.TensorSpec((), tf.int64))
        )
    if num_parallel_reads == "auto" and strategy == "native" and cycle_length is None:
        dataset = names.flat_map(per_file)  # one file after another, as TF's TFRecordDataset
    else:
        parallel = AUTOTUNE if num_parallel_reads == "auto" else num_parallel_reads
        dataset = names.interleave(
            per_file,
            cycle_length=cycle,
            block_length=block_length,
            num_parallel_calls=parallel,
            deterministic=deterministic if parallel else None,
        )
    if shard[1] > 1:  # already sharded by file: distribution strategies must not reshard
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
        dataset = dataset.with_options(options)
    if prefetch == "auto":
        prefetch = None if strategy == "native" else AUTOTUNE
    return dataset.prefetch(prefetch) if prefetch else dataset


def _epoch_list(tf: Any, paths: Callable[[], Iterator[tuple[str, int]]]) -> tf.data.Dataset:
    """The (name, size) elements `paths()` yields, asked for anew each time it is iterated."""

    def epoch() -> tuple[Any, Any]:
        files = list(paths())
        return [name for name, _ in files], tf.constant([size for _, size in files], tf.int64)

    def listed(_: Any) -> tuple[Any, Any]:
        names, sizes = tf.py_function(epoch, [], (tf.string, tf.int64))
        return tf.ensure_shape(names, [None]), tf.ensure_shape(sizes, [None])

    return tf.data.Dataset.from_tensors(0).map(listed).unbatch()
