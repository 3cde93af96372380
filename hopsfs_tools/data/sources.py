"""Which files a training reader reads, framework-free: one `list_files`, one epoch order and one
shuffle-then-shard, used by hopsfs_tools.tensorflow and hopsfs_tools.torch alike.

A shard is `(index, count)`: this reader's place among all readers of the job (TF workers, or
torch ranks x DataLoader workers). Every reader of one epoch must agree on the order before
taking its share, so the shuffle seed is the same on all of them: `seed * 1_000_003 + epoch`.
"""

from __future__ import annotations

import os
import posixpath
import random
from collections.abc import Iterable, Sequence
from typing import TypeVar

from hopsfs_tools import sharding
from hopsfs_tools.fs import HopsFileSystem

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
    alike, then takes every count-th file), or without shuffling sharding.shard_files (round
    robin over the sorted files, or by block locality with `prefer_local`). With both
    `prefer_local` and `shuffle`, locality decides which files are the reader's (the same in
    every epoch) and `shuffle` their order in each epoch."""
    index, count = shard
    sharding.check_shard(index, count, f"shard {shard}")
    if not shuffle or prefer_local:
        mine = sharding.shard_files(files, index, count, prefer_local=prefer_local, fs=fs)
        return epoch_order(mine, epoch, shuffle, seed)
    if seed is None and count > 1:
        seed = 0  # readers must agree on the order, or files are read twice or never
    return epoch_order(sorted(set(files)), epoch, True, seed)[index::count]


__all__ = ["HIDDEN_PREFIXES", "epoch_order", "epoch_shard", "list_files"]
