"""Which files each reader reads: one `list_files`, one epoch order, and disjoint, complete and
deterministic shards of a file list, shared by the TensorFlow and PyTorch adapters.

Every reader of one epoch agrees on the order before taking its share: the shuffle seed is the
same on all of them (`seed * 1_000_003 + epoch`), then shuffle-then-shard. A worker is
`(index, count)`: from TF_CONFIG, from HOPSFS_SHARD_INDEX/HOPSFS_SHARD_COUNT, or explicit.
With block locations (`fs.block_locations`), files are assigned so that each worker prefers
files whose blocks live on its own host, while shards stay balanced by bytes.
"""

from __future__ import annotations

import json
import os
import posixpath
import random
import socket
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any, Protocol, TypeVar

from hopsfs_tools.config import settings
from hopsfs_tools.fs import HopsFileSystem

INDEX_ENV = "HOPSFS_SHARD_INDEX"
COUNT_ENV = "HOPSFS_SHARD_COUNT"
BALANCE_TOLERANCE = 0.1  # a worker takes a local file while its bytes stay within avg * (1 + this)
_LOOKUP_THREADS = 16


class HasBlockLocations(Protocol):
    """What locality needs from a filesystem (HopsFileSystem has it)."""

    def block_locations(self, path: str) -> list[Any]: ...


def shard_files(
    files: Iterable[str],
    index: int,
    count: int,
    *,
    prefer_local: bool = False,
    fs: HasBlockLocations | None = None,
    hosts_by_worker: Sequence[str] | None = None,
) -> list[str]:
    """The files of worker `index` of `count`: sorted files round-robin, or by block locality.

    Every worker must pass the same `files` (in any order) to get disjoint shards that together
    cover all files. `prefer_local=True` assigns with `locality_assignment(fs, files, hosts)`,
    where `hosts_by_worker` defaults to the worker hosts in TF_CONFIG.
    """
    check_shard(index, count, "shard_files(index, count)")
    if not prefer_local:
        return _unique_sorted(files)[index::count]
    if fs is None:
        raise ValueError("shard_files(prefer_local=True) needs fs= to look up block locations")
    hosts = list(hosts_by_worker) if hosts_by_worker is not None else worker_hosts_from_env()
    if hosts is None or len(hosts) != count:
        raise ValueError(
            f"shard_files(prefer_local=True) needs one host per worker ({count}); got "
            f"{hosts!r}: pass hosts_by_worker=[host of worker 0, ...] or set TF_CONFIG"
        )
    return locality_assignment(fs, files, hosts)[index]


def locality_assignment(
    fs: HasBlockLocations,
    files: Iterable[str],
    hosts_by_worker: Sequence[str],
    tolerance: float = BALANCE_TOLERANCE,
) -> list[list[str]]:
    """Files per worker, preferring files whose blocks live on the worker's host.

    A host is a datanode hostname or IP as `fs.block_locations` reports it (all datanodes on that
    machine count), or a datanode "host:port" name (that one datanode; needs `names` in the block
    locations, as WebHDFS reports them). Largest files first, each goes to the worker holding
    most of its bytes that stays within the average load times (1 + `tolerance`); files left
    over then go to the least-loaded workers. Each worker's list starts with its local files.
    Deterministic: workers that see the same block placement compute the same assignment.
    """
    if not hosts_by_worker:
        raise ValueError("locality_assignment needs hosts_by_worker: one host per worker")
    paths = _unique_sorted(files)
    aliases = [_aliases(h) for h in hosts_by_worker]
    with ThreadPoolExecutor(max(1, min(_LOOKUP_THREADS, len(paths)))) as pool:
        blocks = list(pool.map(fs.block_locations, paths))
    sizes = {p: max(1, sum(int(b["length"]) for b in bl)) for p, bl in zip(paths, blocks)}
    local = {p: [_local_bytes(bl, a) for a in aliases] for p, bl in zip(paths, blocks)}
    n = len(aliases)
    limit = sum(sizes.values()) / n * (1 + tolerance)
    load = [0] * n
    shards: list[list[str]] = [[] for _ in range(n)]

    def place(path: str, worker: int) -> None:
        shards[worker].append(path)
        load[worker] += sizes[path]

    remote = []
    for path in sorted(paths, key=lambda p: (-sizes[p], p)):  # first pass: local placements
        ranked = sorted(range(n), key=lambda w: (-local[path][w], load[w], w))
        room = [w for w in ranked if local[path][w] and load[w] + sizes[path] <= limit]
        if room or (local[path][ranked[0]] and not load[ranked[0]]):
            place(path, room[0] if room else ranked[0])
        else:
            remote.append(path)
    for path in remote:  # second pass: the rest to the least-loaded workers
        place(path, min(range(n), key=lambda w: (load[w], w)))
    return [sorted(s, key=lambda p, w=w: (-local[p][w], p)) for w, s in enumerate(shards)]


def shard_from_env() -> tuple[int, int] | None:
    """(index, count) of this worker: TF_CONFIG's task among its chief+worker tasks, else
    HOPSFS_SHARD_INDEX/HOPSFS_SHARD_COUNT; None when neither is set (or for non-worker tasks)."""
    spec = _tf_config()
    if spec is not None:
        cluster, task = spec
        workers = cluster.get("chief", []) + cluster.get("worker", [])
        kind, index = task.get("type"), task.get("index", 0)
        if kind not in ("chief", "worker") or not workers:
            return None  # evaluators and parameter servers read no training shard
        if not isinstance(index, int):
            raise ValueError(f"TF_CONFIG task.index must be an integer, got {index!r}")
        position = index + (len(cluster.get("chief", [])) if kind == "worker" else 0)
        check_shard(position, len(workers), f"TF_CONFIG task {kind}:{index}")
        return position, len(workers)
    raw_index, raw_count = settings.env(INDEX_ENV), settings.env(COUNT_ENV)
    if raw_index is None and raw_count is None:
        return None
    if raw_index is None or raw_count is None:
        missing = INDEX_ENV if raw_index is None else COUNT_ENV
        raise ValueError(f"{missing} is not set: set both {INDEX_ENV} and {COUNT_ENV}, or neither")
    index, count = _env_int(INDEX_ENV, raw_index), _env_int(COUNT_ENV, raw_count)
    check_shard(index, count, f"{INDEX_ENV}={raw_index}, {COUNT_ENV}={raw_count}")
    return index, count


def worker_hosts_from_env() -> list[str] | None:
    """The host of each worker in TF_CONFIG (chief first), or None without TF_CONFIG."""
    spec = _tf_config()
    if spec is None:
        return None
    cluster, _ = spec
    addresses = cluster.get("chief", []) + cluster.get("worker", [])
    return [a.rsplit(":", 1)[0].strip("[]") for a in addresses]


def _tf_config() -> tuple[dict[str, list[str]], dict[str, Any]] | None:
    """(cluster, task) of $TF_CONFIG, or None when unset or without a cluster."""
    raw = settings.env("TF_CONFIG")
    if not raw:
        return None
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as e:
        raise ValueError(f"TF_CONFIG is not valid JSON ({e}): set it as TensorFlow expects") from e
    if not isinstance(config, dict) or not config.get("cluster"):
        return None
    return config["cluster"], config.get("task") or {}


def _env_int(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not an integer: set it to a worker number") from None


def check_shard(index: int, count: int, what: str) -> None:
    """ValueError naming `what` unless 0 <= index < count."""
    if count < 1:
        raise ValueError(f"{what}: the worker count must be at least 1, got {count}")
    if not 0 <= index < count:
        raise ValueError(f"{what}: the worker index must be in [0, {count}), got {index}")


def _unique_sorted(files: Iterable[str]) -> list[str]:
    if isinstance(files, str):
        raise TypeError(f"expected a list of file paths, got the string {files!r}")
    return sorted(set(files))


def _local_bytes(blocks: list[Any], aliases: frozenset[str]) -> int:
    """Bytes of the blocks with a replica on a host (or datanode name) in `aliases`."""
    return sum(
        int(b["length"])
        for b in blocks
        if aliases.intersection(h.lower() for h in [*b.get("hosts", []), *b.get("names", [])])
    )


@lru_cache(maxsize=1024)
def _aliases(host: str) -> frozenset[str]:
    """A worker host and its IP address ("host:port" datanode names stay exact)."""
    host = host.strip().lower()
    if ":" in host:
        return frozenset([host])
    try:
        return frozenset([host, socket.gethostbyname(host)])
    except OSError:
        return frozenset([host])


# -- files of a training reader, per epoch -------------------------------------------------------
T = TypeVar("T")
HIDDEN_PREFIXES = (".", "_")  # in-progress writes (.name.hopsfs-tmp-...), _SUCCESS markers
FilesOrGlob = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]


def list_files(
    files_or_glob: FilesOrGlob, fs: HopsFileSystem | None = None
) -> list[tuple[str, int]]:
    """(absolute path, size) of each file named, matched by a glob, or in a named directory.

    Globs and directories skip hidden names (starting with "." or "_") unless the glob's own
    name starts so; FileNotFoundError names a pattern that matches no file.
    """
    fs = fs if fs is not None else HopsFileSystem()
    items = [files_or_glob] if isinstance(files_or_glob, (str, os.PathLike)) else files_or_glob
    found: dict[str, int] = {}
    for item in items:
        text = os.fspath(item)
        hidden = posixpath.basename(text).startswith(HIDDEN_PREFIXES)
        if any(c in text for c in "*?["):
            infos = list(fs.glob(text, detail=True).values())
        else:
            infos = [fs.info(text)]
            if infos[0]["type"] == "directory":
                infos, hidden = fs.ls(text), False
        infos = [
            i
            for i in infos
            if hidden or not posixpath.basename(i["name"]).startswith(HIDDEN_PREFIXES)
        ]
        matches = sorted((fs.resolve(i["name"]), i["size"]) for i in infos if i["type"] == "file")
        if not matches:
            raise FileNotFoundError(f"no files match {text!r} (resolved {fs.resolve(text)})")
        found.update(matches)
    return list(found.items())


def epoch_order(items: Sequence[T], epoch: int, shuffle: bool, seed: int | None) -> list[T]:
    """`items` in the order of `epoch`: as given, or shuffled by `seed` and the epoch (a random
    order each time when `seed` is None)."""
    order = list(items)
    if shuffle:
        random.Random(None if seed is None else seed * 1_000_003 + epoch).shuffle(order)
    return order


def epoch_shard(
    files: Sequence[str],
    shard: tuple[int, int],
    epoch: int,
    *,
    shuffle: bool = False,
    seed: int | None = None,
    prefer_local: bool = False,
    fs: HopsFileSystem | None = None,
) -> list[str]:
    """The files reader `shard` reads in `epoch`: shuffle-then-shard (every reader shuffles
    alike, then takes every count-th file), or without shuffling shard_files (round
    robin over the sorted files, or by block locality with `prefer_local`). With both
    `prefer_local` and `shuffle`, locality decides which files are the reader's (the same in
    every epoch) and `shuffle` their order in each epoch."""
    index, count = shard
    check_shard(index, count, f"shard {shard}")
    if not shuffle or prefer_local:
        mine = shard_files(files, index, count, prefer_local=prefer_local, fs=fs)
        return epoch_order(mine, epoch, shuffle, seed)
    if seed is None and count > 1:
        seed = 0  # readers must agree on the order, or files are read twice or never
    return epoch_order(sorted(set(files)), epoch, True, seed)[index::count]


__all__ = [
    "COUNT_ENV",
    "HIDDEN_PREFIXES",
    "INDEX_ENV",
    "FilesOrGlob",
    "check_shard",
    "epoch_order",
    "epoch_shard",
    "list_files",
    "locality_assignment",
    "shard_files",
    "shard_from_env",
    "worker_hosts_from_env",
]
