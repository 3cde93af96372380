"""`sync(src, dst)`: make a tree on one side (local disk or cluster) hold what a tree on the
other holds, copying only what is missing or differs, as `aws s3 sync` / `gsutil rsync` /
`rsync -t` do.

A file is unchanged when the target has the same size and either the same modification time
(to the millisecond; sync gives every file it copies the source's, except through libhdfs
(arrow), which sets whole seconds) or, when the times differ or `checksum=True`, the same
CRC32C of the content (fs/checksums.py: HDFS's COMPOSITE_CRC form,
the same for a local file). Copies run `workers` at a time. Each file is written under a hidden
temporary name and renamed into place (uploads: fs/upload.py; downloads: here), so a sync
killed at any point leaves only whole files visible, and running it again copies what is left.
Extras in the target are deleted only with `delete=True`: on the cluster into the trash (as
`hdfs dfs -rm`), locally for good.
"""

from __future__ import annotations

import errno
import os
import posixpath
import shutil
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.fs.checksums import local_checksum

DEFAULT_WORKERS = 8
LOCAL_TMP = ".hopsfs-sync-"  # a download in progress: .hopsfs-sync-<id>-<name>, then renamed


@dataclass(frozen=True)
class Entry:
    """A file or directory of a tree, relative to its top."""

    size: int
    mtime: int  # milliseconds since the epoch, HDFS's resolution
    is_dir: bool


@dataclass
class SyncPlan:
    """What a sync does: files to copy (relative paths, with their bytes), directories to make,
    extras to delete (with delete=True) and how many files were already equal."""

    src: str
    dst: str
    upload: bool  # local -> cluster (else cluster -> local)
    copies: list[str] = field(default_factory=list)
    size: int = 0
    dirs: list[str] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    unchanged: int = 0
    tree: bool = True  # the source is a directory (else one file)


def is_local(path: str) -> bool:
    """A local path: file://..., or a plain path that exists on the local disk."""
    return path.startswith("file://") or ("://" not in path and os.path.exists(path))


def _local_path(path: str) -> str:
    return os.path.abspath(path.removeprefix("file://"))


class _Local:
    def __init__(self, top: str) -> None:
        self.top = _local_path(top)

    def join(self, rel: str) -> str:
        return os.path.join(self.top, rel) if rel else self.top

    def tree(self) -> dict[str, Entry] | None:
        """{rel: Entry} below the top; None when missing; {"": file} for a file."""
        if not os.path.exists(self.top):
            return None
        if not os.path.isdir(self.top):
            return {"": _local_entry(os.stat(self.top), False)}
        out: dict[str, Entry] = {}
        for top, dirs, files in os.walk(self.top):
            rel = os.path.relpath(top, self.top)
            for name in dirs:
                out[os.path.normpath(os.path.join(rel, name))] = Entry(0, 0, True)
            for name in files:
                if name.startswith(LOCAL_TMP):  # a killed download's leftover (see sync)
                    continue
                path = os.path.join(top, name)
                out[os.path.normpath(os.path.join(rel, name))] = _local_entry(os.stat(path), False)
        return out

    def checksum(self, rel: str) -> str:
        return local_checksum(self.join(rel))


def _local_entry(st: os.stat_result, is_dir: bool) -> Entry:
    return Entry(st.st_size, st.st_mtime_ns // 1_000_000, is_dir)


class _Remote:
    def __init__(self, fs: HopsFileSystem, top: str) -> None:
        self.fs = fs
        self.top = fs.resolve(top)

    def join(self, rel: str) -> str:
        return posixpath.join(self.top, rel) if rel else self.top

    def tree(self) -> dict[str, Entry] | None:
        try:
            info = self.fs.info(self.top)
        except FileNotFoundError:
            return None
        if info["type"] != "directory":
            return {"": Entry(info["size"], round(info["mtime"] * 1000), False)}
        found = self.fs.find(self.top, withdirs=True, detail=True)
        return {
            name[len(self.top) :].lstrip("/"): Entry(
                i["size"], round(i.get("mtime", 0) * 1000), i["type"] == "directory"
            )
            for name, i in found.items()
            if name != self.top
        }

    def checksum(self, rel: str) -> str:
        return self.fs.checksum(self.join(rel))


def plan_sync(
    src: str,
    dst: str,
    *,
    fs: HopsFileSystem | None = None,
    delete: bool = False,
    checksum: bool = False,
    workers: int = DEFAULT_WORKERS,
) -> SyncPlan:
    """What `sync(src, dst)` would do (nothing is changed): see the module docstring."""
    fs = fs or HopsFileSystem()
    source, target, upload = _sides(fs, src, dst)
    have = source.tree()
    if have is None:
        raise FileNotFoundError(errno.ENOENT, f"{src}: No such file or directory", src)
    there = target.tree() or {}
    src_is_dir = "" not in have
    if src_is_dir and "" in there:
        raise NotADirectoryError(
            errno.ENOTDIR,
            f"cannot sync directory {source.top} onto file {target.top}: "
            "give a directory path as the target (or delete the file first)",
            target.top,
        )
    if not src_is_dir and there and "" not in there:
        raise IsADirectoryError(
            errno.EISDIR,
            f"cannot sync file {source.top} onto directory {target.top}: "
            f"give the file's path, e.g. {target.join(os.path.basename(source.top))}",
            target.top,
        )
    plan = SyncPlan(source.top, target.top, upload, tree=src_is_dir)
    suspects = []
    for rel, entry in sorted(have.items()):
        other = there.get(rel)
        if entry.is_dir:
            if other is None:
                plan.dirs.append(rel)
            continue
        if other is None or other.is_dir or other.size != entry.size:
            plan.copies.append(rel)
        elif checksum or other.mtime != entry.mtime:
            suspects.append(rel)
        else:
            plan.unchanged += 1
    with ThreadPoolExecutor(max(1, workers)) as pool:
        differs = list(pool.map(lambda r: source.checksum(r) != target.checksum(r), suspects))
    for rel, changed in zip(suspects, differs, strict=True):
        if changed:
            plan.copies.append(rel)
        else:
            plan.unchanged += 1
    plan.copies.sort()
    plan.size = sum(have[rel].size for rel in plan.copies)
    if delete:
        extras = sorted(rel for rel in there if rel and rel not in have)
        plan.deletes = [r for r in extras if posixpath.dirname(r) not in extras]  # tops only
    return plan


def sync(
    src: str,
    dst: str,
    *,
    fs: HopsFileSystem | None = None,
    delete: bool = False,
    dry_run: bool = False,
    checksum: bool = False,
    workers: int = DEFAULT_WORKERS,
    progress: Callable[[int], Any] | None = None,
) -> SyncPlan:
    """Copy to `dst` what is missing there or differs from `src` (local disk <-> cluster, either
    way; "file://..." or an existing local path is local, anything else a cluster path); with
    `delete`, remove what `dst` has beyond `src`. `progress(nbytes)` is called as bytes are
    copied. Returns the plan carried out (with `dry_run`: only planned)."""
    fs = fs or HopsFileSystem()
    plan = plan_sync(src, dst, fs=fs, delete=delete, checksum=checksum, workers=workers)
    if dry_run:
        return plan
    source, target, upload = _sides(fs, src, dst)
    if not upload and os.path.isdir(target.top):
        _drop_leftovers(target.top)
    for rel in [""] * plan.tree + plan.dirs:
        _makedirs(fs, target, upload, rel)

    def copy(rel: str) -> None:
        if upload:
            stat = os.stat(source.join(rel))
            fs.makedirs(posixpath.dirname(target.join(rel)), exist_ok=True)
            fs.put_file(source.join(rel), target.join(rel))
            # a quarter millisecond past: clients that truncate and clients that round both
            # store the source's millisecond
            mtime = (stat.st_mtime_ns // 1_000_000 + 0.25) / 1000
            fs.client.call("set_times", target.join(rel), mtime=mtime)
            size = stat.st_size
        else:
            info = fs.info(source.join(rel))
            _download(fs, source.join(rel), target.join(rel), round(info["mtime"] * 1000))
            size = info["size"]
        if progress:
            progress(size)

    with ThreadPoolExecutor(max(1, workers)) as pool:
        list(pool.map(copy, plan.copies))
    for rel in plan.deletes:
        path = target.join(rel)
        if upload:
            fs.rm(path, recursive=True, trash=True)
        elif os.path.isdir(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
    return plan


def _sides(fs: HopsFileSystem, src: str, dst: str) -> tuple[Any, Any, bool]:
    """(source side, target side, upload?) of a sync; ValueError unless exactly one is local:
    the source when is_local(src), else the target (which must then have no cluster scheme)."""
    if is_local(src):
        if dst.startswith("file://"):
            raise ValueError(
                f"sync copies between the local disk and the cluster: {src} and {dst} are both "
                "local (write the cluster side as hdfs://... or hopsfs://...)"
            )
        return _Local(src), _Remote(fs, dst), True
    if "://" in dst and not dst.startswith("file://"):
        raise ValueError(
            f"sync copies between the local disk and the cluster: {src} and {dst} are both on "
            "the cluster (or the local source does not exist)"
        )
    return _Remote(fs, src), _Local(dst), False


def _makedirs(fs: HopsFileSystem, target: Any, upload: bool, rel: str) -> None:
    if upload:
        fs.makedirs(target.join(rel), exist_ok=True)
    else:
        os.makedirs(target.join(rel), exist_ok=True)


def _drop_leftovers(top: str) -> None:
    """Delete the temporaries of downloads a killed sync left below `top` (only ours)."""
    for folder, _, files in os.walk(top):
        for name in files:
            if name.startswith(LOCAL_TMP):
                os.remove(os.path.join(folder, name))


def _download(fs: HopsFileSystem, remote: str, local: str, mtime_ms: int) -> None:
    """Write `remote` to a hidden temporary file beside `local` with modification time
    `mtime_ms`, then rename it into place."""
    folder = os.path.dirname(local)
    os.makedirs(folder, exist_ok=True)
    temp = os.path.join(folder, f"{LOCAL_TMP}{uuid.uuid4().hex[:12]}-{os.path.basename(local)}")
    try:
        fs.get_file(remote, temp)
        os.utime(temp, ns=(mtime_ms * 1_000_000, mtime_ms * 1_000_000))
        os.replace(temp, local)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


__all__ = ["SyncPlan", "is_local", "plan_sync", "sync"]
